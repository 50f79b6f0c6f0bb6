import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { validateConfig, type SkiffConfig } from '../../lib/config';
import { systemClock, type Clock } from '../../lib/core/clock';
import { SNAPSHOT_API_VERSION, type VolumeSnapshotContent } from '../../lib/csi/snapshot-api';
import { expiryServiceDeps, runExpiry } from '../../lib/expiry/service';
import type { KubeClient } from '../../lib/kube/client';
import { listAll } from '../../lib/kube/list-all';
import { restoreRunnerDeps } from '../../lib/restore/runner-deps';
import { runRestore } from '../../lib/restore/run-restore';
import { createRestore, getRestore, restoreServiceDeps } from '../../lib/restore/service';
import { storeResolver } from '../../lib/store/resolver';
import { runSync, syncDeps } from '../../lib/sync/service';
import { backupLabelSelector } from '../../lib/velero/labels';
import { bedState, freshBucket, freshNamespace, ledger, uniqueName, waitFor } from '../bed/context';
import { skiffConfigForBed } from '../bed/skiff-config';
import { clusterClient, objectKeys, observedDeps, requestBackup } from './backup-helpers';
import { applyManifest, tokenFor, waitForRights } from './rbac-helpers';

/**
 * Every job with the remote RBAC manifest applied as written in both bed clusters and
 * Skiff holding a token of its service account, and nothing else, for each: a backup
 * with CSI snapshots in alpha, its rediscovery into beta, a restore into a new
 * namespace of beta (with a Role granting a right the account lacks), and its expiry,
 * which frees the snapshot in both clusters. The admin only sets the bed up and
 * removes the restored volume before expiry (a user done with it).
 */

const CLUSTERS = ['alpha', 'beta'] as const;

/** Admin clients (set-up and checks) and the manifest account's config (the jobs). */
const admin: Record<string, KubeClient> = {};
let remote: SkiffConfig;
let bucket: string;
let workload: string;
let target: string;
let backupName: string;
let handle: string;

/** The wall clock, two days on: the backup's 1-hour TTL has passed. */
const later: Clock = { now: () => new Date(Date.now() + 2 * 86_400_000), sleep: systemClock.sleep };

const contentsOf = (client: KubeClient) =>
  listAll<VolumeSnapshotContent>(client, `/apis/${SNAPSHOT_API_VERSION}/volumesnapshotcontents`, { labelSelector: backupLabelSelector(backupName) });
const ns = (namespace: string, resource: string, group = '') =>
  group ? `/apis/${group}/namespaces/${namespace}/${resource}` : `/api/v1/namespaces/${namespace}/${resource}`;
const phaseOf = async (client: KubeClient, path: string) => (await client.get<{ status?: { phase?: string } }>(path)).status?.phase;

