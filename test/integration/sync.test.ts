import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { listBackups } from '../../lib/backup/service';
import { configWarnings, validateConfig, type SkiffConfig } from '../../lib/config';
import { systemClock } from '../../lib/core/clock';
import { volumeSnapshotContentPath, volumeSnapshotPath, volumeSnapshotsPath, type VolumeSnapshot, type VolumeSnapshotContent } from '../../lib/csi/snapshot-api';
import type { KubeClient } from '../../lib/kube/client';
import { connectCluster } from '../../lib/kube/connect';
import { isNotFound } from '../../lib/kube/errors';
import { listAll, type KubeObject } from '../../lib/kube/list-all';
import { createBackupStore, type BackupStore } from '../../lib/store/backup-store';
import { readCatalog } from '../../lib/store/catalog';
import { createS3Client, type S3RequestCounter } from '../../lib/store/s3-client';
import { discoverBackups } from '../../lib/sync/discover';
import { getSyncReport, runSync, type SyncDeps } from '../../lib/sync/service';
import { bedState, freshBucket, freshNamespace, ledger, s3Client, uniqueName, waitFor } from '../bed/context';
import { skiffConfigForBed } from '../bed/skiff-config';
import { observedDeps, requestBackup, waitUntilGone } from './backup-helpers';

/**
 * Rediscovery on the bed: a backup made in cluster alpha with a Longhorn-like PVC is
 * made usable in cluster beta, a PVC restored there from it, brought back into alpha
 * after a disaster, and a Velero-written backup with a wrong-format Longhorn handle is
 * catalogued and repaired. The storage simulator's ledger shows that no sync cut a
 * snapshot.
 */

const DRIVER = 'driver.longhorn.io';
let config: SkiffConfig;
let bucket: string;
let store: BackupStore;
let s3: S3RequestCounter;
const clients: KubeClient[] = [];
let alpha: KubeClient;
let beta: KubeClient;
let namespace: string;
let backupName: string;
/** The stored status.snapshotHandle of the backup's one snapshot. */
let handle: string;
let pvName: string;
/** A backup written in Velero's layout by the test, with a wrong-format Longhorn handle. */
let veleroBackup: string;

function deps(overrides: Partial<SyncDeps> = {}): SyncDeps {
  return {
    config,
    storeFor: () => store,
    connect: async (name) => {
      const client = await connectCluster(config.clusters.find((c) => c.name === name)!);
      clients.push(client);
      return client;
    },
    clock: systemClock,
    waitTimeoutMs: 60_000,
    ...overrides,
  };
}

function adminClient(name: string): Promise<KubeClient> {
  return connectCluster({ ...config.clusters.find((c) => c.name === name)!, qps: 1000, burst: 2000 });
}


/** Contents sync made in a cluster for a backup. */
async function syncedContents(client: KubeClient, backup: string): Promise<VolumeSnapshotContent[]> {
  const all = await listAll<VolumeSnapshotContent>(client, '/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents', {
    labelSelector: `velero.io/backup-name=${backup}`,
  });
  return all.filter((c) => c.metadata.name.startsWith('skiff-sync-'));
}

