import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupServiceDeps, createBackup, listBackups } from '../../lib/backup/service';
import { validateConfig, type SkiffConfig } from '../../lib/config';
import { systemClock } from '../../lib/core/clock';
import type { KubeClient } from '../../lib/kube/client';
import { clusterConnector } from '../../lib/kube/connect';
import type { KubeObject } from '../../lib/kube/list-all';
import type { Finding, ReadinessReport } from '../../lib/readiness/findings';
import { permissionsOfManifest } from '../../lib/readiness/rbac-manifest';
import { readinessGate } from '../../lib/readiness/schedule-gate';
import { checkReadiness, type ReadinessOptions } from '../../lib/readiness/service';
import { dispatchSchedules } from '../../lib/schedule/dispatch';
import { bedState, freshNamespace, uniqueName, waitFor } from '../bed/context';
import { skiffConfigForBed } from '../bed/skiff-config';
import { runBackup } from '../../lib/backup/run-backup';
import { bedConfig, clusterClient, observedDeps, requestBackup } from './backup-helpers';
import { applyManifest, tokenFor, waitForRights } from './rbac-helpers';

/**
 * The readiness report of a bed cluster: single-replica Longhorn volumes made by the
 * test (the simulator leaves records without its managed label alone), a PVC on a CSI
 * driver without a snapshot class, contents with bad handles, and the access check
 * against the RBAC manifest applied as written and against accounts that lack rights.
 */

const LONGHORN = '/apis/longhorn.io/v1beta2/namespaces/longhorn-system';
const SKIP = 'harvesterhci.io/skipSingleReplicaDetachedVol';

let admin: KubeClient;
let config: SkiffConfig;
let namespace: string;
/** Names of the test's objects, unique per run. */
const names = {
  attached: uniqueName('ready-attached'),
  detached: uniqueName('ready-detached'),
  optedOut: uniqueName('ready-opted-out'),
  replicated: uniqueName('ready-replicated'),
  noClassPv: uniqueName('ready-noclass'),
  malformed: uniqueName('ready-malformed'),
  wrong: uniqueName('ready-wrong'),
  backup: `backup-${uniqueName('r').replace(/-/g, '')}`,
};
const tokens: Record<string, string> = {};

async function longhornVolume(name: string, replicas: number, state: string, annotations?: Record<string, string>) {
  const created = await admin.create<KubeObject>(`${LONGHORN}/volumes`, {
    apiVersion: 'longhorn.io/v1beta2',
    kind: 'Volume',
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { numberOfReplicas: replicas, size: '1073741824' },
  });
  await admin.replace(`${LONGHORN}/volumes/${name}/status`, {
    ...created,
    status: { state, kubernetesStatus: { namespace, pvcName: `pvc-of-${name}` } },
  });
}

async function staticContent(name: string, handle: string) {
  await admin.create('/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents', {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotContent',
    metadata: { name },
    spec: {
      deletionPolicy: 'Retain',
      driver: 'driver.longhorn.io',
      source: { snapshotHandle: handle },
      volumeSnapshotRef: { name: `vs-${name}`, namespace },
    },
  });
}

/** The bed's Skiff config plus one cluster per account token (alpha with that token), and `annotations` on alpha if given. */
function configWith(alphaAnnotations?: Record<string, string>): SkiffConfig {
  const raw = skiffConfigForBed(bedState(), { bucket: config.storageLocations[0]!.bucket, apiToken: 'test-api-token' });
  const alpha = raw.clusters.find((c) => c.name === 'alpha')!;
  for (const [name, token] of Object.entries(tokens)) raw.clusters.push({ ...alpha, name, auth: { token } });
  if (alphaAnnotations) Object.assign(alpha, { annotations: alphaAnnotations });
  return validateConfig(raw, 'test');
}

/** Kubernetes requests of the last report, counted by its client. */
let lastRequestCount = 0;