/** What the backup holds: a PVC on the Longhorn-like driver, a ConfigMap, a Secret, and a Role with a right the account lacks (delete pods), bound to an account. */
async function createWorkload(client: KubeClient, namespace: string): Promise<void> {
  await client.create(ns(namespace, 'persistentvolumeclaims'), {
    metadata: { name: 'data' },
    spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  await client.create(ns(namespace, 'configmaps'), { metadata: { name: 'settings' }, data: { a: '1' } });
  await client.create(ns(namespace, 'secrets'), { metadata: { name: 'db' }, stringData: { password: 'hunter2' } });
  await client.create(ns(namespace, 'serviceaccounts'), { metadata: { name: 'cleaner' } });
  await client.create(ns(namespace, 'roles', 'rbac.authorization.k8s.io/v1'), {
    metadata: { name: 'pod-cleaner' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'delete'] }],
  });
  await client.create(ns(namespace, 'rolebindings', 'rbac.authorization.k8s.io/v1'), {
    metadata: { name: 'pod-cleaner' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-cleaner' },
    subjects: [{ kind: 'ServiceAccount', name: 'cleaner', namespace }],
  });
  await waitFor(async () => (await phaseOf(client, `${ns(namespace, 'persistentvolumeclaims')}/data`)) === 'Bound', {
    what: `PVC ${namespace}/data to be bound`,
    timeoutMs: 60_000,
  });
}

beforeAll(async () => {
  bucket = await freshBucket('rbac-jobs');
  const raw = skiffConfigForBed(bedState(), { bucket, apiToken: 'test-api-token' });
  const adminConfig = validateConfig(raw, 'test');
  for (const cluster of CLUSTERS) {
    admin[cluster] = await clusterClient(adminConfig, cluster);
    await applyManifest(admin[cluster]!);
  }
  // The same clusters, each with a token of the manifest's account in place of the admin's.
  for (const cluster of raw.clusters) cluster.auth = { token: await tokenFor(admin[cluster.name]!, 'skiff-system', 'skiff') };
  remote = validateConfig(raw, 'test');
  for (const cluster of CLUSTERS) {
    const client = await clusterClient(remote, cluster);
    await waitForRights(client, '/api/v1/persistentvolumeclaims', `skiff-system/skiff in ${cluster}`);
    client.close();
  }
  workload = await freshNamespace('alpha', 'rbac-jobs');
  target = uniqueName('rbac-restored');
  await createWorkload(admin.alpha!, workload);
}, 120_000);

afterAll(() => {
  for (const client of Object.values(admin)) client.close();
});

describe('every job with the RBAC manifest applied as written, and only its account', () => {
  it('holds no right outside the manifest (it cannot delete a namespace)', async () => {
    const client = await clusterClient(remote, 'alpha');
    try {
      await expect(client.delete(`/api/v1/namespaces/${workload}`)).rejects.toThrow(/HTTP 403/);
    } finally {
      client.close();
    }
  });

  it('backup: completes with a CSI snapshot of the PVC', async () => {
    backupName = await requestBackup(remote, {
      cluster: 'alpha',
      includedNamespaces: [workload],
      ttl: '1h',
      annotations: { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-retain' },
    });
    const { deps } = await observedDeps(remote, backupName, () => 600_000);
    expect(await runBackup(deps, backupName)).toEqual({ state: 'completed', phase: 'Completed' });
    handle = (await storeResolver(remote)('default').getCsiVolumeSnapshotContents(backupName))[0]!.status!.snapshotHandle!;
    expect(handle).toMatch(/^bak:\/\//);
  }, 90_000);

  it('sync: rediscovers the backup into beta with a ready content for its snapshot', async () => {
    const { locations } = await runSync({ ...syncDeps(remote), waitTimeoutMs: 60_000 }, { cluster: 'beta' });
    const [beta] = locations[0]!.clusters;
    expect(beta).toMatchObject({ cluster: 'beta', notReady: [] });
    // Other files share the bed's clusters and leave contents of their own buckets' backups
    // (orphans to this bucket's catalog); none may be this backup's.
    expect(beta!.orphans.filter((o) => o.backup === backupName)).toEqual([]);
    expect(beta!.failed).toBeUndefined();
    // The bed's one note: beta has two Longhorn snapshot classes and labels neither as the default.
    expect(beta!.problems).toEqual([expect.stringMatching(/^2 VolumeSnapshotClasses have driver driver.longhorn.io/)]);
    expect(beta!.created).toHaveLength(1);
    const [copy] = await contentsOf(admin.beta!);
    expect(copy?.spec.source).toEqual({ snapshotHandle: handle });
    expect(copy?.status?.readyToUse).toBe(true);
  }, 90_000);

  it('restore: restores the namespace into a new one of beta, the Role and the PVC from the snapshot included', async () => {
    const { name } = await createRestore(restoreServiceDeps(remote), {
      backupName,
      name: uniqueName('r'),
      cluster: 'beta',
      namespaceMapping: { [workload]: target },
    });
    expect(await runRestore(await restoreRunnerDeps(remote, () => 600_000, name), name)).toEqual({ state: 'done', phase: 'Completed' });
    const view = await getRestore(restoreServiceDeps(remote), name);
    expect(view.results.errors, JSON.stringify(view.results)).toEqual(expect.objectContaining({ velero: [], namespaces: {} }));
    const role = await admin.beta!.get<{ rules: { verbs: string[] }[] }>(`${ns(target, 'roles', 'rbac.authorization.k8s.io/v1')}/pod-cleaner`);
    expect(role.rules[0]!.verbs).toContain('delete');
    await admin.beta!.get(`${ns(target, 'rolebindings', 'rbac.authorization.k8s.io/v1')}/pod-cleaner`);
    expect((await admin.beta!.get<{ data: Record<string, string> }>(`${ns(target, 'configmaps')}/settings`)).data).toEqual({ a: '1' });
    await waitFor(async () => (await phaseOf(admin.beta!, `${ns(target, 'persistentvolumeclaims')}/data`)) === 'Bound', {
      what: `restored PVC ${target}/data to be bound`,
      timeoutMs: 60_000,
    });
    const volumes = (await ledger()).volumes.filter((v) => v.cluster === 'beta' && v.claim?.namespace === target && v.claim.name === 'data');
    expect(volumes.map((v) => v.clonedFromSnapshot)).toEqual([handle]);
  }, 120_000);

  it('expiry: once the restored volume is gone, frees the snapshot in both clusters and then the bucket', async () => {
    // The user is done with the restored volume: while it lives, expiry keeps the snapshot.
    await admin.beta!.delete(`${ns(target, 'persistentvolumeclaims')}/data`);
    await waitFor(
      async () =>
        (await listAll(admin.beta!, '/api/v1/persistentvolumes')).every((pv) => (pv.spec as { claimRef?: { namespace?: string } }).claimRef?.namespace !== target),
      { what: 'the restored volume to be deleted', timeoutMs: 60_000 },
    );

    const result = await runExpiry({ ...expiryServiceDeps(remote), clock: later, waitTimeoutMs: 60_000 }, { location: 'default' });

    expect(result.deleted, JSON.stringify(result.log)).toEqual([backupName]);
    expect(result.log.filter((e) => e.outcome === 'failed')).toEqual([]);
    expect(await contentsOf(admin.alpha!)).toEqual([]);
    expect(await contentsOf(admin.beta!)).toEqual([]);
    expect((await ledger()).snapshots.find((s) => s.handle === handle)?.deleted).toBeTruthy();
    expect(await objectKeys(bucket, `backups/${backupName}/`)).toEqual([]);
  }, 120_000);
});
