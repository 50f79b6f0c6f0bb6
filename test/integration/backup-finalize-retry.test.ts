import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { backupServiceDeps, createBackup } from '../../lib/backup/service';
import type { SkiffConfig } from '../../lib/config';
import { storeResolver } from '../../lib/store/resolver';
import type { KubeClient } from '../../lib/kube/client';
import { freshNamespace } from '../bed/context';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { bedConfig, clusterClient, exists, observedDeps } from './backup-helpers';

/**
 * The end of a backup when the object store's answers go missing: velero-backup.json is
 * written but the answer is lost (the SDK's retry then meets If-None-Match), or the
 * progress record cannot be removed after it. The backup is complete and visible, so it
 * must end Completed with its record gone, never Failed beside its own velero-backup.json
 * (found by the chaos runs, seed 20261204, lifecycle 390320333: a Failed record next to
 * a Completed backup, which expiry then kept forever as "being finalized").
 */

let config: SkiffConfig;
let bucket: string;
let alpha: KubeClient;
let proxy: FaultProxy;
let throughProxy: SkiffConfig;
let namespace: string;

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('finalize-retry'));
  alpha = await clusterClient(config, 'alpha');
  const location = config.storageLocations[0]!;
  proxy = await startFaultProxy({ upstream: location.endpoint! });
  throughProxy = { ...config, storageLocations: [{ ...location, endpoint: proxy.url }] };
  namespace = await freshNamespace('alpha', 'finalize');
  await alpha.create(`/api/v1/namespaces/${namespace}/configmaps`, { metadata: { name: 'settings' }, data: { a: '1' } });
}, 60_000);

afterAll(async () => {
  alpha?.close();
  await proxy?.close();
});

/** The first request that matches, once. */
function once(match: (method: string, path: string) => boolean): (method: string, path: string) => boolean {
  let used = false;
  return (method, path) => {
    if (used || !match(method, path)) return false;
    used = true;
    return true;
  };
}

const recordKey = (name: string) => `metadata/skiff/backups-in-progress/${name}.json`;

describe('A backup whose last writes lose their answers', () => {
  it('is Completed when the answer to velero-backup.json is lost and the retry finds it written', async () => {
    const { name } = await createBackup(backupServiceDeps(throughProxy), { cluster: 'alpha', name: `${namespace}-lost`, includedNamespaces: [namespace] });
    proxy.inject({ kind: 'lose-answer' }, 60_000, once((method, path) => method === 'PUT' && path.includes(`${name}/velero-backup.json`)));
    const { deps } = await observedDeps(throughProxy, name, () => 600_000);
    expect(await runBackup(deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
    proxy.clear();
    expect(proxy.faulted).toBeGreaterThan(0);
    expect((await storeResolver(config)('default').getBackupMetadata(name))?.status.phase).toBe('Completed');
    expect(await exists(bucket, recordKey(name))).toBe(false);
  });

  it('is Completed when its progress record cannot be removed, and the next invocation removes it', async () => {
    const { name } = await createBackup(backupServiceDeps(throughProxy), { cluster: 'alpha', name: `${namespace}-kept`, includedNamespaces: [namespace] });
    proxy.inject({ kind: 'status', status: 503 }, 60_000, (method, path) => method === 'DELETE' && path.includes(recordKey(name)));
    const first = await observedDeps(throughProxy, name, () => 600_000);
    expect(await runBackup(first.deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
    proxy.clear();
    const stored = storeResolver(config)('default');
    const metadata = await stored.headObject(stored.layout.backupMetadataKey(name));
    expect((await stored.getProgress(name))?.record).toMatchObject({ stage: 'Finalizing' });
    // The reconcile schedule starts it again once the first invocation's lease ran out.
    const next = await observedDeps(throughProxy, name, () => 600_000, { now: () => new Date(Date.now() + 20 * 60_000) });
    expect(await runBackup(next.deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
    expect(await exists(bucket, recordKey(name))).toBe(false);
    // Written once: the second invocation only removed the record.
    expect((await stored.headObject(stored.layout.backupMetadataKey(name)))?.etag).toBe(metadata?.etag);
    expect((await stored.getBackupMetadata(name))?.status.phase).toBe('Completed');
  });
});
