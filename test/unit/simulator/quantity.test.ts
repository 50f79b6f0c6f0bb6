import { describe, expect, it } from 'vitest';
import { formatBytes, parseQuantity } from '../../bed/simulator/quantity';

describe('parseQuantity', () => {
  it('reads binary and decimal suffixes', () => {
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('512Mi')).toBe(512 * 2 ** 20);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('1500k')).toBe(1_500_000);
    expect(parseQuantity('1073741824')).toBe(2 ** 30);
  });

  it('reads fractions and exponents, rounding up to whole bytes', () => {
    expect(parseQuantity('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('1500m')).toBe(2);
  });

  it('refuses malformed text', () => {
    expect(parseQuantity('1 Gi')).toBeUndefined();
    expect(parseQuantity('Gi')).toBeUndefined();
    expect(parseQuantity('-1Gi')).toBeUndefined();
    expect(parseQuantity(undefined)).toBeUndefined();
  });
});

describe('formatBytes', () => {
  it('uses the largest binary suffix that divides the size', () => {
    expect(formatBytes(2 ** 30)).toBe('1Gi');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1536Mi');
    expect(formatBytes(1000)).toBe('1000');
  });

  it('round-trips with parseQuantity', () => {
    for (const text of ['1Gi', '10Mi', '3Ki', '12345']) expect(formatBytes(parseQuantity(text)!)).toBe(text);
  });
});
