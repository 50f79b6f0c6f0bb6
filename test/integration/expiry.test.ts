import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { backupServiceDeps, createBackup, getBackup } from '../../lib/backup/service';
import { validateConfig, type SkiffConfig } from '../../lib/config';
import { systemClock } from '../../lib/core/clock';
import { ConflictError, NotFoundError } from '../../lib/core/errors';
import { pvcFromSnapshot, staticContentFor, staticVolumeSnapshotFor } from '../../lib/csi/builders';
import { volumeSnapshotContentPath, volumeSnapshotPath, SNAPSHOT_API_VERSION, type VolumeSnapshot, type VolumeSnapshotContent } from '../../lib/csi/snapshot-api';
import type { ActionLogEntry } from '../../lib/expiry/execute';
import type { ExpiryAction, ExpiryPlan } from '../../lib/expiry/plan';
import { expiryServiceDeps, requestDeletion, runExpiry, type ExpiryDeps } from '../../lib/expiry/service';
import type { KubeClient } from '../../lib/kube/client';
import { isNotFound } from '../../lib/kube/errors';
import { listAll } from '../../lib/kube/list-all';
import { catalogEntryFor, updateCatalog } from '../../lib/store/catalog';
import { storeResolver } from '../../lib/store/resolver';
import { backupLabelSelector, backupLabelValue, BACKUP_NAME_LABEL } from '../../lib/velero/labels';
import { bedState, freshBucket, freshNamespace, ledger, waitFor } from '../bed/context';
import { skiffConfigForBed } from '../bed/skiff-config';
import { clusterClient, exists, objectKeys, observedDeps } from './backup-helpers';

// Expiry against the real bed: two clusters with the snapshot-controller, the storage
// simulator (Longhorn-like and ONTAP-like drivers, one storage behind both clusters) and
// MinIO. Backups are made the real way with a TTL of one second; a run then finds them
// expired by the real clock. The backups share one bucket, so each run sees all of them,
// as a scheduled run would.

const LONGHORN = 'driver.longhorn.io';
const ONTAP = 'csi.trident.netapp.io';
const CLASS_ANNOTATIONS = {
  [`velero.io/csi-volumesnapshot-class_${LONGHORN}`]: 'sim-longhorn-retain',
  [`velero.io/csi-volumesnapshot-class_${ONTAP}`]: 'sim-ontap-retain',
};

let config: SkiffConfig;
let bucket: string;
let alpha: KubeClient;
let beta: KubeClient;
const names = { expired: '', fresh: '', nightlyOld: '', nightlyNew: '', held: '', orphan: '' };
const handles = new Map<string, string[]>();
let restore: { namespace: string; claim: string; content: string };

async function pvc(client: KubeClient, namespace: string, name: string, storageClassName: string, extra: Record<string, unknown> = {}): Promise<void> {
  await client.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    metadata: { name },
    spec: { storageClassName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...extra },
  });
}

async function bound(client: KubeClient, namespace: string): Promise<void> {
  await waitFor(
    async () => (await listAll(client, `/api/v1/namespaces/${namespace}/persistentvolumeclaims`)).every((c) => (c.status as { phase?: string })?.phase === 'Bound'),
    { what: `PVCs of ${namespace} bound`, timeoutMs: 60_000 },
  );
}

/** A namespace in alpha with PVCs of the given classes, bound. */
async function workload(prefix: string, classes: string[]): Promise<string> {
  const namespace = await freshNamespace('alpha', prefix);
  for (const [i, cls] of classes.entries()) await pvc(alpha, namespace, `data-${i}`, cls);
  await bound(alpha, namespace);
  return namespace;
}

/** A completed backup of `namespace` made the real way; its stored snapshot handles are noted. */
async function backup(name: string, namespace: string, ttl: string, schedule?: { name: string; slot: Date }): Promise<string> {
  const request = { cluster: 'alpha', name, includedNamespaces: [namespace], ttl, annotations: CLASS_ANNOTATIONS };
  const created = await createBackup(backupServiceDeps(config), schedule ? { ...request, name: undefined } : request, schedule ? { schedule } : {});
  const { deps } = await observedDeps(config, created.name, () => 600_000);
  expect(await runBackup(deps, created.name)).toEqual({ state: 'completed', phase: 'Completed' });
  const contents = await storeResolver(config)('default').getCsiVolumeSnapshotContents(created.name);
  handles.set(created.name, contents.map((c) => c.status!.snapshotHandle!));
  return created.name;
}

