import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { volumeSnapshotFor } from '../../lib/csi/builders';
import { ORIGINAL_DELETION_POLICY_ANNOTATION } from '../../lib/velero/labels';
import { takeCsiSnapshots, type CsiSnapshotProgress, type CsiSnapshotsResult } from '../../lib/backup/csi-snapshots';
import type { PersistentVolumeClaimLike } from '../../lib/csi/plan';
import { clusterSchema } from '../../lib/config/schema';
import type { KubeClient } from '../../lib/kube/client';
import { connectCluster } from '../../lib/kube/connect';
import { isNotFound } from '../../lib/kube/errors';
import { listAll, type KubeObject } from '../../lib/kube/list-all';
import {
  CONTENT_FINALIZER,
  volumeSnapshotContentPath,
  volumeSnapshotPath,
  volumeSnapshotsPath,
  type VolumeSnapshot,
  type VolumeSnapshotContent,
} from '../../lib/csi/snapshot-api';
import { bedState, clusterState, freshNamespace, ledger, uniqueName, waitFor } from '../bed/context';
import type { SimConfig } from '../bed/simulator/config';

// Takes CSI snapshots against the real test bed: kube-apiserver, the snapshot-controller
// and the storage simulator standing in for the Longhorn and ONTAP CSI drivers. The
// simulator's delays are shared by everything on the bed, so tests that change them
// put them back afterwards; failure patterns name the test's own namespace only.

const CLASS_ANNOTATION = 'velero.io/csi-volumesnapshot-class';

let client: KubeClient;

beforeAll(async () => {
  const alpha = clusterState('alpha');
  client = await connectCluster(
    clusterSchema.parse({
      name: 'alpha',
      server: alpha.server,
      caData: alpha.caData,
      auth: { token: alpha.adminToken },
      storageLocations: ['default'],
    }),
  );
});

afterAll(() => client?.close());

function simulatorUrl(path: string): string {
  const simulator = bedState().simulator;
  if (!simulator) throw new Error('this test bed runs without the storage simulator');
  return new URL(path, simulator.ledgerUrl).toString();
}

async function simulatorConfig(patch?: Partial<SimConfig>): Promise<SimConfig> {
  const res = await fetch(simulatorUrl('/config'), {
    method: patch ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json' },
    body: patch ? JSON.stringify(patch) : undefined,
  });
  if (!res.ok) throw new Error(`simulator /config answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as SimConfig;
}

/** Runs `body` with the simulator configured by `patch`, and puts the changed fields back afterwards. */
async function withSimulator<T>(patch: Partial<SimConfig>, body: () => Promise<T>): Promise<T> {
  const before = await simulatorConfig();
  await simulatorConfig(patch);
  try {
    return await body();
  } finally {
    const restore = Object.fromEntries(Object.keys(patch).map((key) => [key, before[key as keyof SimConfig]]));
    await simulatorConfig(restore);
  }
}

interface PvcOptions {
  storageClassName?: string;
  snapshotClass?: string;
  labels?: Record<string, string>;
  volumeName?: string;
}

async function createPvc(namespace: string, name: string, options: PvcOptions): Promise<void> {
  await client.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    metadata: {
      name,
      labels: options.labels,
      annotations: options.snapshotClass ? { [CLASS_ANNOTATION]: options.snapshotClass } : undefined,
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
      storageClassName: options.storageClassName ?? 'sim-longhorn',
      ...(options.volumeName ? { volumeName: options.volumeName } : {}),
    },
  });
}

/** The namespace's PVCs as the API returns them, once all are bound. */
async function boundPvcs(namespace: string, count: number): Promise<PersistentVolumeClaimLike[]> {
  return waitFor(
    async () => {
      const pvcs = await listAll<KubeObject & PersistentVolumeClaimLike>(
        client,
        `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
      );
      return pvcs.length === count && pvcs.every((pvc) => pvc.status?.phase === 'Bound') ? pvcs : undefined;
    },
    { what: `${count} bound PVCs in ${namespace}`, timeoutMs: 60_000 },
  );
}

