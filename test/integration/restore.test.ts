import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import type { SkiffConfig } from '../../lib/config';
import { systemClock } from '../../lib/core/clock';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/core/errors';
import { volumeSnapshotsPath } from '../../lib/csi/snapshot-api';
import type { KubeClient } from '../../lib/kube/client';
import { clusterConnector } from '../../lib/kube/connect';
import { KubeUnreachableError } from '../../lib/kube/errors';
import { listAll, type KubeObject } from '../../lib/kube/list-all';
import { readRestoreRecord } from '../../lib/restore/record';
import { runRestore, type RestoreRunnerDeps } from '../../lib/restore/run-restore';
import { createRestore, getRestore, getRestoreLog, listRestores, restoreServiceDeps } from '../../lib/restore/service';
import { storeResolver } from '../../lib/store/resolver';
import { RESTORE_NAME_LABEL } from '../../lib/velero/labels';
import { freshNamespace, ledger, s3Client, uniqueName, waitFor } from '../bed/context';
import { bedConfig, clusterClient, createWidgetCrd, exists, getBytes, getGzipJson, observedDeps, requestBackup } from './backup-helpers';

/**
 * Restores one real backup of a namespace of cluster alpha — a ConfigMap, a Secret, a
 * Service, a Deployment whose pods mount a Longhorn-like PVC — into another namespace
 * of alpha and into cluster beta, and checks what a user would: the objects equal the
 * originals modulo what a restore resets, the PVC bound to a volume the storage made
 * from the backup's snapshot, resource modifiers, the rollout-conflict refusal,
 * existingResourcePolicy update, and a restore interrupted and resumed.
 */

let config: SkiffConfig;
let bucket: string;
let alpha: KubeClient;
let beta: KubeClient;
let source: string;
let backupName: string;
let snapshotHandle: string;
let sourceSnapshotsBefore: KubeObject[];
let widgetGroup: string;

const service = () => restoreServiceDeps(config);

function runnerDeps(overrides: Partial<RestoreRunnerDeps> = {}): RestoreRunnerDeps {
  return { store: storeResolver(config)('default'), connect: clusterConnector(config), clock: systemClock, remainingMs: () => 600_000, ...overrides };
}

/** Records and runs a restore to its end; answers its name. */
async function restore(request: Record<string, unknown>, overrides: Partial<RestoreRunnerDeps> = {}): Promise<string> {
  const { name } = await createRestore(service(), { backupName, name: uniqueName('r'), ...request });
  const outcome = await runRestore(runnerDeps(overrides), name);
  expect(outcome.state).toBe('done');
  return name;
}

const ns = (namespace: string, resource: string, group = '') =>
  group ? `/apis/${group}/namespaces/${namespace}/${resource}` : `/api/v1/namespaces/${namespace}/${resource}`;

async function get<T = KubeObject>(client: KubeClient, namespace: string, resource: string, name: string, group = ''): Promise<T> {
  return client.get<T>(`${ns(namespace, resource, group)}/${name}`);
}

