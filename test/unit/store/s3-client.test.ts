import { createServer, type Socket } from 'node:net';
import { GetObjectCommand } from '@aws-sdk/client-s3';
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

  it('fails a request to a store that accepts the connection and never answers, instead of waiting forever', async () => {
    // Prepare: a server that takes connections and says nothing.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const location = storageLocationSchema.parse({
      name: 'silent',
      bucket: 'silent-store',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    });
    const { s3 } = createS3Client(location, {}, { connectionTimeout: 200, socketTimeout: 300 });

    // Act
    const answer = await s3.send(new GetObjectCommand({ Bucket: 'silent-store', Key: 'k' })).then(
      () => 'answered',
      (error: Error) => error.name,
    );

    // Assess
    expect(answer).toMatch(/TimeoutError/);
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
});
