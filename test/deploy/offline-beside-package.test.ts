import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOffline, type OfflineStack } from '../bed/offline';
import { runServerless } from './serverless';

/**
 * `serverless package` beside a serving `serverless offline` (as `npm start` runs it):
 * each command builds in a folder of its own, so packaging never removes the bundles
 * the local stack serves (they shared `.esbuild/`, and every call then answered 401).
 */
const TOKEN = 'deploy-test-token-0123456789';
const logDir = mkdtempSync(join(tmpdir(), 'skiff-offline-'));
const packageDir = mkdtempSync(join(tmpdir(), 'skiff-package-'));
let offline: OfflineStack;

beforeAll(async () => {
  offline = await startOffline({
    config: { api: { bearerTokens: [TOKEN] }, storageLocations: [{ name: 'default', bucket: 'skiff-backups' }] },
    logDir,
  });
});
afterAll(async () => {
  await offline?.stop();
  rmSync(logDir, { recursive: true, force: true });
  rmSync(packageDir, { recursive: true, force: true });
});

async function storageLocations(): Promise<{ status: number; body: string }> {
  const response = await fetch(`${offline.httpUrl}/storage-locations`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: response.status, body: await response.text() };
}

describe('serverless package beside serverless offline', () => {
  it('leaves the local stack answering as before', async () => {
    // Prepare
    const before = await storageLocations();
    expect(before.status, before.body).toBe(200);

    // Act
    const run = await runServerless(['package', '--package', packageDir]);

    // Assess
    expect(run.code, run.output).toBe(0);
    expect(await storageLocations()).toEqual(before);
  });
});