async function createSourceWorkload(namespace: string): Promise<void> {
  await alpha.create(ns(namespace, 'configmaps'), { metadata: { name: 'settings', labels: { app: 'web' } }, data: { a: '1' } });
  await alpha.create(ns(namespace, 'secrets'), { metadata: { name: 'db', labels: { app: 'web' } }, stringData: { password: 'hunter2' } });
  await alpha.create(ns(namespace, 'services'), { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
  await alpha.create(ns(namespace, 'persistentvolumeclaims'), {
    metadata: { name: 'data', labels: { app: 'web' } },
    spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  await alpha.create(ns(namespace, 'deployments', 'apps/v1'), {
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'c', image: 'nginx', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
        },
      },
    },
  });
  await waitFor(async () => (await get<{ status?: { phase?: string } }>(alpha, namespace, 'persistentvolumeclaims', 'data')).status?.phase === 'Bound', {
    what: `PVC ${namespace}/data to be bound`,
    timeoutMs: 60_000,
  });
}

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('restore'));
  alpha = await clusterClient(config, 'alpha');
  beta = await clusterClient(config, 'beta');
  source = await freshNamespace('alpha', 'restore-src');
  await createSourceWorkload(source);
  // A custom resource, whose definition the backup takes along; cluster beta has neither.
  widgetGroup = `${uniqueName('w')}.example.com`;
  await createWidgetCrd(alpha, widgetGroup);
  await alpha.create(ns(source, 'widgets', `${widgetGroup}/v1`), { apiVersion: `${widgetGroup}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } });
  backupName = await requestBackup(config, {
    cluster: 'alpha',
    includedNamespaces: [source],
    annotations: { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-retain' },
  });
  const observed = await observedDeps(config, backupName, () => 600_000);
  expect(await runBackup(observed.deps, backupName)).toEqual({ state: 'completed', phase: 'Completed' });
  sourceSnapshotsBefore = await listAll(alpha, volumeSnapshotsPath(source));
  const stored = await getGzipJson<{ metadata: { annotations?: Record<string, string> } }[]>(
    bucket,
    `backups/${backupName}/${backupName}-csi-volumesnapshots.json.gz`,
  );
  snapshotHandle = stored[0]!.metadata.annotations!['velero.io/csi-volumesnapshot-handle']!;
  expect(snapshotHandle).toMatch(/^bak:\/\//);
}, 180_000);

afterAll(() => {
  alpha?.close();
  beta?.close();
});

/** The fields a restore keeps: everything but what the API server assigns. */
function comparable(object: KubeObject & { spec?: Record<string, unknown>; data?: unknown }) {
  return { data: object.data, spec: object.spec, labels: object.metadata.labels };
}

/** Waits for the restored PVC to be bound and answers the ledger volume behind it. */
async function restoredVolume(cluster: string, client: KubeClient, namespace: string) {
  const pvc = await waitFor(
    async () => {
      const claim = await get<KubeObject & { spec: { dataSource?: { name: string; kind: string } }; status?: { phase?: string } }>(
        client,
        namespace,
        'persistentvolumeclaims',
        'data',
      );
      return claim.status?.phase === 'Bound' ? claim : undefined;
    },
    { what: `restored PVC ${namespace}/data to be bound`, timeoutMs: 90_000 },
  );
  const volume = (await ledger()).volumes.filter((v) => v.cluster === cluster && v.claim?.namespace === namespace && v.claim.name === 'data');
  return { pvc, volume };
}

describe('Restore into another namespace of the same cluster', () => {
  let target: string;
  let name: string;

  beforeAll(async () => {
    target = uniqueName('restore-dst');
    name = await restore({ namespaceMapping: { [source]: target } });
  }, 150_000);

  it('completes, restoring every object equal to its original modulo reset metadata', async () => {
    const view = await getRestore(service(), name);
    expect(view.status.phase, JSON.stringify(view.results)).toBe('Completed');
    expect(view.status.progress?.itemsRestored).toBe(view.status.progress?.totalItems);
    for (const [resource, group, object] of [
      ['configmaps', '', 'settings'],
      ['secrets', '', 'db'],
      ['deployments', 'apps/v1', 'web'],
    ] as const) {
      const original = await get(alpha, source, resource, object, group);
      const restored = await get(alpha, target, resource, object, group);
      const { [RESTORE_NAME_LABEL]: restoreLabel, 'velero.io/backup-name': backupLabel, ...labels } = restored.metadata.labels ?? {};
      expect(restoreLabel).toBe(name);
      expect(backupLabel).toBe(backupName);
      expect(comparable({ ...restored, metadata: { ...restored.metadata, labels } })).toEqual(comparable(original));
      expect(restored.metadata.uid).not.toBe(original.metadata.uid);
    }
  });

  it("gives the Service the target cluster's own cluster IP", async () => {
    const original = await get<{ spec: { clusterIP: string } }>(alpha, source, 'services', 'web');
    const restored = await get<{ spec: { clusterIP: string } }>(alpha, target, 'services', 'web');
    expect(restored.spec.clusterIP).toMatch(/\d/);
    expect(restored.spec.clusterIP).not.toBe(original.spec.clusterIP);
  });

  it("binds the PVC to a new volume the storage made from the backup's snapshot", async () => {
    const { pvc, volume } = await restoredVolume('alpha', alpha, target);
    expect(pvc.spec.dataSource).toMatchObject({ kind: 'VolumeSnapshot' });
    expect(volume).toHaveLength(1);
    expect(volume[0]!.clonedFromSnapshot).toBe(snapshotHandle);
  });

  it("leaves the source namespace's VolumeSnapshots as they were", async () => {
    const after = await listAll(alpha, volumeSnapshotsPath(source));
    expect(after.map((vs) => [vs.metadata.name, vs.metadata.uid])).toEqual(sourceSnapshotsBefore.map((vs) => [vs.metadata.name, vs.metadata.uid]));
  });

  it("writes the restore's results, log, resource list and volume info in Velero's layout", async () => {
    for (const file of [`restore-${name}-results.gz`, `restore-${name}-logs.gz`, `restore-${name}-resource-list.json.gz`, `${name}-volumeinfo.json.gz`]) {
      expect(await exists(bucket, `restores/${name}/${file}`), file).toBe(true);
    }
    const list = await getGzipJson<Record<string, string[]>>(bucket, `restores/${name}/restore-${name}-resource-list.json.gz`);
    expect(list['v1/ConfigMap']).toContain(`${target}/settings(created)`);
    expect(list['apps/v1/Deployment']).toContain(`${target}/web(created)`);
    expect(await getRestoreLog(service(), name)).toMatch(/restore completed/);
    expect((await listRestores(service(), { backup: backupName })).items.map((r) => r.metadata.name)).toContain(name);
  });

  it('existingResourcePolicy none leaves an existing object with a warning naming it; update puts the backed-up one back', async () => {
    await alpha.patch(`${ns(target, 'configmaps')}/settings`, { data: { a: 'changed' } });
    const left = await restore({ namespaceMapping: { [source]: target }, includedResources: ['configmaps'] });
    expect((await getRestore(service(), left)).results.warnings.namespaces[target]?.join('\n')).toMatch(new RegExp(`configmaps ${target}/settings.*already exists`));
    expect((await get<{ data: Record<string, string> }>(alpha, target, 'configmaps', 'settings')).data).toEqual({ a: 'changed' });

    const updated = await restore({ namespaceMapping: { [source]: target }, includedResources: ['configmaps'], existingResourcePolicy: 'update' });
    expect((await getRestore(service(), updated)).status.phase).toBe('Completed');
    expect((await get<{ data: Record<string, string> }>(alpha, target, 'configmaps', 'settings')).data).toEqual({ a: '1' });
    const list = await getGzipJson<Record<string, string[]>>(bucket, `restores/${updated}/restore-${updated}-resource-list.json.gz`);
    expect(list['v1/ConfigMap']).toContain(`${target}/settings(updated)`);
  }, 60_000);
});

describe('Restore into another cluster', () => {
  it("restores the namespace into beta, its custom resource after its definition, the PVC from the backup's snapshot", async () => {
    const name = await restore({ cluster: 'beta' });
    const view = await getRestore(service(), name);
    expect(view.status.phase, JSON.stringify(view.results)).toBe('Completed');
    const widget = await get<{ spec: unknown }>(beta, source, 'widgets', 'w1', `${widgetGroup}/v1`);
    expect(widget.spec).toEqual({ size: 3 });
    const restored = await get<{ data: Record<string, string> }>(beta, source, 'configmaps', 'settings');
    expect(restored.data).toEqual({ a: '1' });
    const { volume } = await restoredVolume('beta', beta, source);
    expect(volume).toHaveLength(1);
    expect(volume[0]!.clonedFromSnapshot).toBe(snapshotHandle);
  }, 150_000);
});

describe('Resource modifiers and the rollout conflict', () => {
  const templateRule = {
    conditions: { groupResource: 'deployments.apps', resourceNameRegex: '^web$' },
    patches: [{ operation: 'add', path: '/spec/template/metadata/labels/patched', value: 'yes' }],
  };
  const configMapRule = { conditions: { groupResource: 'configmaps', namespaces: [] as string[] }, mergePatches: [{ patchData: '{"data": {"b": "2"}}' }] };

  it('refuses a rule that changes the pod template of a workload mounting restored volumes, naming rule, workload and volumes', async () => {
    const target = uniqueName('restore-mod');
    const name = await restore({
      namespaceMapping: { [source]: target },
      resourceModifiers: { version: 'v1', resourceModifierRules: [configMapRule, templateRule] },
    });
    const view = await getRestore(service(), name);
    expect(view.status.phase).toBe('FailedValidation');
    expect(view.status.validationErrors?.join('\n')).toMatch(new RegExp(`rule 1 .*Deployment ${source}/web.*\\(data\\).*Target the pods`));
    // Nothing was created.
    await expect(alpha.get(`/api/v1/namespaces/${target}`)).rejects.toThrow(/404/);
  }, 60_000);

  it('with acceptRolloutRisk restores with a warning, and applies the rules', async () => {
    const target = uniqueName('restore-mod');
    const name = await restore({
      namespaceMapping: { [source]: target },
      resourceModifiers: { version: 'v1', resourceModifierRules: [configMapRule, templateRule] },
      acceptRolloutRisk: true,
    });
    const view = await getRestore(service(), name);
    expect(view.status.phase).toBe('Completed');
    expect(view.results.warnings.velero.join('\n')).toMatch(/rule 1 .*accepted: acceptRolloutRisk/);
    const deployment = await get<{ spec: { template: { metadata: { labels: Record<string, string> } } } }>(alpha, target, 'deployments', 'web', 'apps/v1');
    expect(deployment.spec.template.metadata.labels).toEqual({ app: 'web', patched: 'yes' });
    expect((await get<{ data: Record<string, string> }>(alpha, target, 'configmaps', 'settings')).data).toEqual({ a: '1', b: '2' });
  }, 150_000);
});

describe('A restore interrupted and resumed', () => {
  it('goes on from its record and creates nothing twice', async () => {
    const target = uniqueName('restore-resume');
    const { name } = await createRestore(service(), { backupName, name: uniqueName('r'), namespaceMapping: { [source]: target } });
    // The cluster becomes unreachable after 6 creates: the run stops mid-way, before any
    // checkpoint past its start, as a crashed invocation would.
    let creates = 0;
    const connect = async (cluster: string) => {
      const client = await clusterConnector(config)(cluster);
      const create = client.create.bind(client);
      client.create = async <T>(path: string, body: unknown): Promise<T> => {
        if (++creates > 6) throw new KubeUnreachableError(cluster, client.server, 'test: connection lost');
        return create<T>(path, body);
      };
      return client;
    };
    await expect(runRestore(runnerDeps({ connect, chunkSize: 2, concurrency: 1 }), name)).rejects.toBeInstanceOf(KubeUnreachableError);
    const interrupted = (await readRestoreRecord(storeResolver(config)('default'), name))!.record;
    expect(interrupted.restore.status.phase).toBe('InProgress');

    // A fresh invocation goes on: what the first one created answers 409 and carries this restore's label.
    expect(await runRestore(runnerDeps(), name)).toEqual({ state: 'done', phase: 'Completed' });
    const view = await getRestore(service(), name);
    expect(view.results.warnings.namespaces[target]).toBeUndefined();
    expect(view.status.progress?.itemsRestored).toBe(view.status.progress?.totalItems);
    const list = await getGzipJson<Record<string, string[]>>(bucket, `restores/${name}/restore-${name}-resource-list.json.gz`);
    const entries = Object.entries(list).flatMap(([kind, names]) => names.map((n) => ({ kind, n })));
    // Left as they were, equal to the backed-up ones: the namespace's own ServiceAccount
    // and CA ConfigMap, which the controller manager made before the restore reached
    // them, and the cluster-scoped objects the backup holds, which the cluster has.
    expect(entries.map((e) => e.n).filter((e) => !e.endsWith('(created)')).sort()).toEqual([
      `${target}/default(skipped)`,
      `${target}/kube-root-ca.crt(skipped)`,
      'sim-longhorn-retain(skipped)',
      `widgets.${widgetGroup}(skipped)`,
    ]);
    expect(new Set(entries.map((e) => `${e.kind} ${e.n}`)).size).toBe(entries.length);
    const { volume } = await restoredVolume('alpha', alpha, target);
    expect(volume).toHaveLength(1);
  }, 150_000);
});

describe('A restore near the time limit', () => {
  it('pauses between chunks with its cursor saved, and a fresh invocation finishes it', async () => {
    const target = uniqueName('restore-pause');
    const { name } = await createRestore(service(), { backupName, name: uniqueName('r'), namespaceMapping: { [source]: target } });
    let looks = 0;
    const first = await runRestore(runnerDeps({ chunkSize: 2, remainingMs: () => (++looks <= 3 ? 600_000 : 1_000) }), name);
    // Three chunks ran (one per step for the single-object steps, two objects each after).
    expect(first.state).toBe('paused');
    const paused = (await readRestoreRecord(storeResolver(config)('default'), name))!.record;
    const done = paused.restore.status.progress!.itemsRestored;
    expect(first).toEqual({ state: 'paused', itemsRestored: done });
    expect(done).toBeGreaterThanOrEqual(3);
    expect(done).toBeLessThan(paused.restore.status.progress!.totalItems);
    expect(await runRestore(runnerDeps(), name)).toEqual({ state: 'done', phase: 'Completed' });
    const view = await getRestore(service(), name);
    expect(view.status.progress?.itemsRestored).toBe(view.status.progress?.totalItems);
    expect(view.results.warnings.namespaces[target]).toBeUndefined();
  }, 60_000);
});

describe('Bad input', () => {
  it('answers 404 for an unknown backup and 409 for a backup being deleted', async () => {
    await expect(createRestore(service(), { backupName: 'no-such-backup' })).rejects.toBeInstanceOf(NotFoundError);
    const copy = uniqueName('deleting');
    const metadata = JSON.parse((await getBytes(bucket, `backups/${backupName}/velero-backup.json`)).toString('utf8'));
    metadata.metadata.name = copy;
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: `backups/${copy}/velero-backup.json`, Body: JSON.stringify(metadata) }));
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: `metadata/skiff/deleting/${copy}.json`, Body: '{}' }));
    await expect(createRestore(service(), { backupName: copy })).rejects.toBeInstanceOf(ConflictError);
    await expect(createRestore(service(), { backupName, resourceModifiers: { version: 'v1', resourceModifierRules: [{ conditions: {} }] } })).rejects.toThrow(
      /resourceModifiers\.resourceModifierRules\.0\.conditions\.groupResource/,
    );
    await expect(createRestore(service(), { backupName, includedNamespace: ['x'] })).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuses a tarball with a ../ entry: the restore fails naming the entry, creating nothing', async () => {
    const copy = uniqueName('evil');
    const metadata = JSON.parse((await getBytes(bucket, `backups/${backupName}/velero-backup.json`)).toString('utf8'));
    metadata.metadata.name = copy;
    const packer = pack();
    const chunks: Buffer[] = [];
    packer.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    const ended = new Promise<void>((resolve) => packer.on('end', () => resolve()));
    packer.entry({ name: 'metadata/version' }, '1.1.0\n');
    packer.entry({ name: 'resources/configmaps/namespaces/evil/../../../../tmp/x.json' }, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}');
    packer.finalize();
    await ended;
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: `backups/${copy}/${copy}.tar.gz`, Body: gzipSync(Buffer.concat(chunks)) }));
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: `backups/${copy}/velero-backup.json`, Body: JSON.stringify(metadata) }));
    const { name } = await createRestore(service(), { backupName: copy, name: uniqueName('r') });
    expect(await runRestore(runnerDeps(), name)).toEqual({ state: 'done', phase: 'Failed' });
    expect((await getRestore(service(), name)).status.failureReason).toMatch(/\.\.\/\.\.\/tmp\/x\.json.*refused/);
  });
});