function deps(extra: Partial<ExpiryDeps> = {}): ExpiryDeps {
  return { ...expiryServiceDeps(config), waitTimeoutMs: 90_000, ...extra };
}

async function contentsLabelled(client: KubeClient, backupName: string): Promise<VolumeSnapshotContent[]> {
  return listAll<VolumeSnapshotContent>(client, `/apis/${SNAPSHOT_API_VERSION}/volumesnapshotcontents`, { labelSelector: backupLabelSelector(backupName) });
}

async function snapshotsLabelled(client: KubeClient, backupName: string): Promise<VolumeSnapshot[]> {
  return listAll<VolumeSnapshot>(client, `/apis/${SNAPSHOT_API_VERSION}/volumesnapshots`, { labelSelector: backupLabelSelector(backupName) });
}

async function storageSnapshots(backupName: string) {
  const all = (await ledger()).snapshots;
  return handles.get(backupName)!.map((h) => all.find((s) => s.handle === h)!);
}

/** An action as a line: what, where, on what; the plan and the log must agree line for line. */
const line = (a: ExpiryAction) => `${a.kind} ${a.backup} ${a.cluster ?? '-'} ${a.object}`;

/** Deletes an object and takes its finalizers away, so it is gone at once whatever watches it. */
async function removeNow(client: KubeClient, path: string): Promise<void> {
  try {
    await client.delete(path);
    await client.patch(path, { metadata: { finalizers: null } }, 'merge');
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  await waitFor(async () => client.get(path).then(() => false, (e: unknown) => isNotFound(e)), { what: `${path} gone`, timeoutMs: 30_000 });
}

beforeAll(async () => {
  bucket = await freshBucket('expiry');
  const raw = skiffConfigForBed(bedState(), { bucket, apiToken: 'test-api-token' });
  config = validateConfig({ ...raw, schedules: [{ name: 'nightly', cluster: 'alpha', schedule: '0 2 * * *', paused: true, keepLast: 1 }] }, 'test');
  alpha = await clusterClient(config, 'alpha');
  beta = await clusterClient(config, 'beta');

  // expired: an ONTAP and a Longhorn volume; a synced copy of the Longhorn snapshot lives in beta.
  names.expired = await backup('expired', await workload('exp', ['sim-ontap', 'sim-longhorn']), '1s');
  // fresh: not expired.
  names.fresh = await backup('fresh', await workload('fresh', ['sim-longhorn']), '720h');
  // Two expired backups of a schedule with keepLast 1: the newer one stays.
  const nightlyNs = await workload('nightly', []);
  names.nightlyOld = await backup('', nightlyNs, '1s', { name: 'nightly', slot: new Date('2025-01-01T02:00:00Z') });
  names.nightlyNew = await backup('', nightlyNs, '1s', { name: 'nightly', slot: new Date('2025-01-02T02:00:00Z') });
  // held: an ONTAP snapshot restored into beta (a FlexClone) that must not be deleted under it.
  names.held = await backup('held', await workload('held', ['sim-ontap']), '1s');
  // orphan: its content is gone from every cluster, its storage snapshot is not.
  const orphanNs = await workload('orphan', ['sim-longhorn']);
  names.orphan = await backup('orphan', orphanNs, '1s');

  const [longhornHandle] = (await storeResolver(config)('default').getCsiVolumeSnapshotContents(names.expired)).filter((c) => c.spec.driver === LONGHORN).map((c) => c.status!.snapshotHandle!);
  await beta.create(
    `/apis/${SNAPSHOT_API_VERSION}/volumesnapshotcontents`,
    staticContentFor({
      name: `synced-${names.expired}`,
      driver: LONGHORN,
      snapshotHandle: longhornHandle!,
      deletionPolicy: 'Retain',
      volumeSnapshotRef: { namespace: 'default', name: `synced-${names.expired}` },
      labels: { [BACKUP_NAME_LABEL]: backupLabelValue(names.expired) },
    }),
  );

  const heldHandle = handles.get(names.held)![0]!;
  const namespace = await freshNamespace('beta', 'restored');
  restore = { namespace, claim: 'restored', content: `restore-${namespace}` };
  await beta.create(
    `/apis/${SNAPSHOT_API_VERSION}/volumesnapshotcontents`,
    staticContentFor({ name: restore.content, driver: ONTAP, snapshotHandle: heldHandle, deletionPolicy: 'Retain', volumeSnapshotRef: { namespace, name: 'restore-vs' } }),
  );
  await beta.create(`/apis/${SNAPSHOT_API_VERSION}/namespaces/${namespace}/volumesnapshots`, staticVolumeSnapshotFor({ namespace, name: 'restore-vs', contentName: restore.content }));
  await beta.create(
    `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
    pvcFromSnapshot({ metadata: { name: restore.claim }, spec: { storageClassName: 'sim-ontap', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }, 'restore-vs'),
  );
  await bound(beta, namespace);
  await waitFor(async () => (await storageSnapshots(names.held))[0]!.busyBy.length > 0, { what: 'the restored clone to hold its snapshot', timeoutMs: 30_000 });

  for (const vs of await snapshotsLabelled(alpha, names.orphan)) await removeNow(alpha, volumeSnapshotPath(vs.metadata.namespace, vs.metadata.name));
  for (const c of await contentsLabelled(alpha, names.orphan)) await removeNow(alpha, volumeSnapshotContentPath(c.metadata.name));
  await waitFor(
    async () => ((await beta.get<VolumeSnapshotContent>(volumeSnapshotContentPath(`synced-${names.expired}`))).status?.snapshotHandle ? true : false),
    { what: 'the synced copy confirmed by its driver', timeoutMs: 30_000 },
  );

  // The catalog rediscovery would have written.
  const store = storeResolver(config)('default');
  const entries = await Promise.all(
    Object.values(names).map(async (n) => catalogEntryFor((await store.getBackupMetadata(n))!, await store.getCsiVolumeSnapshotContents(n), 'default')),
  );
  await updateCatalog(store, (catalog) => entries.forEach((e) => (catalog.backups[e.name] = e)), systemClock);
  // The runs find the one-second backups expired by the real clock: wait until the last has.
  const latest = Math.max(...entries.filter((e) => e.expiration && e.name !== names.fresh).map((e) => Date.parse(e.expiration!)));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, latest - Date.now() + 200)));
}, 300_000);

afterAll(() => {
  alpha?.close();
  beta?.close();
});

describe('Expiry on the bed', () => {
  let dryPlan: ExpiryPlan;
  let log: ActionLogEntry[];

  it('a dry run plans every backup with its reason and changes nothing', async () => {
    const keysBefore = await objectKeys(bucket);
    dryPlan = (await runExpiry(deps(), { location: 'default', dryRun: true })).plan;
    const verdicts = Object.fromEntries(dryPlan.backups.map((b) => [b.backup, b.verdict]));
    expect(verdicts).toEqual({
      [names.expired]: 'delete',
      [names.fresh]: 'keep',
      [names.nightlyOld]: 'delete',
      [names.nightlyNew]: 'keep',
      [names.held]: 'delete',
      [names.orphan]: 'delete',
    });
    expect(dryPlan.backups.find((b) => b.backup === names.nightlyNew)!.why).toMatch(/keepLast 1/);
    expect(dryPlan.backups.find((b) => b.backup === names.held)).toMatchObject({ finishes: false, waitingOn: [expect.stringMatching(/is the source of cluster beta: PVC .*\/restored/), expect.any(String)] });
    expect(await objectKeys(bucket)).toEqual(keysBefore);
  });

  it('the real run does exactly what the dry run planned, and every action succeeds', async () => {
    const result = await runExpiry(deps(), { location: 'default' });
    log = result.log;
    expect(log.map(line)).toEqual(dryPlan.actions.map(line));
    expect(log.filter((e) => e.outcome !== 'done')).toEqual([]);
    expect(result.deleted.sort()).toEqual([names.expired, names.nightlyOld, names.orphan].sort());
    expect(result.unfinished).toEqual([names.held]);
  });

  it('an expired backup is gone: storage snapshots, VolumeSnapshots and contents in both clusters, its objects and catalog entry', async () => {
    expect((await storageSnapshots(names.expired)).map((s) => s.deleted)).toEqual([true, true]);
    for (const client of [alpha, beta]) {
      expect(await contentsLabelled(client, names.expired)).toEqual([]);
      expect(await snapshotsLabelled(client, names.expired)).toEqual([]);
    }
    expect(await objectKeys(bucket, `backups/${names.expired}/`)).toEqual([]);
    expect(await objectKeys(bucket, `backups/${names.nightlyOld}/`)).toEqual([]);
    expect(await exists(bucket, `metadata/skiff/deleting/${names.expired}.json`)).toBe(false);
    const catalog = JSON.parse((await storeResolver(config)('default').getObject('metadata/skiff/catalog.json'))!.toString()) as { backups: object };
    expect(Object.keys(catalog.backups).sort()).toEqual([names.fresh, names.held, names.nightlyNew].sort());
  });

  it('a stored snapshot with no content in any cluster is freed through a temporary content', async () => {
    expect(log.filter((e) => e.backup === names.orphan && e.kind === 'createTemporaryContent')).toEqual([expect.objectContaining({ cluster: 'alpha', outcome: 'done' })]);
    expect((await storageSnapshots(names.orphan)).map((s) => s.deleted)).toEqual([true]);
    expect(await contentsLabelled(alpha, names.orphan)).toEqual([]);
  });

  it('a backup that has not expired, and one kept by keepLast, are untouched', async () => {
    for (const name of [names.fresh, names.nightlyNew]) {
      expect(await exists(bucket, `backups/${name}/velero-backup.json`)).toBe(true);
      expect(log.some((e) => e.backup === name)).toBe(false);
    }
    expect((await storageSnapshots(names.fresh)).map((s) => s.deleted ?? false)).toEqual([false]);
    expect((await contentsLabelled(alpha, names.fresh)).map((c) => c.spec.deletionPolicy)).toEqual(['Retain']);
  });

  it('a snapshot a restored volume depends on is kept, the backup shows as Deleting with the reason, and nothing splits', async () => {
    expect((await storageSnapshots(names.held)).map((s) => s.deleted ?? false)).toEqual([false]);
    expect(await exists(bucket, `backups/${names.held}/velero-backup.json`)).toBe(true);
    const shown = await getBackup(backupServiceDeps(config), names.held);
    expect(shown.status.phase).toBe('Deleting');
    expect(shown.metadata.annotations?.['skiff.io/deletion-waiting-on']).toMatch(/source of cluster beta: PVC/);
    expect((await ledger()).events.filter((e) => e.type === 'CloneSplit')).toEqual([]);
  });

  it('a run stopped part way is finished by the next', async () => {
    const namespace = await workload('killed', ['sim-longhorn']);
    const killed = await backup('killed', namespace, '1s');
    // Expiration has one-second resolution: a run in the same second as the backup's end
    // would find it not yet expired, so these runs look a minute ahead.
    const clock = { now: () => new Date(Date.now() + 60_000), sleep: systemClock.sleep };
    const stop = new Error('stopped here');
    await expect(
      runExpiry(deps({ clock, afterAction: (e) => { if (e.backup === killed && e.kind === 'setDeletionPolicyDelete') throw stop; } }), { location: 'default' }),
    ).rejects.toBe(stop);
    expect(await exists(bucket, `metadata/skiff/deleting/${killed}.json`)).toBe(true);
    expect(await exists(bucket, `backups/${killed}/velero-backup.json`)).toBe(true);
    expect((await contentsLabelled(alpha, killed)).map((c) => c.spec.deletionPolicy)).toEqual(['Delete']);
    expect((await getBackup(backupServiceDeps(config), killed)).status.phase).toBe('Deleting');

    const next = await runExpiry(deps({ clock }), { location: 'default' });
    expect(next.deleted).toEqual([killed]);
    // Its content is Delete already: no second flip; it has no catalog entry (rediscovery has not seen it).
    expect(next.log.filter((e) => e.backup === killed).map((e) => e.kind)).toEqual(['deleteVolumeSnapshot', 'waitUntilContentGone', 'deleteBackupData', 'deleteDeletionMarker']);
    expect(next.log.filter((e) => e.outcome !== 'done')).toEqual([]);
    expect((await storageSnapshots(killed)).map((s) => s.deleted)).toEqual([true]);
    expect(await objectKeys(bucket, `backups/${killed}/`)).toEqual([]);
  });

  it('once the restored volume is gone, the next run frees the held snapshot in both clusters, with zero clone splits', async () => {
    await beta.delete(`/api/v1/namespaces/${restore.namespace}/persistentvolumeclaims/${restore.claim}`);
    await waitFor(
      async () => (await listAll(beta, '/api/v1/persistentvolumes')).every((pv) => (pv.spec as { claimRef?: { namespace?: string } }).claimRef?.namespace !== restore.namespace),
      { what: 'the restored volume to be deleted', timeoutMs: 60_000 },
    );
    const result = await runExpiry(deps(), { location: 'default' });
    expect(result.deleted).toEqual([names.held]);
    expect((await storageSnapshots(names.held)).map((s) => s.deleted)).toEqual([true]);
    expect(await contentsLabelled(alpha, names.held)).toEqual([]);
    await expect(beta.get(volumeSnapshotContentPath(restore.content))).rejects.toSatisfy(isNotFound);
    expect(await objectKeys(bucket, `backups/${names.held}/`)).toEqual([]);
    expect((await ledger()).events.filter((e) => e.type === 'CloneSplit')).toEqual([]);
  });

  it('DELETE of one backup: 404 unknown, 409 from a ReadOnly location, a dry run that writes nothing, then Deleting, idempotent, and done by its run', async () => {
    const d = deps();
    await expect(requestDeletion(d, 'no-such-backup')).rejects.toBeInstanceOf(NotFoundError);
    const readOnly = { ...config, storageLocations: config.storageLocations.map((l) => ({ ...l, accessMode: 'ReadOnly' as const })) };
    await expect(requestDeletion({ ...d, config: readOnly, storeFor: storeResolver(readOnly) }, names.fresh)).rejects.toThrow(/ReadOnly: Skiff never deletes from it/);
    await expect(requestDeletion({ ...d, config: readOnly, storeFor: storeResolver(readOnly) }, names.fresh)).rejects.toBeInstanceOf(ConflictError);

    const plan = (await requestDeletion(d, names.fresh, { dryRun: true })) as ExpiryPlan;
    expect(plan.actions.map((a) => a.kind)).toContain('deleteBackupData');
    expect(plan.actions.every((a) => a.backup === names.fresh)).toBe(true);
    expect(await exists(bucket, `metadata/skiff/deleting/${names.fresh}.json`)).toBe(false);

    expect(await requestDeletion(d, names.fresh)).toMatchObject({ phase: 'Deleting', accepted: true });
    expect(await requestDeletion(d, names.fresh)).toMatchObject({ phase: 'Deleting', accepted: false, why: 'its deletion was requested' });
    expect((await getBackup(backupServiceDeps(config), names.fresh)).status.phase).toBe('Deleting');
    const run = await runExpiry(d, { location: 'default', backup: names.fresh });
    expect(run.deleted).toEqual([names.fresh]);
    expect((await storageSnapshots(names.fresh)).map((s) => s.deleted)).toEqual([true]);
    await expect(getBackup(backupServiceDeps(config), names.fresh)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a failed backup, known only by its progress record, is removed once it expired; the dry run names it first', async () => {
    // Taken of a cluster that refuses connections and has since left the configuration.
    const alphaConfig = config.clusters.find((c) => c.name === 'alpha')!;
    const withGone: SkiffConfig = { ...config, clusters: [...config.clusters, { ...alphaConfig, name: 'gone', server: 'https://127.0.0.1:1' }] };
    const name = (await createBackup(backupServiceDeps(withGone), { cluster: 'gone', name: 'failed', includedNamespaces: ['default'], ttl: '1s' })).name;
    // Its lease runs out half a second after the failure, as at the end of an invocation.
    const { deps: backupDeps } = await observedDeps(withGone, name, () => 500);
    expect(await runBackup(backupDeps, name)).toEqual({ state: 'failed', phase: 'Failed' });
    const key = `metadata/skiff/backups-in-progress/${name}.json`;
    expect(await exists(bucket, key)).toBe(true);
    expect(await objectKeys(bucket, `backups/${name}/`)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    const dry = (await runExpiry(deps(), { location: 'default', dryRun: true })).plan;
    expect(dry.backups.find((b) => b.backup === name)).toEqual({
      backup: name,
      progressRecord: true,
      verdict: 'delete',
      why: expect.stringMatching(/^the backup failed \(.*\) and has no velero-backup.json \(its progress record under metadata\/ keeps what it left\); expired at /),
      finishes: true,
      waitingOn: [],
    });
    expect(dry.actions.filter((a) => a.backup === name).map(line)).toEqual([`deleteProgressRecord ${name} - ${key}`]);
    expect(await exists(bucket, key)).toBe(true);

    const run = await runExpiry(deps(), { location: 'default' });
    expect(run.log.map(line)).toEqual(dry.actions.map(line));
    expect(run.log.filter((e) => e.outcome !== 'done')).toEqual([]);
    expect(run.deleted).toEqual([name]);
    expect(await exists(bucket, key)).toBe(false);
    await expect(getBackup(backupServiceDeps(config), name)).rejects.toBeInstanceOf(NotFoundError);
  });
});