beforeAll(async () => {
  bucket = await freshBucket('sync');
  config = validateConfig(skiffConfigForBed(bedState(), { bucket, apiToken: 'test-api-token' }), 'test');
  const location = config.storageLocations[0]!;
  const counted = createS3Client(location);
  store = createBackupStore(counted.s3, location);
  s3 = counted.requests;
  alpha = await adminClient('alpha');
  beta = await adminClient('beta');

  namespace = await freshNamespace('alpha', 'sync');
  await alpha.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    metadata: { name: 'data' },
    spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  pvName = await waitFor(
    async () => {
      const pvc = await alpha.get<KubeObject & { status?: { phase?: string }; spec: { volumeName?: string } }>(
        `/api/v1/namespaces/${namespace}/persistentvolumeclaims/data`,
      );
      return pvc.status?.phase === 'Bound' ? pvc.spec.volumeName : undefined;
    },
    { what: 'PVC data to be bound', timeoutMs: 60_000 },
  );
  backupName = await requestBackup(config, {
    cluster: 'alpha',
    includedNamespaces: [namespace],
    annotations: { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-retain' },
  });
  const observed = await observedDeps(config, backupName, () => 600_000);
  expect(await runBackup(observed.deps, backupName)).toEqual({ state: 'completed', phase: 'Completed' });
  const stored = await store.getCsiVolumeSnapshotContents(backupName);
  expect(stored).toHaveLength(1);
  handle = stored[0]!.status!.snapshotHandle!;
  expect(handle).toMatch(new RegExp(`^bak://${pvName}/backup-[0-9a-f]{16}$`));
}, 180_000);

afterAll(() => {
  for (const client of [alpha, beta, ...clients]) client?.close();
});

describe('Rediscovery (sync)', () => {
  let synced: VolumeSnapshotContent;

  it("makes alpha's snapshot usable in beta with one run: a static, ready content with the stored handle", async () => {
    const result = await runSync(deps(), { cluster: 'beta' });

    const [location] = result.locations;
    expect(location!.report).toMatchObject({ found: 1, new: [backupName], gone: [], skipped: [] });
    expect(location!.clusters).toHaveLength(1);
    expect(location!.clusters[0]).toMatchObject({ cluster: 'beta', created: [expect.stringMatching(/^skiff-sync-/)], ready: 1, notReady: [], waiting: 0 });
    const [content] = await syncedContents(beta, backupName);
    synced = content!;
    expect(synced.spec).toMatchObject({ deletionPolicy: 'Retain', driver: DRIVER, source: { snapshotHandle: handle }, volumeSnapshotClassName: 'sim-longhorn-retain' });
    expect(synced.spec.source.volumeHandle).toBeUndefined();
    expect(synced.spec.volumeSnapshotRef).toMatchObject({ name: `name-${synced.metadata.name}`, namespace: "default" });
    expect(synced.metadata.annotations).toMatchObject({ 'skiff.io/source-cluster': 'alpha', 'skiff.io/source-storage-location': 'default' });
    expect(synced.status).toMatchObject({ readyToUse: true, snapshotHandle: handle });

    const catalog = (await readCatalog(store)).catalog;
    expect(catalog.backups[backupName]).toMatchObject({ cluster: 'alpha', writtenBy: 'skiff', snapshots: 1, drivers: [DRIVER] });
  });

  it("restores a PVC in beta from a VolumeSnapshot bound to that content: a volume made from alpha's snapshot", async () => {
    const restoreNs = await freshNamespace('beta', 'sync-restore');
    // What a restore does with a synced content: point it at its VolumeSnapshot, then claim it.
    await beta.patch(volumeSnapshotContentPath(synced.metadata.name), { spec: { volumeSnapshotRef: { namespace: restoreNs, name: 'restored' } } });
    await beta.create(volumeSnapshotsPath(restoreNs), {
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshot',
      metadata: { name: 'restored' },
      spec: { source: { volumeSnapshotContentName: synced.metadata.name } },
    });
    await waitFor(async () => (await beta.get<VolumeSnapshot>(volumeSnapshotPath(restoreNs, 'restored'))).status?.readyToUse === true, {
      what: 'the VolumeSnapshot in beta to be ready',
      timeoutMs: 60_000,
    });
    await beta.create(`/api/v1/namespaces/${restoreNs}/persistentvolumeclaims`, {
      metadata: { name: 'data' },
      spec: {
        storageClassName: 'sim-longhorn',
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
        dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'restored' },
      },
    });
    const volume = await waitFor(
      async () => (await ledger()).volumes.find((v) => v.cluster === 'beta' && v.claim?.namespace === restoreNs && v.claim.name === 'data'),
      { what: 'the restored volume in beta', timeoutMs: 60_000 },
    );
    expect(volume.clonedFromSnapshot).toBe(handle);
    expect((await ledger()).snapshots.find((s) => s.handle === handle)).toMatchObject({ cluster: 'alpha', sourceVolume: pvName });
  });

  it('creates nothing in a second run, and reads no object beyond the catalog', async () => {
    s3.reset();
    const client = await adminClient('beta');
    const result = await runSync(deps({ connect: async () => client }), { cluster: 'beta' });

    expect(result.locations[0]!.report).toMatchObject({ found: 1, new: [], gone: [] });
    expect(result.locations[0]!.clusters[0]).toMatchObject({ created: [], alreadyThere: [], planned: [] });
    const reads = s3.log().filter((r) => r.operation === 'GetObject' || r.operation === 'HeadObject');
    expect(reads.map((r) => r.key)).toEqual([store.layout.catalogKey()]);
    const lists = s3.count('ListObjectsV2');
    // backups/ (one page); the in-progress LIST only when beta holds contents of backups this bucket does not know.
    expect(lists).toBeGreaterThanOrEqual(1);
    expect(lists).toBeLessThanOrEqual(2);
    // One LIST of beta's VolumeSnapshotContents; no write (client.close is not a request).
    expect(client.requestCount).toBe(1);
    console.log('second run:', { s3: s3.byOperation(), kube: client.requestCount });

    const report = await getSyncReport({ config, storeFor: () => store });
    expect(report.locations[0]).toMatchObject({ location: 'default', rediscovery: 'on', lastRun: { found: 1 }, clusters: [{ cluster: 'beta' }] });
  });

  it('brings the contents back into alpha after a disaster, once, with two runs at once', async () => {
    const [vs] = await listAll<VolumeSnapshot>(alpha, volumeSnapshotsPath(namespace), { labelSelector: `velero.io/backup-name=${backupName}` });
    const contentName = vs!.status!.boundVolumeSnapshotContentName!;
    expect((await alpha.get<VolumeSnapshotContent>(volumeSnapshotContentPath(contentName))).spec.deletionPolicy).toBe('Retain');
    await alpha.delete(volumeSnapshotPath(namespace, vs!.metadata.name));
    await waitUntilGone(alpha, volumeSnapshotPath(namespace, vs!.metadata.name), 'the VolumeSnapshot in alpha to be gone');
    await alpha.delete(`/api/v1/namespaces/${namespace}`);
    await alpha.delete(volumeSnapshotContentPath(contentName));
    await waitUntilGone(alpha, volumeSnapshotContentPath(contentName), 'the VolumeSnapshotContent in alpha to be gone');
    expect((await ledger()).snapshots.find((s) => s.handle === handle)?.deleted).not.toBe(true);

    const runs = await Promise.all([runSync(deps(), { cluster: 'alpha' }), runSync(deps(), { cluster: 'alpha' })]);

    const outcomes = runs.map((r) => r.locations[0]!.clusters[0]!);
    const created = outcomes.flatMap((o) => o.created);
    expect(created).toHaveLength(1);
    // The other run got 409 for the same name, or already found it there.
    expect(outcomes.flatMap((o) => o.alreadyThere).every((name) => name === created[0])).toBe(true);
    const [back] = await syncedContents(alpha, backupName);
    expect(back).toMatchObject({ spec: { source: { snapshotHandle: handle }, deletionPolicy: 'Retain' }, status: { readyToUse: true } });
    expect(await syncedContents(alpha, backupName)).toHaveLength(1);
  });

  it('catalogues a backup Velero wrote and repairs its wrong-format Longhorn handle (bs://<pvcName>/<backup>)', async () => {
    veleroBackup = uniqueName('velero-made');
    const longhornBackup = handle.split('/').pop()!;
    const wrong = `bs://data/${longhornBackup}`;
    const now = new Date();
    const put = (key: string, body: Buffer | string) => s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    // Velero's layout: the CSI list first, velero-backup.json last (no skiff.io/cluster label).
    await put(
      store.layout.csiVolumeSnapshotContentsKey(veleroBackup),
      gzipSync(
        JSON.stringify([
          {
            apiVersion: 'snapshot.storage.k8s.io/v1',
            kind: 'VolumeSnapshotContent',
            metadata: { name: 'snapcontent-velero-1', labels: { 'velero.io/backup-name': veleroBackup } },
            spec: {
              deletionPolicy: 'Retain',
              driver: DRIVER,
              source: { volumeHandle: pvName },
              volumeSnapshotClassName: 'sim-longhorn-retain',
              volumeSnapshotRef: { namespace: 'app', name: 'velero-data-abcde' },
            },
            status: { snapshotHandle: wrong, readyToUse: true, restoreSize: 1073741824 },
          },
        ]),
      ),
    );
    await put(
      store.layout.backupMetadataKey(veleroBackup),
      JSON.stringify({
        apiVersion: 'velero.io/v1',
        kind: 'Backup',
        metadata: { name: veleroBackup, namespace: 'velero', labels: { 'velero.io/storage-location': 'default' } },
        spec: { includedNamespaces: ['app'], storageLocation: 'default', ttl: '720h0m0s' },
        status: {
          phase: 'Completed',
          formatVersion: '1.1.0',
          version: 1,
          startTimestamp: now.toISOString(),
          completionTimestamp: now.toISOString(),
          expiration: new Date(now.getTime() + 720 * 3600_000).toISOString(),
          csiVolumeSnapshotsAttempted: 1,
          csiVolumeSnapshotsCompleted: 1,
        },
      }),
    );

    const result = await runSync(deps(), { cluster: 'beta' });

    expect(result.locations[0]!.report.new).toEqual([veleroBackup]);
    expect((await readCatalog(store)).catalog.backups[veleroBackup]).toMatchObject({ writtenBy: 'velero', snapshots: 1, drivers: [DRIVER] });
    expect((await readCatalog(store)).catalog.backups[veleroBackup]?.cluster).toBeUndefined();
    const outcome = result.locations[0]!.clusters[0]!;
    const repaired = `bak://${pvName}/${longhornBackup}`;
    expect(outcome.repairs).toEqual([expect.objectContaining({ backup: veleroBackup, oldHandle: wrong, newHandle: repaired, cluster: 'beta' })]);
    expect(outcome).toMatchObject({ created: [expect.any(String)], ready: 1, notReady: [] });
    const [content] = await syncedContents(beta, veleroBackup);
    expect(content).toMatchObject({ spec: { source: { snapshotHandle: repaired } }, status: { readyToUse: true } });
    expect(content!.metadata.annotations).toMatchObject({ 'skiff.io/source-cluster': 'unknown' });
  });

  it('repairs contents already in a cluster whose Longhorn handle has the wrong form: a right content and VolumeSnapshot, the wrong one retired', async () => {
    const longhornBackup = handle.split('/').pop()!;
    const wrongHandle = `bs://data/${longhornBackup}`;
    const api = '/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents';
    const wrongContent = (name: string, backup: string, ref: { namespace: string; name: string }) => ({
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshotContent',
      metadata: { name, labels: { 'velero.io/backup-name': backup } },
      spec: { deletionPolicy: 'Retain', driver: DRIVER, source: { snapshotHandle: wrongHandle }, volumeSnapshotRef: ref },
    });
    // As a buggy synchroniser left them: one unbound, one bound to a VolumeSnapshot an application uses.
    const unbound = uniqueName('harvester-unbound');
    await beta.create(api, wrongContent(unbound, backupName, { namespace: 'nowhere', name: unbound }));
    const appNs = await freshNamespace('beta', 'sync-wrong');
    const bound = uniqueName('harvester-bound');
    await beta.create(api, wrongContent(bound, veleroBackup, { namespace: appNs, name: 'app-snap' }));
    await beta.create(volumeSnapshotsPath(appNs), {
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshot',
      metadata: { name: 'app-snap', labels: { app: 'web' } },
      spec: { source: { volumeSnapshotContentName: bound } },
    });
    await waitFor(async () => Boolean((await beta.get<VolumeSnapshotContent>(volumeSnapshotContentPath(bound))).spec.volumeSnapshotRef.uid), {
      what: 'the wrong content to be bound to its VolumeSnapshot',
      timeoutMs: 60_000,
    });

    const dry = await runSync(deps(), { cluster: 'beta', dryRun: true });
    expect(dry.locations[0]!.clusters[0]!.wrongHandles).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ content: unbound, backup: backupName, handle: wrongHandle, repair: handle }),
        expect.objectContaining({ content: bound, backup: veleroBackup, handle: wrongHandle, repair: handle }),
      ]),
    );
    expect(dry.locations[0]!.clusters[0]!.repairs).toEqual([]);

    const result = await runSync(deps(), { cluster: 'beta' });

    const repairs = result.locations[0]!.clusters[0]!.repairs;
    expect(repairs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ retired: unbound, backup: backupName, oldHandle: wrongHandle, newHandle: handle, cluster: 'beta' }),
        expect.objectContaining({ retired: bound, backup: veleroBackup, oldHandle: wrongHandle, newHandle: handle, volumeSnapshot: `${appNs}/app-snap-repaired` }),
      ]),
    );
    const replacement = await waitFor(
      async () => {
        const vs = await beta.get<VolumeSnapshot>(volumeSnapshotPath(appNs, 'app-snap-repaired'));
        return vs.status?.readyToUse ? vs : undefined;
      },
      { what: 'the replacing VolumeSnapshot to be ready', timeoutMs: 60_000 },
    );
    const right = await beta.get<VolumeSnapshotContent>(volumeSnapshotContentPath(replacement.status!.boundVolumeSnapshotContentName!));
    expect(right.status).toMatchObject({ readyToUse: true, snapshotHandle: handle });
    expect(replacement.metadata.labels).toMatchObject({ app: 'web' });
    for (const name of [unbound, bound]) {
      const retired = await beta.get<VolumeSnapshotContent>(volumeSnapshotContentPath(name));
      expect(retired.spec).toMatchObject({ deletionPolicy: 'Retain', source: { snapshotHandle: wrongHandle } });
      expect(retired.metadata.labels?.['velero.io/backup-name']).toBeUndefined();
      expect(retired.metadata.annotations?.['skiff.io/replaced-by']).toMatch(/^skiff-sync-/);
    }
    expect((await ledger()).snapshots.find((s) => s.handle === handle)?.deleted).not.toBe(true);
  });

  it("cut no snapshot in any sync: the ledger has only the backup's", async () => {
    const state = await ledger();
    const cutBySync = state.events.filter((e) => e.type === 'SnapshotCreated' && (e.object ?? '').includes('skiff-sync-'));
    expect(cutBySync).toEqual([]);
    expect(state.snapshots.filter((s) => s.handle === handle)).toHaveLength(1);
    expect(state.snapshots.filter((s) => s.backupName === handle.split('/').pop())).toHaveLength(1);
  });

  it('says rediscovery is off when refreshInterval is 0: in the warnings, the run and the report', async () => {
    const off = validateConfig({ ...skiffConfigForBed(bedState(), { bucket, apiToken: 't' }), storageLocations: [{ ...skiffConfigForBed(bedState(), { bucket, apiToken: 't' }).storageLocations[0], refreshInterval: '0' }] }, 'test');
    expect(configWarnings(off)).toEqual(expect.arrayContaining([expect.stringMatching(/rediscovery is OFF for storage location "default"/)]));
    const report = await getSyncReport({ config: off, storeFor: () => store });
    expect(report.locations[0]).toMatchObject({ rediscovery: 'off', warning: expect.stringMatching(/after a disaster/) });
    const run = await runSync({ ...deps(), config: off }, { location: 'default', cluster: 'beta', dryRun: true });
    expect(run.locations[0]!.warning).toMatch(/rediscovery is OFF/);
    // Everything is in place by now: a dry run plans nothing, and reports no repair again.
    expect(run.locations[0]!.clusters[0]).toMatchObject({ planned: [], repairs: [], created: [] });
  });

  it('lists backups from the catalog: one GET for the catalogued ones, a GET by name for one written since', async () => {
    const late = uniqueName('velero-late');
    await s3Client().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: store.layout.backupMetadataKey(late),
        Body: JSON.stringify({ apiVersion: 'velero.io/v1', kind: 'Backup', metadata: { name: late, namespace: 'velero' }, spec: {}, status: { phase: 'Completed' } }),
      }),
    );
    s3.reset();

    const listed = await listBackups({ config, storeFor: () => store, now: () => new Date() });

    expect(listed.unreadable).toEqual([]);
    expect(listed.items.map((b) => b.metadata.name)).toEqual(expect.arrayContaining([backupName, late]));
    expect(listed.items.find((b) => b.metadata.name === backupName)).toMatchObject({
      metadata: { labels: { 'skiff.io/cluster': 'alpha' } },
      status: { phase: 'Completed', csiVolumeSnapshotsCompleted: 1 },
    });
    const reads = s3.log().filter((r) => r.operation === 'GetObject').map((r) => r.key);
    expect(reads.sort()).toEqual([store.layout.catalogKey(), store.layout.backupMetadataKey(late)].sort());
  });
});