async function snapshotsOf(
  namespace: string,
  pvcs: readonly PersistentVolumeClaimLike[],
  backupName: string,
  csiSnapshotTimeout = '1m',
  onProgress?: (progress: CsiSnapshotProgress) => void,
) {
  const started = performance.now();
  const result = await takeCsiSnapshots({
    client,
    backup: { name: backupName, spec: { csiSnapshotTimeout } },
    pvcs,
    onProgress,
  });
  if (result === 'paused') throw new Error('takeCsiSnapshots paused, though nothing asked it to');
  const endedAt = Date.now();
  return { result, ms: performance.now() - started, endedAt };
}

/**
 * Looks at a backup's VolumeSnapshots every 100 ms, with a client of its own, and
 * notes when the cluster first reports each one ready: what Skiff waits for.
 */
function watchReadiness(namespace: string, backupName: string) {
  const readyAt = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    const alpha = clusterState('alpha');
    const observer = await connectCluster(
      clusterSchema.parse({ name: 'alpha', server: alpha.server, caData: alpha.caData, auth: { token: alpha.adminToken }, storageLocations: ['default'] }),
    );
    const sweep = async () => {
      for (const vs of await volumeSnapshotsIn(namespace, backupName, observer)) {
        if (vs.status?.readyToUse && !readyAt.has(vs.metadata.name)) readyAt.set(vs.metadata.name, Date.now());
      }
    };
    try {
      while (running) {
        await sweep();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Skiff may see the last one ready between two looks of this observer.
      await sweep();
    } finally {
      observer.close();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return readyAt;
    },
  };
}

async function volumeSnapshotsIn(namespace: string, backupName: string, via = client): Promise<VolumeSnapshot[]> {
  return listAll<VolumeSnapshot>(via, volumeSnapshotsPath(namespace), { labelSelector: `velero.io/backup-name=${backupName}` });
}

