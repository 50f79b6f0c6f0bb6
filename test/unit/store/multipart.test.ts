import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/core/errors';
import { MIN_PART_SIZE } from '../../../lib/store/limits';
import { partListIssues, type UploadedPart } from '../../../lib/store/multipart';

const part = (partNumber: number, size = MIN_PART_SIZE, etag = `"etag-${partNumber}"`): UploadedPart => ({ partNumber, etag, size });

describe('Function: partListIssues', () => {
  it.each<[string, UploadedPart[], string[]]>([
    ['one small part', [part(1, 10)], []],
    ['full parts and a small last one, in any order', [part(3, 1), part(1), part(2)], []],
    ['no parts', [], ['parts']],
    ['a small part before the last', [part(1, 10), part(2)], ['parts.0.size']],
    ['a repeated part number', [part(1), part(1)], ['parts.1.partNumber']],
    ['a part number above 10,000', [part(1), part(10_001)], ['parts.1.partNumber']],
    ['a part number of 0', [part(0), part(1)], ['parts.0.partNumber']],
  ])('finds the problems of %s', (_, parts, paths) => {
    expect(partListIssues(parts).map((issue) => issue.path)).toEqual(paths);
  });
});
