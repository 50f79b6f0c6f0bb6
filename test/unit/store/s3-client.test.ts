import { describe, expect, it } from 'vitest';
import { checksumModeFor } from '../../../lib/store/s3-client';

describe('Function: checksumModeFor', () => {
  it.each([
    [{}, 'WHEN_SUPPORTED'],
    [{ endpoint: 'http://127.0.0.1:9000' }, 'WHEN_REQUIRED'],
    [{ endpoint: 'https://minio.example.com', checksumMode: 'WHEN_SUPPORTED' as const }, 'WHEN_SUPPORTED'],
    [{ checksumMode: 'WHEN_REQUIRED' as const }, 'WHEN_REQUIRED'],
  ])('chooses %o -> %s', (location, mode) => {
    expect(checksumModeFor(location)).toBe(mode);
  });
});