describe('Rediscovery: what discovery skips, reports and drops', () => {
  it('skips backups without velero-backup.json, with files that do not parse or being deleted, and drops backups gone from the bucket', async () => {
    const own = await freshBucket('sync-faults');
    const location = { ...config.storageLocations[0]!, bucket: own };
    const counted = createS3Client(location);
    const faults = createBackupStore(counted.s3, location);
    const put = (key: string, body: string | Buffer) => s3Client().send(new PutObjectCommand({ Bucket: own, Key: key, Body: body }));
    const backup = (name: string) =>
      JSON.stringify({ apiVersion: 'velero.io/v1', kind: 'Backup', metadata: { name, namespace: 'velero' }, spec: {}, status: { phase: 'Completed' } });
    await put(faults.layout.backupContentsKey('unfinished'), 'tarball');
    await put(faults.layout.backupMetadataKey('not-json'), '{ this is not JSON');
    await put(faults.layout.backupMetadataKey('not-a-backup'), JSON.stringify({ kind: 'ConfigMap' }));
    await put(faults.layout.backupMetadataKey('bad-csi-list'), backup('bad-csi-list'));
    await put(faults.layout.csiVolumeSnapshotContentsKey('bad-csi-list'), gzipSync(JSON.stringify([{ metadata: {} }])));
    await put(faults.layout.backupMetadataKey('deleting'), backup('deleting'));
    await put(faults.layout.deletionMarkerKey('deleting'), '{}');
    await put(faults.layout.backupMetadataKey('good'), backup('good'));
    const discoverDeps = {
      store: faults,
      clock: systemClock,
      deletionMarkers: async () => new Set(await faults.listDeletionMarkers()),
      writable: true,
    };

    const first = await discoverBackups(discoverDeps, { dryRun: false });

    expect(first).toMatchObject({ found: 6, new: ['good'], gone: [] });
    const reasons = Object.fromEntries(first.skipped.map((s) => [s.backup, s.reason]));
    expect(reasons).toEqual({
      unfinished: expect.stringMatching(/no velero-backup.json/),
      'not-json': expect.stringMatching(/velero-backup.json does not parse: .*not valid JSON/),
      'not-a-backup': expect.stringMatching(/velero-backup.json does not parse/),
      'bad-csi-list': expect.stringMatching(/CSI VolumeSnapshotContent list does not parse/),
      deleting: expect.stringMatching(/being deleted/),
    });
    expect(Object.keys((await readCatalog(faults)).catalog.backups)).toEqual(['good']);

    await faults.deleteBackup('good');
    const second = await discoverBackups(discoverDeps, { dryRun: false });
    expect(second.gone).toEqual(['good']);
    expect((await readCatalog(faults)).catalog.backups).toEqual({});
  });
});

