import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import type { SkiffConfig } from '../../lib/config';
import { systemClock } from '../../lib/core/clock';
import type { KubeClient } from '../../lib/kube/client';
import { clusterConnector } from '../../lib/kube/connect';
import type { KubeObject } from '../../lib/kube/list-all';
import { runRestore } from '../../lib/restore/run-restore';
import { createRestore, getRestore, restoreServiceDeps } from '../../lib/restore/service';
import { storeResolver } from '../../lib/store/resolver';
import { bedState, freshNamespace, ledger, uniqueName, waitFor } from '../bed/context';
import { startVelero, veleroLogTail, type VeleroPeer } from '../bed/velero';
import { bedConfig, clusterClient, getGzipJson, observedDeps, requestBackup } from './backup-helpers';

/**
 * Velero 1.18 itself judges compatibility, both ways, with its real server and CLI
 * (test/bed/velero.ts) on a bed cluster and the same MinIO bucket Skiff uses:
 * - a backup Skiff wrote of a namespace of alpha (a ConfigMap, a Secret, a
 *   Longhorn-like PVC with its CSI snapshot) is synced by a Velero server on beta,
 *   described by `velero backup describe`, and restored by `velero restore create`,
 *   the PVC from the backup's snapshot;
 * - a backup Velero wrote on alpha is restored by Skiff's restore into beta.
 */

const LONGHORN_CLASS_ANNOTATION = 'velero.io/csi-volumesnapshot-class_driver.longhorn.io';

let config: SkiffConfig;
let bucket: string;
let alpha: KubeClient;
let beta: KubeClient;

const ns = (namespace: string, resource: string, group = '') =>
  group ? `/apis/${group}/namespaces/${namespace}/${resource}` : `/api/v1/namespaces/${namespace}/${resource}`;

async function get<T = KubeObject>(client: KubeClient, namespace: string, resource: string, name: string): Promise<T> {
  return client.get<T>(`${ns(namespace, resource)}/${name}`);
}

/** A ConfigMap, a Secret and a PVC on sim-longhorn in a fresh namespace of alpha, the PVC bound. */
async function createSource(prefix: string): Promise<string> {
  const namespace = await freshNamespace('alpha', prefix);
  await alpha.create(ns(namespace, 'configmaps'), { metadata: { name: 'settings', labels: { app: 'web' } }, data: { a: '1' } });
  await alpha.create(ns(namespace, 'secrets'), { metadata: { name: 'db', labels: { app: 'web' } }, stringData: { password: 'hunter2' } });
  await alpha.create(ns(namespace, 'persistentvolumeclaims'), {
    metadata: { name: 'data', labels: { app: 'web' } },
    spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  await waitFor(async () => (await get<{ status?: { phase?: string } }>(alpha, namespace, 'persistentvolumeclaims', 'data')).status?.phase === 'Bound', {
    what: `PVC ${namespace}/data to be bound`,
    timeoutMs: 60_000,
  });
  return namespace;
}

/** What a restore keeps of an object: everything but what the API server assigns, and the restore's own labels. */
function comparable(object: KubeObject & { data?: unknown; type?: unknown }) {
  const { 'velero.io/backup-name': _backup, 'velero.io/restore-name': _restore, ...labels } = object.metadata.labels ?? {};
  return { kind: object.kind, name: object.metadata.name, labels, data: object.data, type: object.type };
}

/** Expects the ConfigMap and Secret of `namespace` in `target` equal to alpha's, modulo reset metadata. */
async function expectObjectsRestored(target: KubeClient, namespace: string, labels: { backup: string; restore: string }): Promise<void> {
  for (const [resource, name, kind] of [
    ['configmaps', 'settings', 'ConfigMap'],
    ['secrets', 'db', 'Secret'],
  ] as const) {
    const original = { ...(await get(alpha, namespace, resource, name)), kind };
    const restored = { ...(await get(target, namespace, resource, name)), kind };
    expect(comparable(restored), `${resource} ${namespace}/${name}`).toEqual(comparable(original));
    expect(restored.metadata.labels?.['velero.io/backup-name']).toBe(labels.backup);
    expect(restored.metadata.labels?.['velero.io/restore-name']).toBe(labels.restore);
    expect(restored.metadata.uid).not.toBe(original.metadata.uid);
  }
}

/** Waits for PVC `data` of `namespace` in `cluster` to be bound; answers the simulator's volumes behind it. */
async function restoredVolumes(cluster: string, client: KubeClient, namespace: string) {
  const pvc = await waitFor(
    async () => {
      const claim = await get<KubeObject & { spec: { dataSource?: { kind: string; name: string } }; status?: { phase?: string } }>(
        client,
        namespace,
        'persistentvolumeclaims',
        'data',
      );
      return claim.status?.phase === 'Bound' ? claim : undefined;
    },
    { what: `restored PVC ${namespace}/data in ${cluster} to be bound`, timeoutMs: 60_000 },
  );
  const volumes = (await ledger()).volumes.filter((v) => v.cluster === cluster && v.claim?.namespace === namespace && v.claim.name === 'data');
  return { pvc, volumes };
}

interface VeleroObject {
  metadata: { name: string };
  status?: { phase?: string; errors?: number; warnings?: number };
}

/** `velero <kind> get <name> -o json`. */
async function veleroGet(velero: VeleroPeer, kind: 'backup' | 'restore', name: string): Promise<VeleroObject> {
  return JSON.parse(await velero.cli([kind, 'get', name, '-o', 'json'])) as VeleroObject;
}

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('velero-peer'));
  alpha = await clusterClient(config, 'alpha');
  beta = await clusterClient(config, 'beta');
}, 60_000);

