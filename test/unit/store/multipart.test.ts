import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/core/errors';
import { MIN_PART_SIZE } from '../../../lib/store/limits';
import { missingParts, parseMultipartState, partListIssues, type UploadedPart } from '../../../lib/store/multipart';

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

describe('Function: missingParts', () => {
  it('lists recorded parts that are missing or were replaced', () => {
    const recorded = [part(1), part(2), part(3)];
    const stored = [part(1), part(2, MIN_PART_SIZE, '"other"'), part(4)];
    expect(missingParts(recorded, stored).map((p) => p.partNumber)).toEqual([2, 3]);
  });

  it('ignores parts stored after the state was saved', () => {
    expect(missingParts([part(1)], [part(1), part(2)])).toEqual([]);
  });
});

describe('Function: parseMultipartState', () => {
  it('reads back a state that went through JSON', () => {
    const state = { key: 'backups/b/b.tar.gz', uploadId: 'u-1', parts: [part(1), part(2, 42)] };
    expect(parseMultipartState(JSON.parse(JSON.stringify(state)))).toEqual(state);
  });

  it('throws a ValidationError naming the damaged fields', () => {
    const error = (() => {
      try {
        parseMultipartState({ key: '', uploadId: 'u', parts: [{ partNumber: 0, etag: 'e', size: 1 }] });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path).sort()).toEqual(['key', 'parts.0.partNumber']);
  });
});