async function report(cluster: string, options: ReadinessOptions = {}, skiffConfig = configWith()): Promise<ReadinessReport> {
  const connect = clusterConnector(skiffConfig);
  let client: KubeClient | undefined;
  const answer = await checkReadiness(
    { config: skiffConfig, connect: async (name) => (client = await connect(name)), clock: systemClock },
    cluster,
    options,
  );
  lastRequestCount = client!.requestCount;
  return answer;
}

/** The findings of `check` that name an object containing `text`. */
const about = (r: ReadinessReport, check: Finding['check'], text: string) =>
  r.findings.filter((f) => f.check === check && f.objects.some((o) => o.includes(text)));

beforeAll(async () => {
  ({ config } = await bedConfig('readiness'));
  admin = await clusterClient(config);
  namespace = await freshNamespace('alpha', 'readiness');

  await longhornVolume(names.attached, 1, 'attached');
  await longhornVolume(names.detached, 1, 'detached');
  await longhornVolume(names.optedOut, 1, 'detached', { [SKIP]: 'true' });
  await longhornVolume(names.replicated, 3, 'attached');

  // A statically provisioned CSI volume of a driver no VolumeSnapshotClass has.
  await admin.create('/api/v1/persistentvolumes', {
    metadata: { name: names.noClassPv },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      storageClassName: '',
      persistentVolumeReclaimPolicy: 'Retain',
      csi: { driver: 'nosnap.csi.example.com', volumeHandle: names.noClassPv },
      claimRef: { namespace, name: 'no-class' },
    },
  });
  await admin.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    metadata: { name: 'no-class' },
    spec: { storageClassName: '', volumeName: names.noClassPv, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });

  // A Longhorn backup record, and contents pointing at backups with malformed and wrong handles.
  const backup = await admin.create<KubeObject>(`${LONGHORN}/backups`, {
    apiVersion: 'longhorn.io/v1beta2',
    kind: 'Backup',
    metadata: { name: names.backup, labels: { 'backup-volume': 'pvc-real-volume' } },
    spec: { snapshotName: 'snap' },
  });
  await admin.replace(`${LONGHORN}/backups/${names.backup}/status`, { ...backup, status: { volumeName: 'pvc-real-volume', state: 'Completed' } });
  await staticContent(names.malformed, 'bak:/not-a-handle');
  await staticContent(names.wrong, `bs://no-class/${names.backup}`);

  // The manifest as written, and a copy of it without one right (delete on contents).
  await applyManifest(admin);
  const partial = `${namespace}-partial`;
  await admin.create(`/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name: 'partial' } });
  await applyManifest(admin, (object) => {
    if (object.kind === 'Namespace' || object.kind === 'ServiceAccount') return undefined;
    object.metadata.name = partial;
    if (object.roleRef) object.roleRef.name = partial;
    if (object.subjects) object.subjects = [{ kind: 'ServiceAccount', name: 'partial', namespace }];
    for (const rule of object.rules ?? []) {
      if (rule.resources.includes('volumesnapshotcontents')) rule.verbs = rule.verbs.filter((v: string) => v !== 'delete');
    }
    return object;
  });
  tokens.remote = await tokenFor(admin, 'skiff-system', 'skiff');
  tokens.partial = await tokenFor(admin, namespace, 'partial');
  tokens.nobody = bedState().clusters.alpha!.limitedToken;

  await waitFor(
    async () => {
      const pvc = await admin.get<{ status?: { phase?: string } }>(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/no-class`);
      return pvc.status?.phase === 'Bound';
    },
    { what: 'the static PVC to be bound', timeoutMs: 60_000 },
  );
  // RBAC is applied asynchronously: wait until both accounts can list volumes.
  const cfg = configWith();
  for (const account of ['remote', 'partial']) {
    const client = await clusterConnector(cfg)(account);
    await waitForRights(client, `${LONGHORN}/volumes`, account);
    client.close();
  }
}, 180_000);

afterAll(() => admin?.close());