afterAll(() => {
  alpha?.close();
  beta?.close();
});

describe('Skiff restores a backup Velero wrote', () => {
  let velero: VeleroPeer | undefined;
  let source: string;
  let veleroBackup: string;
  let snapshotHandle: string;

  beforeAll(async () => {
    source = await createSource('vpeer-velero');
    velero = await startVelero({ state: bedState(), cluster: 'alpha', bucket });
    veleroBackup = uniqueName('velero-written');
    await velero.cli(
      ['backup', 'create', veleroBackup, '--include-namespaces', source, '--annotations', `${LONGHORN_CLASS_ANNOTATION}=sim-longhorn-retain`, '--wait'],
      120_000,
    );
    const phase = (await veleroGet(velero, 'backup', veleroBackup)).status?.phase;
    expect(phase, `Velero's backup phase; server log:\n${veleroLogTail(velero)}`).toBe('Completed');
    // Velero 1.18 keeps the handle in its volume info (it no longer writes -csi-volumesnapshotcontents.json.gz).
    const volumes = await getGzipJson<{ pvcName?: string; backupMethod?: string; csiSnapshotInfo?: { snapshotHandle?: string } }[]>(
      bucket,
      `backups/${veleroBackup}/${veleroBackup}-volumeinfo.json.gz`,
    );
    expect(volumes.map((v) => [v.pvcName, v.backupMethod])).toEqual([['data', 'CSISnapshot']]);
    snapshotHandle = volumes[0]!.csiSnapshotInfo!.snapshotHandle!;
  }, 180_000);

  afterAll(async () => {
    await velero?.stop();
  });

  it("restores it into beta: objects equal modulo reset metadata, the PVC from Velero's CSI snapshot", async () => {
    expect(snapshotHandle).toMatch(/^bak:\/\//);
    const { name } = await createRestore(restoreServiceDeps(config), { backupName: veleroBackup, name: uniqueName('r'), cluster: 'beta' });
    const outcome = await runRestore(
      { store: storeResolver(config)('default'), connect: clusterConnector(config), clock: systemClock, remainingMs: () => 600_000 },
      name,
    );
    expect(outcome.state).toBe('done');
    const view = await getRestore(restoreServiceDeps(config), name);
    expect(view.status.phase, JSON.stringify(view.results)).toBe('Completed');
    await expectObjectsRestored(beta, source, { backup: veleroBackup, restore: name });
    const { pvc, volumes } = await restoredVolumes('beta', beta, source);
    expect(pvc.spec.dataSource).toMatchObject({ kind: 'VolumeSnapshot' });
    expect(volumes).toHaveLength(1);
    expect(volumes[0]!.clonedFromSnapshot).toBe(snapshotHandle);
  }, 120_000);

  it('the Velero server and its plugin listen and connect on 127.0.0.1 only', () => {
    const sockets = velero!.tcpSockets();
    // Its metrics port at least, and connections to the API server and MinIO.
    expect(sockets.filter((s) => s.state === 'LISTEN').length).toBeGreaterThan(0);
    expect(sockets.filter((s) => s.state === 'ESTABLISHED').length).toBeGreaterThan(0);
    const elsewhere = sockets.filter((s) => !s.local.startsWith('127.0.0.1:') || !(s.remote.startsWith('127.0.0.1:') || s.state === 'LISTEN'));
    expect(elsewhere).toEqual([]);
  });
});

describe('Velero syncs, describes and restores a backup Skiff wrote', () => {
  let velero: VeleroPeer | undefined;
  let source: string;
  let backupName: string;
  let snapshotHandle: string;

  beforeAll(async () => {
    source = await createSource('vpeer-skiff');
    backupName = await requestBackup(config, {
      cluster: 'alpha',
      includedNamespaces: [source],
      annotations: { [LONGHORN_CLASS_ANNOTATION]: 'sim-longhorn-retain' },
    });
    const observed = await observedDeps(config, backupName, () => 600_000);
    expect(await runBackup(observed.deps, backupName)).toEqual({ state: 'completed', phase: 'Completed' });
    const stored = await getGzipJson<{ metadata: { annotations?: Record<string, string> } }[]>(
      bucket,
      `backups/${backupName}/${backupName}-csi-volumesnapshots.json.gz`,
    );
    snapshotHandle = stored[0]!.metadata.annotations!['velero.io/csi-volumesnapshot-handle']!;
    velero = await startVelero({ state: bedState(), cluster: 'beta', bucket });
  }, 180_000);

  afterAll(async () => {
    await velero?.stop();
  });

  it('syncs the backup into beta as a Completed Backup, and `velero backup describe` reads it', async () => {
    const synced = await waitFor(
      async () => {
        const backup = await veleroGet(velero!, 'backup', backupName).catch(() => undefined);
        return backup?.status?.phase ? backup : undefined;
      },
      { what: `Velero on beta to sync backup ${backupName}`, timeoutMs: 75_000 },
    );
    expect(synced.status?.phase, veleroLogTail(velero!)).toBe('Completed');
    expect(await velero!.cli(['backup', 'get', backupName])).toMatch(new RegExp(`${backupName}\\s+Completed`));
    const described = await velero!.cli(['backup', 'describe', backupName, '--details', '--colorized=false']);
    expect(described).toMatch(/Phase:\s+Completed/);
    expect(described).toContain(source);
    // The resource list and volume info Velero reads from the bucket: what Skiff backed up, and its CSI snapshot.
    expect(described).toContain(`${source}/settings`);
    expect(described).toMatch(new RegExp(`Storage Snapshot ID:\\s+${snapshotHandle.replace(/[/.]/g, '\\$&')}\\s+Snapshot Size[^]*CSI Driver:\\s+driver.longhorn.io\\s+Result:\\s+succeeded`));
    // describe prints "<error getting ...>" for a file it cannot read.
    expect(described).not.toMatch(/error/i);
  });

  it("restores it into beta with `velero restore create`: objects equal modulo reset metadata, the PVC from the backup's snapshot", async () => {
    const restoreName = uniqueName('velero-restore');
    await velero!.cli(['restore', 'create', restoreName, '--from-backup', backupName, '--wait'], 120_000);
    const restore = await veleroGet(velero!, 'restore', restoreName);
    const results = await velero!.cli(['restore', 'describe', restoreName, '--details', '--colorized=false']).catch((error: Error) => error.message);
    expect(restore.status?.phase, `${results}\nserver log:\n${veleroLogTail(velero!)}`).toBe('Completed');
    await expectObjectsRestored(beta, source, { backup: backupName, restore: restoreName });
    const { pvc, volumes } = await restoredVolumes('beta', beta, source);
    expect(pvc.spec.dataSource).toMatchObject({ kind: 'VolumeSnapshot' });
    expect(volumes).toHaveLength(1);
    expect(volumes[0]!.clonedFromSnapshot).toBe(snapshotHandle);
  }, 150_000);
});
