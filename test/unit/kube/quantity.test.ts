import { describe, expect, it } from 'vitest';
import { formatBinaryQuantity } from '../../../lib/kube/quantity';

describe('Module: kube/quantity', () => {
  // Values as resource.NewQuantity(n, resource.BinarySI).String() prints them.
  it.each([
    [0, '0'],
    [512, '512'],
    [1023, '1023'],
    [1024, '1Ki'],
    [1536, '1536'],
    [3 * 1024 * 1024, '3Mi'],
    [1073741824, '1Gi'],
    [10737418241, '10737418241'],
    [5 * 2 ** 40, '5Ti'],
    [2n ** 62n, '4Ei'],
    [-2048, '-2Ki'],
  ])('formats %s bytes as %s', (bytes, text) => {
    expect(formatBinaryQuantity(bytes)).toBe(text);
  });
});
