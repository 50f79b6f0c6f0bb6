import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { getBackup } from '../../lib/backup/service';
import { backupServiceDeps } from '../../lib/backup/service';
import type { SkiffConfig } from '../../lib/config';
import type { KubeClient } from '../../lib/kube/client';
import { listAll } from '../../lib/kube/list-all';
import { freshNamespace, waitFor } from '../bed/context';
import { bedConfig, clusterClient, getBytes, getGzipJson, observedDeps, requestBackup, tarEntries } from './backup-helpers';

/**
 * A namespace being deleted (held in Terminating by finalizers on its objects) is left
 * out of a backup whole, with one warning: no objects, no VolumeSnapshot attempted there
 * (Velero #8888 — creating one is Forbidden and made the backup PartiallyFailed).
 */

const HOLD = 'example.com/hold';
let config: SkiffConfig;
let bucket: string;
let client: KubeClient;
let terminating: string;
let active: string;

async function releaseFinalizers(namespace: string): Promise<void> {
  for (const kind of ['configmaps', 'persistentvolumeclaims']) {
    for (const item of await listAll(client, `/api/v1/namespaces/${namespace}/${kind}`)) {
      const held = (item.metadata.finalizers as string[] | undefined) ?? [];
      if (!held.includes(HOLD)) continue;
      const finalizers = held.filter((f) => f !== HOLD);
      await client.patch(`/api/v1/namespaces/${namespace}/${kind}/${item.metadata.name}`, { metadata: { finalizers } }, 'merge').catch(() => undefined);
    }
  }
}

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('backup-terminating'));
  client = await clusterClient(config);
  [terminating, active] = [await freshNamespace('alpha', 'term'), await freshNamespace('alpha', 'term-live')];
  for (const namespace of [terminating, active]) {
    await client.create(`/api/v1/namespaces/${namespace}/configmaps`, { metadata: { name: 'settings', finalizers: [HOLD] }, data: { k: 'v' } });
    await client.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
      metadata: { name: 'data', finalizers: [HOLD] },
      spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    await waitFor(
      async () => (await listAll(client, `/api/v1/namespaces/${namespace}/persistentvolumeclaims`)).every((c) => (c.status as { phase?: string }).phase === 'Bound'),
      { what: `the PVC of ${namespace} to be bound`, timeoutMs: 90_000 },
    );
  }
  await client.delete(`/api/v1/namespaces/${terminating}`);
  await waitFor(
    async () => ((await client.get<{ status?: { phase?: string } }>(`/api/v1/namespaces/${terminating}`)).status?.phase === 'Terminating'),
    { what: `namespace ${terminating} to be Terminating` },
  );
}, 180_000);

afterAll(async () => {
  for (const namespace of [terminating, active]) if (namespace) await releaseFinalizers(namespace);
  client?.close();
});

describe('a Terminating namespace', () => {
  it('is left out whole, with one warning naming it, while the namespace next to it is backed up', async () => {
    const name = await requestBackup(config, {
      cluster: 'alpha',
      includedNamespaces: [terminating, active],
      annotations: { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-delete' },
    });
    const { deps } = await observedDeps(config, name, () => 600_000);

    expect(await runBackup(deps, name)).toMatchObject({ state: 'completed', phase: 'Completed' });

    const paths = (await tarEntries(await getBytes(bucket, `backups/${name}/${name}.tar.gz`))).map((e) => e.name);
    expect(paths.filter((p) => p.includes(`/${terminating}/`) || p.endsWith(`/${terminating}.json`))).toEqual([]);
    expect(paths).toContain(`resources/configmaps/namespaces/${active}/settings.json`);
    const results = await getGzipJson<{ errors: { namespaces?: object }; warnings: { namespaces: Record<string, string[]> } }>(
      bucket,
      `backups/${name}/${name}-results.gz`,
    );
    expect(results.errors.namespaces ?? {}).toEqual({});
    expect(results.warnings.namespaces[terminating]).toEqual([
      `namespace ${terminating} is being deleted (Terminating); nothing of it is backed up or snapshotted`,
    ]);
    expect(await listAll(client, `/apis/snapshot.storage.k8s.io/v1/namespaces/${terminating}/volumesnapshots`)).toEqual([]);
    const backup = await getBackup(backupServiceDeps(config), name);
    expect(backup.status).toMatchObject({ csiVolumeSnapshotsAttempted: 1, csiVolumeSnapshotsCompleted: 1 });
  });
});
