import { describe, expect, it, vi } from 'vitest';
import { storageLocationSchema } from '../../../lib/config/schema';
import { checksumModeFor, createS3Client } from '../../../lib/store/s3-client';

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

describe('Function: createS3Client', () => {
  it("uses the default AWS credential chain for a location without credentials: on Lambda, the function's role", async () => {
    // Prepare: Lambda hands the role's session to the function in these variables.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAROLESESSIONKEY');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'role-session-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'role-session-token');
    const location = storageLocationSchema.parse({ name: 'default', bucket: 'skiff-backups', region: 'eu-west-1' });

    // Act
    const client = createS3Client(location);
    const credentials = await client.s3.config.credentials();

    // Assess
    expect(credentials).toMatchObject({ accessKeyId: 'ASIAROLESESSIONKEY', secretAccessKey: 'role-session-secret', sessionToken: 'role-session-token' });
    vi.unstubAllEnvs();
  });
});
