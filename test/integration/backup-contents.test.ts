import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { getBackup, getBackupLog } from '../../lib/backup/service';
import type { BackupProgressRecord } from '../../lib/backup/progress-record';
import { backupServiceDeps } from '../../lib/backup/service';
import { storeResolver } from '../../lib/store/resolver';
import type { SkiffConfig } from '../../lib/config';
import type { KubeClient } from '../../lib/kube/client';
import { listAll, type KubeObject } from '../../lib/kube/list-all';
import type { S3RequestRecord } from '../../lib/store/s3-client';
import type { Backup } from '../../lib/velero/backup';
import { parseDuration } from '../../lib/velero/duration';
import { freshNamespace, uniqueName } from '../bed/context';
import {
  bedConfig,
  clusterClient,
  createWidgetCrd,
  createWorkload,
  exists,
  getBytes,
  getGzipJson,
  namespacePaths,
  objectKeys,
  objectOf,
  observedDeps,
  pathsOf,
  requestBackup,
  simulatorConfig,
  tarEntries,
  type TarEntry,
  type Workload,
} from './backup-helpers';

/**
 * One backup of one namespace, looked at as a user would: what the tarball holds
 * (compared with what the API server lists), the other objects Velero reads, the
 * snapshots left in the cluster, and the order in which the objects were written.
 */

const SNAPSHOT_DELAY_MS = 2_500;

let config: SkiffConfig;
let bucket: string;
let client: KubeClient;
let workload: Workload;
let crdName: string;
let widgetGroup: string;
let backupName: string;
let entries: TarEntry[];
let stored: Backup;
let s3Log: S3RequestRecord[];
let seenWhileRunning: { metadata: number; polls: number; phases: Set<string>; stages: Set<string>; log?: string };
let apiPathsBefore: Set<string>;