describe('readiness of a cluster', () => {
  let full: ReadinessReport;
  beforeAll(async () => {
    full = await report('alpha');
  });

  it('blocks on attached and detached single-replica volumes, warns on a detached one annotated to be skipped', () => {
    expect(about(full, 'single-replica', names.attached)).toEqual([expect.objectContaining({ severity: 'block', message: expect.stringMatching(/attached/) })]);
    expect(about(full, 'single-replica', names.detached)).toEqual([expect.objectContaining({ severity: 'block', message: expect.stringMatching(/detached/) })]);
    expect(about(full, 'single-replica', names.optedOut)).toEqual([expect.objectContaining({ severity: 'warn' })]);
    expect(about(full, 'single-replica', names.replicated)).toEqual([]);
    expect(about(full, 'single-replica', names.attached)[0]!.objects).toContain(`Volume longhorn-system/${names.attached} (PVC ${namespace}/pvc-of-${names.attached})`);
    // The bed has no Nodes: the report says it cannot tell a single-node cluster.
    expect(full.findings).toContainEqual(expect.objectContaining({ check: 'single-replica', severity: 'info', message: expect.stringMatching(/lists no Nodes/) }));
    expect(full.ready).toBe(false);
  });

  it('lowers detached ones to a warning when the cluster configuration carries the annotation', async () => {
    const optedOut = await report('alpha', {}, configWith({ [SKIP]: 'true' }));
    expect(about(optedOut, 'single-replica', names.detached)).toEqual([expect.objectContaining({ severity: 'warn' })]);
    expect(about(optedOut, 'single-replica', names.attached)).toEqual([expect.objectContaining({ severity: 'block' })]);
  });

  it('lists a PVC whose driver has no snapshot class as not snapshotted, in its namespace', () => {
    expect(about(full, 'snapshot-coverage', `PVC ${namespace}/no-class`)).toEqual([
      expect.objectContaining({
        severity: 'warn',
        namespace,
        message: expect.stringMatching(/will not be snapshotted: no VolumeSnapshotClass has their CSI driver \(driver nosnap.csi.example.com\)/),
      }),
    ]);
  });

  it('finds the malformed handle, and the wrong one with the repair sync would make', () => {
    expect(about(full, 'handles', names.malformed)).toEqual([expect.objectContaining({ severity: 'warn', message: expect.stringMatching(/malformed/) })]);
    expect(about(full, 'handles', names.wrong)).toEqual([
      expect.objectContaining({ action: expect.stringContaining(`bak://pvc-real-volume/${names.backup}`) }),
    ]);
  });

  it('the RBAC manifest applied as written passes the access check', async () => {
    const remote = await report('remote');
    expect(remote.findings.filter((f) => f.check === 'access')).toEqual([expect.objectContaining({ severity: 'info', message: expect.stringMatching(/can do everything/) })]);
    // 8 LISTs (Longhorn volumes, Nodes, PVCs, PVs, StorageClasses, snapshot classes,
    // contents, Longhorn backups) and one access review per permission of the manifest.
    expect(lastRequestCount).toBe(8 + permissionsOfManifest().length);
    // Its account reads everything the checks read: the same findings as the admin's.
    expect(about(remote, 'single-replica', names.attached)).toHaveLength(1);
    expect(about(remote, 'handles', names.malformed)).toHaveLength(1);
  });

  it('the RBAC manifest applied as written lets a backup with CSI snapshots complete', async () => {
    const workload = await freshNamespace('alpha', 'readiness-backup');
    await admin.create(`/api/v1/namespaces/${workload}/persistentvolumeclaims`, {
      metadata: { name: 'data' },
      spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    await waitFor(
      async () => (await admin.get<{ status?: { phase?: string } }>(`/api/v1/namespaces/${workload}/persistentvolumeclaims/data`)).status?.phase === 'Bound',
      { what: 'the PVC to be bound', timeoutMs: 60_000 },
    );
    const remoteConfig = configWith();
    const name = await requestBackup(remoteConfig, {
      cluster: 'remote',
      includedNamespaces: [workload],
      annotations: { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-retain' },
    });
    const { deps } = await observedDeps(remoteConfig, name, () => 600_000);
    expect(await runBackup(deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
    const stored = await deps.store.getCsiVolumeSnapshotContents(name);
    expect(stored.map((c) => c.status?.snapshotHandle)).toEqual([expect.stringMatching(/^bak:\/\//)]);
  });

  it.each([{ namespaces: undefined }, { namespaces: ['default'] }])('names the one missing permission (namespaces $namespaces)', async ({ namespaces }) => {
    const partial = await report('partial', { namespaces: namespaces ?? undefined });
    expect(partial.findings.filter((f) => f.check === 'access')).toEqual([
      expect.objectContaining({ severity: 'block', objects: ['delete volumesnapshotcontents (snapshot.storage.k8s.io) cluster-wide'] }),
    ]);
  });

  it('with no rights at all, every check says what it could not read, and access blocks', async () => {
    const nobody = await report('nobody', { namespaces: [namespace] });
    expect(nobody.findings.filter((f) => f.severity === 'warn' && /could not be read/.test(f.message)).map((f) => f.check).sort()).toEqual(
      ['handles', 'single-replica', 'snapshot-coverage'],
    );
    const access = nobody.findings.filter((f) => f.check === 'access' && f.severity === 'block');
    expect(access.flatMap((f) => f.objects)).toContain(`list * (*) in namespace ${namespace}`);
  });
});

describe('a schedule with readiness: block', () => {
  it('skips its slot while a finding blocks, records why, and starts the first slot after the fix', async () => {
    const raw = skiffConfigForBed(bedState(), { bucket: config.storageLocations[0]!.bucket, apiToken: 'test-api-token' });
    const gated = validateConfig(
      {
        ...raw,
        schedules: [
          { name: 'gated', cluster: 'alpha', schedule: '* * * * *', readiness: 'block', template: { includedNamespaces: [namespace], snapshotVolumes: false } },
        ],
      },
      'test',
    );
    const backups = backupServiceDeps(gated);
    const started: string[] = [];
    const tick = (at: string) =>
      dispatchSchedules(
        {
          schedules: gated.schedules,
          createBackup: (request, options) => createBackup(backups, request, options),
          startRun: async (name) => void started.push(name),
          readinessGate: readinessGate({
            config: gated,
            storeFor: backups.storeFor,
            check: (cluster) => checkReadiness({ config: gated, connect: clusterConnector(gated), clock: systemClock }, cluster),
            clock: systemClock,
          }),
          lookbackMinutes: 1,
        },
        new Date(at),
      );

    const first = await tick('2026-06-01T10:00:05Z');
    expect(first.created).toEqual([]);
    expect(first.blocked).toEqual([
      {
        schedule: 'gated',
        name: 'gated-20260601100000',
        reasons: expect.arrayContaining([expect.stringContaining(names.attached), expect.stringContaining(names.detached)]),
      },
    ]);

    // The fix: the single-replica volumes get a second replica.
    for (const name of [names.attached, names.detached]) {
      await admin.patch(`${LONGHORN}/volumes/${name}`, { spec: { numberOfReplicas: 2 } });
    }
    const fixed = await report('alpha');
    expect(fixed.findings.filter((f) => f.severity === 'block')).toEqual([]);

    // The skipped slot stays skipped when a later tick sees it again; the next slot starts.
    const again = await tick('2026-06-01T10:00:35Z');
    expect(again.created).toEqual([]);
    expect(again.blocked).toEqual(first.blocked);
    const next = await tick('2026-06-01T10:01:05Z');
    expect(next.created).toEqual(['gated-20260601100100']);
    expect(next.blocked).toBeUndefined();
    expect(started).toEqual(['gated-20260601100100']);

    const listed = await listBackups(backups, { schedule: 'gated' });
    expect(listed.items.map((b) => b.metadata.name)).toEqual(['gated-20260601100100']);
    expect(listed.skippedSlots).toEqual([
      expect.objectContaining({
        schedule: 'gated',
        backup: 'gated-20260601100000',
        slot: '2026-06-01T10:00:00.000Z',
        cluster: 'alpha',
        reasons: first.blocked![0]!.reasons,
      }),
    ]);
  });
});