/** Waits until the storage holds no live snapshot of these VolumeSnapshots and their contents are gone. */
async function expectNothingLeaked(result: CsiSnapshotsResult): Promise<void> {
  const uids = result.outcomes.flatMap((o) => (o.kind === 'failed' && o.volumeSnapshot?.uid ? [o.volumeSnapshot.uid] : []));
  expect(uids.length).toBeGreaterThan(0);
  await waitFor(
    async () => {
      const { snapshots } = await ledger();
      const live = snapshots.filter((s) => uids.some((uid) => s.name === `snapshot-${uid}`) && !s.deleted);
      if (live.length > 0) return undefined;
      for (const uid of uids) {
        try {
          await client.get<VolumeSnapshotContent>(volumeSnapshotContentPath(`snapcontent-${uid}`));
          return undefined;
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
      return true;
    },
    { what: 'the storage snapshots and contents of the failed snapshots to be gone', timeoutMs: 60_000 },
  );
}

describe('takeCsiSnapshots', () => {
  it('snapshots a Longhorn PVC, labels its content and keeps it Retain with the original policy recorded', async () => {
    const namespace = await freshNamespace('alpha', 'csi-one');
    await createPvc(namespace, 'data', { snapshotClass: 'sim-longhorn-delete', labels: { app: 'db' } });
    const pvcs = await boundPvcs(namespace, 1);
    const backupName = uniqueName('one');
    const progress: CsiSnapshotProgress[] = [];

    const { result, ms } = await snapshotsOf(namespace, pvcs, backupName, '1m', (p) => progress.push(p));

    expect(result.outcomes).toHaveLength(1);
    const outcome = result.outcomes[0]!;
    if (outcome.kind !== 'completed') throw new Error(`expected a completed snapshot, got ${JSON.stringify(outcome)}`);
    const vs = outcome.volumeSnapshot;
    expect(vs.metadata.name).toMatch(/^velero-data-[a-z0-9]{5}$/);
    expect(vs.metadata.generateName).toBe('velero-data-');
    expect(vs.metadata.labels).toEqual({ app: 'db', 'velero.io/backup-name': backupName });
    expect(vs.spec).toEqual({ source: { persistentVolumeClaimName: 'data' }, volumeSnapshotClassName: 'sim-longhorn-delete' });
    expect(vs.status).toMatchObject({ readyToUse: true, boundVolumeSnapshotContentName: outcome.content.metadata.name });
    expect(outcome.snapshotHandle).toMatch(/^bak:\/\/pvc-[0-9a-f-]+\/backup-[0-9a-f]{16}$/);
    expect(vs.metadata.annotations).toMatchObject({
      'velero.io/csi-volumesnapshot-handle': outcome.snapshotHandle,
      'velero.io/csi-driver-name': 'driver.longhorn.io',
      'velero.io/csi-vsc-deletion-policy': 'Retain',
      'velero.io/csi-volumesnapshot-restore-size': '1Gi',
    });
    expect(outcome.originalDeletionPolicy).toBe('Delete');

    // The content as the cluster has it now, not only as the patch answered.
    const content = await client.get<VolumeSnapshotContent>(volumeSnapshotContentPath(outcome.content.metadata.name));
    expect(content.metadata.labels).toMatchObject({ 'velero.io/backup-name': backupName });
    expect(content.metadata.annotations).toMatchObject({ [ORIGINAL_DELETION_POLICY_ANNOTATION]: 'Delete' });
    expect(content.spec.deletionPolicy).toBe('Retain');
    expect(content.status).toMatchObject({ snapshotHandle: outcome.snapshotHandle, readyToUse: true });

    expect(result.volumeSnapshots).toEqual([vs]);
    expect(result.volumeSnapshotContents.map((c) => c.metadata.name)).toEqual([content.metadata.name]);
    expect(result.volumeSnapshotClasses.map((c) => c.metadata.name)).toEqual(['sim-longhorn-delete']);
    expect(result.volumeInfos).toEqual([
      expect.objectContaining({
        pvcName: 'data',
        pvcNamespace: namespace,
        pvName: outcome.pvName,
        backupMethod: 'CSISnapshot',
        snapshotDataMoved: false,
        result: 'succeeded',
        csiSnapshotInfo: {
          snapshotHandle: outcome.snapshotHandle,
          size: 1073741824,
          driver: 'driver.longhorn.io',
          vscName: content.metadata.name,
          ReadyToUse: true,
        },
      }),
    ]);
    expect(outcome.pvcAdditions.annotations).toMatchObject({ 'velero.io/volume-snapshot-name': vs.metadata.name });
    expect([result.attempted, result.completed]).toEqual([1, 1]);
    expect(progress).toEqual([
      { total: 1, attempted: 1, completed: 0, failed: 0 },
      { total: 1, attempted: 1, completed: 1, failed: 0 },
    ]);
    expect(result.results.errors.namespaces).toEqual({});
    expect(result.results.warnings.namespaces).toEqual({});

    const stored = (await ledger()).snapshots.find((s) => s.handle === outcome.snapshotHandle);
    expect(stored).toMatchObject({ name: `snapshot-${vs.metadata.uid}`, driver: 'driver.longhorn.io' });
    expect(stored?.deleted).toBeUndefined();
    console.log(`one snapshot: ${ms.toFixed(0)} ms, ${result.apiRequests} API requests`);
  });

  it('takes ten snapshots side by side, finishing as soon as the cluster has them ready', async () => {
    const namespace = await freshNamespace('alpha', 'csi-ten');
    const names = Array.from({ length: 11 }, (_, i) => `vol-${i}`);
    await Promise.all(names.map((name) => createPvc(namespace, name, { storageClassName: 'sim-ontap', snapshotClass: 'sim-ontap-retain' })));
    const pvcs = await boundPvcs(namespace, names.length);
    const [single, ...ten] = pvcs;
    const tenName = uniqueName('ten');

    const { one, many, readyAt } = await withSimulator({ snapshotDelayMs: 1000 }, async () => {
      const one = await snapshotsOf(namespace, [single!], uniqueName('single'));
      const watch = watchReadiness(namespace, tenName);
      const many = await snapshotsOf(namespace, ten, tenName);
      return { one, many, readyAt: await watch.stop() };
    });

    expect([one.result.completed, many.result.completed]).toEqual([1, 10]);
    const created = many.result.volumeSnapshots.map((vs) => Date.parse(String(vs.metadata.creationTimestamp)));
    const lastReady = Math.max(...readyAt.values());
    console.log(
      `1 snapshot: ${one.ms.toFixed(0)} ms, ${one.result.apiRequests} requests; ` +
        `10 snapshots: ${many.ms.toFixed(0)} ms, ${many.result.apiRequests} requests; ratio ${(many.ms / one.ms).toFixed(2)}; ` +
        `done ${(many.endedAt - lastReady).toFixed(0)} ms after the cluster had the last one ready`,
    );
    // Far from ten times one (about 2x on an idle bed; what is left is the cluster's: the
    // snapshot-controller's own rate limit and a busy machine).
    expect(many.ms / one.ms).toBeLessThan(7);
    // All ten VolumeSnapshots are created at once (timestamps have whole seconds)...
    expect(Math.max(...created) - Math.min(...created)).toBeLessThanOrEqual(1000);
    // ...and Skiff is done within one poll (2 s at most) and two patches of the last one ready,
    // with room for a busy machine.
    expect(readyAt.size).toBe(10);
    expect(many.endedAt - lastReady).toBeLessThan(4000);
    // Three lists to plan, three requests per snapshot, and one shared list per look (at most every 250 ms).
    expect(many.result.apiRequests - 3 - 3 * 10).toBeLessThanOrEqual(Math.ceil(many.ms / 250));
  });

  it('takes over the VolumeSnapshots of an interrupted earlier run instead of cutting new ones', async () => {
    const namespace = await freshNamespace('alpha', 'csi-resume');
    await createPvc(namespace, 'data', { snapshotClass: 'sim-longhorn-retain' });
    const pvcs = await boundPvcs(namespace, 1);
    const backupName = uniqueName('resume');
    // What a run stopped half way leaves: its VolumeSnapshot, and here a second copy too.
    const manifest = volumeSnapshotFor({ namespace, name: 'data' }, 'sim-longhorn-retain', backupName);
    const first = await client.create<VolumeSnapshot>(volumeSnapshotsPath(namespace), manifest);
    const copy = await client.create<VolumeSnapshot>(volumeSnapshotsPath(namespace), manifest);
    await waitFor(async () => (await volumeSnapshotsIn(namespace, backupName)).every((vs) => vs.status?.readyToUse), {
      what: 'the earlier VolumeSnapshots to be ready',
    });

    const { result } = await snapshotsOf(namespace, pvcs, backupName);

    const outcome = result.outcomes[0];
    expect(outcome?.kind).toBe('completed');
    const adopted = outcome?.kind === 'completed' ? outcome.volumeSnapshot.metadata.uid : undefined;
    expect([first.metadata.uid, copy.metadata.uid]).toContain(adopted);
    expect([result.attempted, result.completed]).toEqual([1, 1]);
    expect((await volumeSnapshotsIn(namespace, backupName)).map((vs) => vs.metadata.uid)).toEqual([adopted]);
  });

  it('makes a bound PVC whose driver has no VolumeSnapshotClass an error (Velero 1.18), creating nothing', async () => {
    const namespace = await freshNamespace('alpha', 'csi-noclass');
    const pvName = uniqueName('nosnap-pv');
    await client.create('/api/v1/persistentvolumes', {
      metadata: { name: pvName },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: '',
        claimRef: { namespace, name: 'static' },
        csi: { driver: 'nosnap.skiff.test', volumeHandle: pvName },
      },
    });
    await createPvc(namespace, 'static', { storageClassName: '', volumeName: pvName });
    const pvcs = await boundPvcs(namespace, 1);
    const backupName = uniqueName('noclass');

    const { result } = await snapshotsOf(namespace, pvcs, backupName);

    expect(result.outcomes).toEqual([expect.objectContaining({ kind: 'failed', reason: 'not-snapshottable' })]);
    expect(result.results.errors.namespaces[namespace]).toEqual([
      `could not snapshot PVC ${namespace}/static: no VolumeSnapshotClass has driver "nosnap.skiff.test"; create one to ` +
        "snapshot this volume; the volume's data is not in the backup",
    ]);
    expect(result.results.warnings.namespaces).toEqual({});
    expect([result.attempted, result.completed]).toEqual([0, 0]);
    expect(result.volumeInfos).toEqual([expect.objectContaining({ pvcName: 'static', skipped: true, result: 'failed', skippedReason: expect.stringContaining('no VolumeSnapshotClass has driver') })]);
    expect(await volumeSnapshotsIn(namespace, backupName)).toEqual([]);
  });

  it('reports a snapshot the driver refuses as an error and leaves nothing behind', async () => {
    const namespace = await freshNamespace('alpha', 'csi-fail');
    // Retain is the class that would leak a storage snapshot if the failure were handled carelessly.
    await createPvc(namespace, 'doomed', { snapshotClass: 'sim-longhorn-retain' });
    const pvcs = await boundPvcs(namespace, 1);
    const backupName = uniqueName('fail');

    const { result } = await withSimulator({ failSnapshotsFor: `^${namespace}/` }, () => snapshotsOf(namespace, pvcs, backupName, '5s'));

    expect(result.outcomes).toEqual([expect.objectContaining({ kind: 'failed', reason: 'failed' })]);
    const [error] = result.results.errors.namespaces[namespace] ?? [];
    expect(error).toContain(`could not snapshot PVC ${namespace}/doomed`);
    expect(error).not.toContain('cleanup incomplete');
    expect([result.attempted, result.completed]).toEqual([1, 0]);
    expect(result.volumeSnapshots).toEqual([]);
    expect(await volumeSnapshotsIn(namespace, backupName)).toEqual([]);
    await expectNothingLeaked(result);
  });

  it('keeps waiting through a transient driver error and says the snapshot recovered (Velero #10483)', async () => {
    const namespace = await freshNamespace('alpha', 'csi-flaky');
    await createPvc(namespace, 'flaky', { snapshotClass: 'sim-longhorn-retain' });
    const pvcs = await boundPvcs(namespace, 1);
    const backupName = uniqueName('flaky');
    await simulatorConfig({ failSnapshotsFor: `^${namespace}/` });
    // The storage system refuses for a few seconds, then takes the snapshot on a retry.
    const cleared = new Promise<void>((resolve) => setTimeout(() => void simulatorConfig({ failSnapshotsFor: null }).then(() => resolve()), 4000));
    let result;
    try {
      ({ result } = await snapshotsOf(namespace, pvcs, backupName, '2m'));
    } finally {
      await cleared;
    }

    expect(result.outcomes).toEqual([expect.objectContaining({ kind: 'completed' })]);
    expect(result.results.errors.namespaces).toEqual({});
    expect(result.results.warnings.namespaces[namespace]).toEqual([
      expect.stringMatching(new RegExp(`^the snapshot of PVC ${namespace}/flaky recovered after the CSI driver's error`)),
    ]);
    expect([result.attempted, result.completed]).toEqual([1, 1]);
  });

  it('times out a snapshot slower than csiSnapshotTimeout and leaves nothing behind, not even the late snapshot', async () => {
    const namespace = await freshNamespace('alpha', 'csi-slow');
    await createPvc(namespace, 'slow', { storageClassName: 'sim-ontap', snapshotClass: 'sim-ontap-retain' });
    const pvcs = await boundPvcs(namespace, 1);
    const backupName = uniqueName('slow');

    const { result, ms } = await withSimulator({ snapshotDelayMs: 5000 }, () => snapshotsOf(namespace, pvcs, backupName, '2s'));

    expect(result.outcomes).toEqual([expect.objectContaining({ kind: 'failed', reason: 'timed-out' })]);
    const [error] = result.results.errors.namespaces[namespace] ?? [];
    expect(error).toContain(`the snapshot of PVC ${namespace}/slow`);
    expect(error).toContain('was not ready within csiSnapshotTimeout 2s');
    expect(error).not.toContain('cleanup incomplete');
    expect(await volumeSnapshotsIn(namespace, backupName)).toEqual([]);
    // The driver finishes the cut after the deadline; the snapshot must still be deleted.
    await expectNothingLeaked(result);
    const uid = result.outcomes[0]?.kind === 'failed' ? result.outcomes[0].volumeSnapshot?.uid : undefined;
    const events = (await ledger()).events.filter((e) => e.object?.includes(`snapcontent-${uid}`));
    console.log(`timed out after ${ms.toFixed(0)} ms; storage events: ${events.map((e) => e.type).join(', ')}`);
  });
});

/** A VolumeSnapshot of the PVC, cut and ready, with its content as the cluster has it then. */
async function readySnapshot(namespace: string, pvc: string, snapshotClass: string) {
  const manifest = volumeSnapshotFor({ namespace, name: pvc }, snapshotClass, uniqueName('delete'));
  const created = await client.create<VolumeSnapshot>(volumeSnapshotsPath(namespace), manifest);
  const vs = await waitFor(
    async () => {
      const current = await client.get<VolumeSnapshot>(volumeSnapshotPath(namespace, created.metadata.name));
      return current.status?.readyToUse && current.status.boundVolumeSnapshotContentName ? current : undefined;
    },
    { what: `VolumeSnapshot ${namespace}/${created.metadata.name} to be ready`, timeoutMs: 60_000 },
  );
  const content = await client.get<VolumeSnapshotContent>(volumeSnapshotContentPath(vs.status!.boundVolumeSnapshotContentName!));
  return { vs, content, handle: content.status!.snapshotHandle! };
}

/** The content, or undefined once the API server has let it go. */
async function findContent(name: string): Promise<VolumeSnapshotContent | undefined> {
  try {
    return await client.get<VolumeSnapshotContent>(volumeSnapshotContentPath(name));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The SnapshotDeleteError events the csi-snapshotter wrote on a content (cluster-scoped: in `default`). */
async function deleteErrorEvents(contentName: string) {
  return listAll<KubeObject & { type?: string; message?: string; count?: number }>(client, '/api/v1/namespaces/default/events', {
    fieldSelector: `involvedObject.name=${contentName},reason=SnapshotDeleteError`,
  });
}

describe('a storage that refuses DeleteSnapshot (failDeletesFor)', () => {
  it.each([
    {
      title: 'a Longhorn snapshot whose PVC lives',
      storageClassName: 'sim-longhorn',
      snapshotClass: 'sim-longhorn-delete',
      deleteSource: false,
    },
    // What expiry meets: the backup outlived the namespace it was taken in.
    {
      title: 'an ONTAP snapshot whose PVC and volume are already deleted',
      storageClassName: 'sim-ontap',
      snapshotClass: 'sim-ontap-delete',
      deleteSource: true,
    },
  ])('keeps the content of $title until the storage agrees, then deletes it', async ({ storageClassName, snapshotClass, deleteSource }) => {
    const namespace = await freshNamespace('alpha', 'csi-nodelete');
    await createPvc(namespace, 'data', { storageClassName });
    await boundPvcs(namespace, 1);
    const { vs, content, handle } = await readySnapshot(namespace, 'data', snapshotClass);
    expect(content.spec.deletionPolicy).toBe('Delete');
    const contentName = content.metadata.name;
    if (deleteSource) {
      await client.delete(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/data`);
      await waitFor(async () => (await ledger()).volumes.find((v) => v.handle === content.spec.source.volumeHandle)?.deleted, {
        what: `the source volume of ${contentName} to be deleted on the storage`,
      });
    }

    await withSimulator({ failDeletesFor: `^${namespace}/data$` }, async () => {
      await client.delete(volumeSnapshotPath(namespace, vs.metadata.name));
      // A second SnapshotDeleteError (the event's count) means the retry failed too.
      const event = await waitFor(async () => (await deleteErrorEvents(contentName)).find((e) => (e.count ?? 0) >= 2), {
        what: `the csi-snapshotter to fail deleting ${contentName} twice`,
      });
      expect(event).toMatchObject({ type: 'Warning', message: 'Failed to delete snapshot' });
      const stuck = await client.get<VolumeSnapshotContent>(volumeSnapshotContentPath(contentName));
      expect(stuck.metadata.deletionTimestamp).toBeDefined();
      expect(stuck.metadata.finalizers).toContain(CONTENT_FINALIZER);
      // As the v8.7.0 sidecar: the event only, the status as it was.
      expect(stuck.status).toMatchObject({ snapshotHandle: handle, readyToUse: true });
      expect(stuck.status?.error).toBeUndefined();
      const books = await ledger();
      expect(books.snapshots.find((snap) => snap.handle === handle)?.deleted).toBeUndefined();
      const events = books.events.filter((e) => e.object === `VolumeSnapshotContent/${contentName}`).map((e) => e.type);
      // Noted once, however often the sidecar retries.
      expect(events.filter((type) => type === 'SnapshotDeleteFailed')).toHaveLength(1);
      expect(events).not.toContain('SnapshotDeleted');

      await simulatorConfig({ failDeletesFor: null });
      await waitFor(async () => (await findContent(contentName)) === undefined, { what: `${contentName} to be deleted once the storage agrees` });
    });

    const deleted = (await ledger()).snapshots.find((snap) => snap.handle === handle);
    expect(deleted).toMatchObject({ deleted: true });
  });
});
