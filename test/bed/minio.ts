import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Binaries } from './paths';
import { freePorts } from './ports';
import { awaitReady, type Supervisor } from './processes';
import type { BedState } from './state';

/** One MinIO server for all tests; each test isolates itself in a bucket of its own. */
export async function startMinio(options: {
  dataDir: string;
  binaries: Binaries;
  supervisor: Supervisor;
}): Promise<BedState['minio']> {
  mkdirSync(options.dataDir, { recursive: true });
  const ports = await freePorts('api', 'console');
  const endpoint = `http://127.0.0.1:${ports.api}`;
  const accessKey = `bed-${randomBytes(6).toString('hex')}`;
  const secretKey = randomBytes(24).toString('base64url');
  const minio = options.supervisor.start(
    'minio',
    options.binaries.minio,
    // The console is off, but MinIO still reserves its port: keep it on loopback too.
    ['server', '--quiet', '--address', `127.0.0.1:${ports.api}`, '--console-address', `127.0.0.1:${ports.console}`, options.dataDir],
    // Credentials go through the environment, not the command line others can read.
    { env: { MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off' } },
  );
  await awaitReady(minio, `${endpoint}/minio/health/live`, async () => (await fetch(`${endpoint}/minio/health/live`)).ok, 30_000);
  return { endpoint, accessKey, secretKey, region: 'us-east-1' };
}