const keyOf = (suffix: string) => `backups/${backupName}/${suffix}`;

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('backup-contents'));
  client = await clusterClient(config);
  widgetGroup = `${uniqueName('t')}.example.com`;
  crdName = await createWidgetCrd(client, widgetGroup);
  workload = await createWorkload(client, await freshNamespace('alpha', 'contents'), widgetGroup);
  // Another namespace with look-alike objects that must stay out.
  const neighbour = await freshNamespace('alpha', 'contents-other');
  await client.create(`/api/v1/namespaces/${neighbour}/configmaps`, { metadata: { name: 'settings' }, data: { x: '1' } });
  await client.create(`/apis/${widgetGroup}/v1/namespaces/${neighbour}/widgets`, {
    apiVersion: `${widgetGroup}/v1`,
    kind: 'Widget',
    metadata: { name: 'w1' },
  });
  apiPathsBefore = await namespacePaths(client, workload.namespace, (gr) => gr.startsWith('events'));

  backupName = await requestBackup(config, {
    cluster: 'alpha',
    name: `contents-${workload.namespace}`.slice(0, 63),
    includedNamespaces: [workload.namespace],
    ttl: '72h',
    annotations: { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-delete' },
  });
  const observed = await observedDeps(config, backupName, () => 600_000);

  // Slow snapshots down so the run lasts a while, and watch the bucket meanwhile.
  const previous = await simulatorConfig({ snapshotDelayMs: SNAPSHOT_DELAY_MS });
  seenWhileRunning = { metadata: 0, polls: 0, phases: new Set(), stages: new Set() };
  const store = storeResolver(config)('default');
  let running = true;
  const watcher = (async () => {
    while (running) {
      // Metadata first, then the record: a record still short of Finalizing after the
      // metadata was seen proves the metadata existed while the backup was running.
      const metadataSeen = await exists(bucket, keyOf('velero-backup.json'));
      const record = (await store.getProgress(backupName))?.record as BackupProgressRecord | undefined;
      if (record) {
        seenWhileRunning.stages.add(record.stage);
        if (record.backup.status.phase) seenWhileRunning.phases.add(record.backup.status.phase);
        if (metadataSeen && ['New', 'Snapshots', 'Resources'].includes(record.stage)) seenWhileRunning.metadata += 1;
        // The slowed snapshots keep the backup in this stage for seconds: read its log as a user would.
        if (record.stage === 'Snapshots') seenWhileRunning.log ??= await getBackupLog(backupServiceDeps(config), backupName);
      }
      seenWhileRunning.polls += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    const outcome = await runBackup(observed.deps, backupName);
    expect(outcome).toEqual({ state: 'completed', phase: 'Completed' });
  } finally {
    running = false;
    await watcher;
    await simulatorConfig({ snapshotDelayMs: previous.snapshotDelayMs ?? 0 });
  }
  s3Log = observed.s3.log();
  entries = await tarEntries(await getBytes(bucket, keyOf(`${backupName}.tar.gz`)));
  stored = (await getBackup(backupServiceDeps(config), backupName)) as Backup;
}, 240_000);

afterAll(() => client?.close());

/** Every file of the backup but velero-backup.json, by name. */
function dataFiles(): string[] {
  return [
    `${backupName}.tar.gz`,
    `${backupName}-logs.gz`,
    `${backupName}-resource-list.json.gz`,
    `${backupName}-results.gz`,
    `${backupName}-volumeinfo.json.gz`,
    `${backupName}-itemoperations.json.gz`,
    `${backupName}-csi-volumesnapshots.json.gz`,
    `${backupName}-csi-volumesnapshotcontents.json.gz`,
    `${backupName}-csi-volumesnapshotclasses.json.gz`,
  ];
}

describe('a backup of one namespace', () => {
  it('holds every object of the namespace, at both paths, once, and nothing of other namespaces', async () => {
    const paths = entries.map((e) => e.name);
    expect(paths.length).toBe(new Set(paths).size);
    expect(paths[0]).toBe('metadata/version');
    expect(entries[0]!.body).toBe('1.1.0\n');

    const apiPathsAfter = await namespacePaths(client, workload.namespace, (gr) => gr.startsWith('events'));
    // Objects that exist before and after the backup must be in it; the backup's own VolumeSnapshots are new.
    const namespaced = new Set(paths.filter((p) => /^resources\/[^/]+\/([^/]+\/)?namespaces\//.test(p) && !p.startsWith('resources/events')));
    for (const path of apiPathsBefore) if (apiPathsAfter.has(path)) expect(namespaced).toContain(path);
    for (const path of namespaced) expect(apiPathsAfter).toContain(path);
    for (const path of namespaced) expect(path).toContain(`/namespaces/${workload.namespace}/`);

    // The kinds a user would look for, spelled out.
    const ns = workload.namespace;
    for (const [gr, name] of [
      ['deployments.apps', 'web'],
      ['configmaps', 'settings'],
      ['configmaps', 'flags'],
      ['secrets', 'db'],
      [`widgets.${widgetGroup}`, 'w1'],
      [`widgets.${widgetGroup}`, 'w2'],
      [`widgets.${widgetGroup}`, 'w3'],
      ['persistentvolumeclaims', 'data'],
      ['persistentvolumeclaims', 'logs'],
      ['serviceaccounts', 'default'],
    ] as const) {
      for (const path of pathsOf(gr, 'v1', ns, name)) expect(paths).toContain(path);
    }

    // Events are listed once, as core events (Velero skips the events.k8s.io twin), and are real events.
    expect(paths.filter((p) => p.startsWith('resources/events.events.k8s.io/'))).toEqual([]);
    const apiEvents = new Set((await listAll(client, `/api/v1/namespaces/${ns}/events`)).map((e) => e.metadata.name));
    for (const path of paths.filter((p) => p.startsWith('resources/events/namespaces/'))) {
      expect(apiEvents).toContain(path.split('/').pop()!.replace(/\.json$/, ''));
    }

    // Cluster-scoped: the namespace, the PVs of its PVCs, the snapshot objects, and the CRD of
    // the Widgets (Velero's backupCRD); nothing else, since cluster resources are not included.
    const pvs = await Promise.all(
      workload.pvcs.map(async (pvc) => (await client.get<KubeObject>(`/api/v1/namespaces/${ns}/persistentvolumeclaims/${pvc}`)).spec),
    );
    const contents = (await listAll(client, '/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents', { labelSelector: `velero.io/backup-name=${backupName}` })).map(
      (c) => c.metadata.name,
    );
    expect(contents).toHaveLength(workload.pvcs.length);
    const expectedCluster = [
      ...pathsOf('namespaces', 'v1', undefined, ns),
      ...pvs.flatMap((spec) => pathsOf('persistentvolumes', 'v1', undefined, (spec as { volumeName: string }).volumeName)),
      ...contents.flatMap((name) => pathsOf('volumesnapshotcontents.snapshot.storage.k8s.io', 'v1', undefined, name)),
      ...pathsOf('volumesnapshotclasses.snapshot.storage.k8s.io', 'v1', undefined, 'sim-longhorn-delete'),
      ...pathsOf('customresourcedefinitions.apiextensions.k8s.io', 'v1', undefined, crdName),
    ].sort();
    expect(paths.filter((p) => p.includes('/cluster/')).sort()).toEqual(expectedCluster);

    // Each file is the object as the API server has it.
    const secret = objectOf(entries.find((e) => e.name === `resources/secrets/namespaces/${ns}/db.json`)!);
    expect(secret).toMatchObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: ns } });
    expect(Buffer.from((secret.data as { password: string }).password, 'base64').toString()).toBe('hunter2');
    const widget = objectOf(entries.find((e) => e.name === `resources/widgets.${widgetGroup}/v1-preferredversion/namespaces/${ns}/w2.json`)!);
    expect(widget).toMatchObject({ apiVersion: `${widgetGroup}/v1`, kind: 'Widget', spec: { size: 'w2' } });
  });

  it('lists in the resource list exactly what the tarball holds, and counts it in the progress', async () => {
    const fromTarball: Record<string, string[]> = {};
    for (const entry of entries) {
      if (!entry.name.startsWith('resources/') || entry.name.split('/')[2]!.endsWith('-preferredversion')) continue;
      const object = objectOf(entry);
      const key = `${object.apiVersion}/${object.kind}`;
      (fromTarball[key] ??= []).push(object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name);
    }
    for (const names of Object.values(fromTarball)) names.sort();
    const list = await getGzipJson<Record<string, string[]>>(bucket, keyOf(`${backupName}-resource-list.json.gz`));
    expect(list).toEqual(fromTarball);
    expect(list[`${widgetGroup}/v1/Widget`]).toEqual(['w1', 'w2', 'w3'].map((w) => `${workload.namespace}/${w}`));

    const items = Object.values(fromTarball).reduce((n, names) => n + names.length, 0);
    expect(stored.status.progress).toEqual({ totalItems: items, itemsBackedUp: items });
  });

  it('writes the Backup Velero reads: Completed, expiring after its ttl, labelled with its location', async () => {
    const document = JSON.parse((await getBytes(bucket, keyOf('velero-backup.json'))).toString('utf8')) as Backup;
    expect(document).toEqual(stored);
    expect(document).toMatchObject({
      apiVersion: 'velero.io/v1',
      kind: 'Backup',
      metadata: { name: backupName, labels: { 'velero.io/storage-location': 'default', 'skiff.io/cluster': 'alpha' } },
      spec: { includedNamespaces: [workload.namespace], ttl: '72h0m0s', storageLocation: 'default' },
      status: {
        phase: 'Completed',
        formatVersion: '1.1.0',
        csiVolumeSnapshotsAttempted: 2,
        csiVolumeSnapshotsCompleted: 2,
      },
    });
    const { startTimestamp, expiration, completionTimestamp } = document.status;
    expect(Date.parse(expiration!) - Date.parse(startTimestamp!)).toBe(parseDuration('72h'));
    expect(Date.parse(completionTimestamp!)).toBeGreaterThanOrEqual(Date.parse(startTimestamp!));
    // Go's omitempty: no errors and no warnings are left out.
    expect(document.status.errors ?? 0).toBe(0);
  });

  it('writes the results, log, volume info, item operations and CSI lists, each parseable', async () => {
    const keys = await objectKeys(bucket, `backups/${backupName}/`);
    expect(keys).toEqual(
      [
        'velero-backup.json',
        ...dataFiles(),
      ]
        .map(keyOf)
        .sort(),
    );
    expect(await getGzipJson(bucket, keyOf(`${backupName}-results.gz`))).toEqual({ errors: {}, warnings: {} });
    expect(await getGzipJson(bucket, keyOf(`${backupName}-itemoperations.json.gz`))).toEqual([]);
    const volumeInfos = await getGzipJson<{ pvcName: string; backupMethod: string; result: string }[]>(bucket, keyOf(`${backupName}-volumeinfo.json.gz`));
    expect(volumeInfos.map((v) => [v.pvcName, v.backupMethod, v.result]).sort()).toEqual([
      ['data', 'CSISnapshot', 'succeeded'],
      ['logs', 'CSISnapshot', 'succeeded'],
    ]);
    const snapshots = await getGzipJson<KubeObject[]>(bucket, keyOf(`${backupName}-csi-volumesnapshots.json.gz`));
    const contents = await getGzipJson<KubeObject[]>(bucket, keyOf(`${backupName}-csi-volumesnapshotcontents.json.gz`));
    const classes = await getGzipJson<KubeObject[]>(bucket, keyOf(`${backupName}-csi-volumesnapshotclasses.json.gz`));
    expect(snapshots).toHaveLength(2);
    expect(contents).toHaveLength(2);
    expect(classes.map((c) => c.metadata.name)).toEqual(['sim-longhorn-delete']);

    const log = gunzipSync(await getBytes(bucket, keyOf(`${backupName}-logs.gz`))).toString('utf8');
    expect(log).toContain('backup started');
    expect(log).toContain('backup completed');
    expect(log).not.toContain('hunter2');
  });

  it('shows its log while it runs, and the stored log once it completed', async () => {
    expect(seenWhileRunning.log).toMatch(/level=info msg="backup started"/);
    expect(seenWhileRunning.log).not.toContain('backup completed');
    const storedLog = gunzipSync(await getBytes(bucket, keyOf(`${backupName}-logs.gz`))).toString('utf8');
    expect(await getBackupLog(backupServiceDeps(config), backupName)).toBe(storedLog);
    expect(storedLog.startsWith(seenWhileRunning.log!)).toBe(true);
  });

  it('leaves a VolumeSnapshot per PVC and a Retain content labelled for the backup, with a Longhorn handle', async () => {
    const ns = workload.namespace;
    const snapshots = await listAll(client, `/apis/snapshot.storage.k8s.io/v1/namespaces/${ns}/volumesnapshots`);
    expect(snapshots.map((vs) => (vs.spec as { source: { persistentVolumeClaimName: string } }).source.persistentVolumeClaimName).sort()).toEqual([
      'data',
      'logs',
    ]);
    for (const vs of snapshots) {
      const pvc = (vs.spec as { source: { persistentVolumeClaimName: string } }).source.persistentVolumeClaimName;
      expect(vs.metadata.generateName).toBe(`velero-${pvc}-`);
      expect(vs.metadata.name).toMatch(new RegExp(`^velero-${pvc}-[a-z0-9]{5}$`));
      expect(vs.metadata.labels).toMatchObject({ 'velero.io/backup-name': backupName, app: 'web' });
      const status = vs.status as { boundVolumeSnapshotContentName: string; readyToUse: boolean };
      expect(status.readyToUse).toBe(true);
      const content = await client.get<KubeObject & { spec: { deletionPolicy: string }; status: { snapshotHandle: string } }>(
        `/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents/${status.boundVolumeSnapshotContentName}`,
      );
      expect(content.metadata.labels).toMatchObject({ 'velero.io/backup-name': backupName });
      // Retain for the backup's life although the class says Delete; the class's policy is kept.
      expect(content.spec.deletionPolicy).toBe('Retain');
      expect(content.metadata.annotations).toMatchObject({ 'skiff.io/original-deletion-policy': 'Delete' });
      expect(content.status.snapshotHandle).toMatch(/^bak:\/\/pvc-[0-9a-f-]+\/backup-[0-9a-f]{16}$/);
      // The tarball holds the VolumeSnapshot, and the PVC names it.
      expect(entries.map((e) => e.name)).toContain(`resources/volumesnapshots.snapshot.storage.k8s.io/namespaces/${ns}/${vs.metadata.name}.json`);
      const pvcInTarball = objectOf(entries.find((e) => e.name === `resources/persistentvolumeclaims/namespaces/${ns}/${pvc}.json`)!);
      expect(pvcInTarball.metadata.annotations).toMatchObject({ 'velero.io/volume-snapshot-name': vs.metadata.name });
    }
  });

  it('writes velero-backup.json once and last, and never shows it while the backup runs', () => {
    expect(seenWhileRunning.polls).toBeGreaterThan(5);
    expect(seenWhileRunning.metadata).toBe(0);
    expect([...seenWhileRunning.phases]).toContain('InProgress');
    // The polls saw the run while it was taking its (slowed) snapshots, before anything was written.
    expect([...seenWhileRunning.stages]).toContain('Snapshots');

    const writes = s3Log.filter((r) => ['PutObject', 'UploadPart', 'CompleteMultipartUpload', 'CreateMultipartUpload', 'DeleteObject'].includes(r.operation));
    const metadataPuts = writes.filter((r) => r.key === keyOf('velero-backup.json'));
    expect(metadataPuts).toEqual([{ operation: 'PutObject', key: keyOf('velero-backup.json') }]);
    const at = writes.indexOf(metadataPuts[0]!);
    // After it only the progress record goes away; every object of the backup came before it.
    expect(writes.slice(at + 1).map((r) => r.operation)).toEqual(['DeleteObject']);
    expect(writes[at + 1]!.key).toMatch(/^metadata\//);
    const before = new Set(writes.slice(0, at).filter((r) => r.operation === 'PutObject' || r.operation === 'CompleteMultipartUpload').map((r) => r.key));
    for (const key of dataFiles()) {
      expect(before).toContain(keyOf(key));
    }
    // Work in progress lives under metadata/, never where Velero looks.
    const progressWrites = writes.filter((r) => r.operation === 'PutObject' && !r.key!.startsWith(`backups/`));
    expect(progressWrites.length).toBeGreaterThan(0);
    for (const r of progressWrites) expect(r.key).toMatch(/^metadata\//);
  });
});

describe('the CRD of backed-up custom resources', () => {
  it.each([
    { includeClusterResources: undefined, crd: true, otherClusterScoped: false },
    { includeClusterResources: false, crd: false, otherClusterScoped: false },
    { includeClusterResources: true, crd: true, otherClusterScoped: true },
  ])('with includeClusterResources $includeClusterResources: CRD $crd, other cluster-scoped $otherClusterScoped', async ({ includeClusterResources, crd, otherClusterScoped }) => {
    const name = await requestBackup(config, {
      cluster: 'alpha',
      includedNamespaces: [workload.namespace],
      snapshotVolumes: false,
      ...(includeClusterResources === undefined ? {} : { includeClusterResources }),
    });
    const { deps } = await observedDeps(config, name, () => 600_000);
    expect(await runBackup(deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
    const paths = (await tarEntries(await getBytes(bucket, `backups/${name}/${name}.tar.gz`))).map((e) => e.name);
    expect(paths.includes(`resources/customresourcedefinitions.apiextensions.k8s.io/cluster/${crdName}.json`)).toBe(crd);
    expect(paths.some((p) => p.startsWith('resources/clusterroles.rbac.authorization.k8s.io/cluster/'))).toBe(otherClusterScoped);
    // PVs of included PVCs come along unless cluster resources are turned off.
    expect(paths.some((p) => p.startsWith('resources/persistentvolumes/cluster/'))).toBe(includeClusterResources !== false);
    for (const path of pathsOf(`widgets.${widgetGroup}`, 'v1', workload.namespace, 'w1')) expect(paths).toContain(path);
  });
});
