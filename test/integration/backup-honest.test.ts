import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/core/errors';
import { runBackup } from '../../lib/backup/run-backup';
import { getBackup, backupServiceDeps } from '../../lib/backup/service';
import type { SkiffConfig } from '../../lib/config';
import type { KubeClient } from '../../lib/kube/client';
import { listAll } from '../../lib/kube/list-all';
import type { BackupVolumeInfo } from '../../lib/velero/volume-info';
import { freshNamespace, uniqueName, waitFor } from '../bed/context';
import { bedConfig, clusterClient, getBytes, getGzipJson, observedDeps, requestBackup, tarEntries } from './backup-helpers';

/**
 * A backup says what it did not do: hooks declared on pods that did not run, a bound CSI
 * volume that could not be snapshotted (an error, PartiallyFailed, as in Velero 1.18), a
 * named namespace that does not exist; it applies orderedResources and the volume
 * policies of a resource policy ConfigMap; it refuses spec fields it would not apply.
 */

type Results = { errors: { namespaces?: Record<string, string[]> }; warnings: { namespaces?: Record<string, string[]> } };

let config: SkiffConfig;
let bucket: string;
let client: KubeClient;
let namespace: string;
const missing = uniqueName('no-such-ns');
const policyName = uniqueName('volume-policy');

const POLICY_YAML = `version: v1
volumePolicies:
  - conditions:
      pvcLabels: { backup: skip }
      csi: { driver: driver.longhorn.io }
    action:
      type: skip
`;

async function createPod(name: string, annotations?: Record<string, string>): Promise<void> {
  const pod = {
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { automountServiceAccountToken: false, containers: [{ name: 'db', image: 'postgres' }] },
  };
  // The namespace's default ServiceAccount, which admission looks for, comes a moment after the namespace.
  await waitFor(
    async () => {
      try {
        await client.create(`/api/v1/namespaces/${namespace}/pods`, pod);
        return true;
      } catch (error) {
        if (String(error).includes('serviceaccount')) return false;
        throw error;
      }
    },
    { what: `pod ${name} to be created` },
  );
}

async function createPvc(name: string, options: { labels?: Record<string, string>; snapshotClass?: string } = {}): Promise<void> {
  await client.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    metadata: {
      name,
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.snapshotClass ? { annotations: { 'velero.io/csi-volumesnapshot-class': options.snapshotClass } } : {}),
    },
    spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
}

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('backup-honest'));
  client = await clusterClient(config);
  namespace = await freshNamespace('alpha', 'honest');
  await client.create('/api/v1/namespaces', { metadata: { name: 'velero' } }).catch((error: unknown) => {
    if (!String(error).includes('already exists')) throw error;
  });
  await client.create('/api/v1/namespaces/velero/configmaps', { metadata: { name: policyName }, data: { 'policy.yaml': POLICY_YAML } });
  for (const name of ['b', 'd', 'a', 'c']) {
    await client.create(`/api/v1/namespaces/${namespace}/configmaps`, { metadata: { name }, data: { k: name } });
  }
  await createPod('db-0', {
    'pre.hook.backup.velero.io/command': '["/sbin/fsfreeze","--freeze","/var/lib/postgresql"]',
    'pre.hook.backup.velero.io/container': 'db',
    'pre.hook.backup.velero.io/on-error': 'Fail',
    'post.hook.backup.velero.io/command': '["/sbin/fsfreeze","--unfreeze","/var/lib/postgresql"]',
  });
  await createPod('web');
  await createPvc('data', { snapshotClass: 'sim-longhorn-delete' });
  // Two classes of driver.longhorn.io in the bed, none chosen: ambiguous.
  await createPvc('ambiguous');
  await createPvc('cache', { labels: { backup: 'skip' } });
  await waitFor(
    async () => (await listAll(client, `/api/v1/namespaces/${namespace}/persistentvolumeclaims`)).every((c) => (c.status as { phase?: string }).phase === 'Bound'),
    { what: `the PVCs of ${namespace} to be bound`, timeoutMs: 90_000 },
  );
}, 180_000);

afterAll(() => client?.close());

describe('a backup that cannot do everything it was asked', () => {
  let name: string;
  let results: Results;

  beforeAll(async () => {
    name = await requestBackup(config, {
      cluster: 'alpha',
      includedNamespaces: [namespace, missing],
      excludedResources: ['events', 'events.events.k8s.io'],
      orderedResources: { configmaps: `${namespace}/c,${namespace}/a` },
      resourcePolicy: { kind: 'configmap', name: policyName },
    });
    const { deps } = await observedDeps(config, name, () => 600_000);
    expect(await runBackup(deps, name)).toEqual({ state: 'completed', phase: 'PartiallyFailed' });
    results = await getGzipJson<Results>(bucket, `backups/${name}/${name}-results.gz`);
  }, 180_000);

  it('makes the bound CSI PVC whose driver has two classes and none chosen an error (Velero 1.18), so PartiallyFailed', () => {
    expect(results.errors.namespaces?.[namespace]).toEqual([
      expect.stringMatching(
        new RegExp(`^could not snapshot PVC ${namespace}/ambiguous: 2 VolumeSnapshotClasses have driver "driver.longhorn.io" .* the volume's data is not in the backup$`),
      ),
    ]);
  });

  it('warns once per pod whose hook annotations name hooks that did not run', () => {
    const hookWarnings = (results.warnings.namespaces?.[namespace] ?? []).filter((w) => w.includes('hook'));
    expect(hookWarnings).toEqual([
      `pod ${namespace}/db-0 declares the backup pre hook pre.hook.backup.velero.io/command="[\\"/sbin/fsfreeze\\",\\"--freeze\\",\\"/var/lib/postgresql\\"]" ` +
        '(container db, on-error Fail) and post hook post.hook.backup.velero.io/command="[\\"/sbin/fsfreeze\\",\\"--unfreeze\\",\\"/var/lib/postgresql\\"]"; ' +
        'Skiff does not run hooks (it does not exec into pods), so they did not run and the backup is not application-consistent',
    ]);
  });

  it('warns about the named namespace that does not exist, naming it', () => {
    expect(results.warnings.namespaces?.[missing]).toEqual([
      `namespace ${missing} is named in includedNamespaces but does not exist in cluster alpha; nothing of it is backed up (check the name and the cluster)`,
    ]);
  });

  it('skips the volume the policy matches, saying so in the volume information, and snapshots the other', async () => {
    const infos = await getGzipJson<BackupVolumeInfo[]>(bucket, `backups/${name}/${name}-volumeinfo.json.gz`);
    const byPvc = new Map(infos.map((info) => [info.pvcName, info]));
    expect(byPvc.get('cache')).toMatchObject({
      skipped: true,
      skippedReason: `skipped by volume policy 0 (action skip) of ConfigMap velero/${policyName}`,
    });
    expect(byPvc.get('data')).toMatchObject({ skipped: false, backupMethod: 'CSISnapshot', result: 'succeeded' });
    // Asked for, so not a warning.
    expect((results.warnings.namespaces?.[namespace] ?? []).filter((w) => w.includes('cache'))).toEqual([]);
    const backup = await getBackup(backupServiceDeps(config), name);
    expect(backup).toMatchObject({ status: { csiVolumeSnapshotsAttempted: 1, csiVolumeSnapshotsCompleted: 1 } });
  });

  it('writes the ordered ConfigMaps first, in the given order, then the others in their usual order', async () => {
    const entries = await tarEntries(await getBytes(bucket, `backups/${name}/${name}.tar.gz`));
    const prefix = `resources/configmaps/namespaces/${namespace}/`;
    const written = entries.filter((e) => e.name.startsWith(prefix)).map((e) => e.name.slice(prefix.length));
    expect(written).toEqual(['c.json', 'a.json', 'b.json', 'd.json', 'kube-root-ca.crt.json']);
  });
});

describe('a resource policy that cannot be applied', () => {
  it('ends the backup FailedValidation, naming the ConfigMap that does not exist', async () => {
    const name = await requestBackup(config, {
      cluster: 'alpha',
      includedNamespaces: [namespace],
      resourcePolicy: { kind: 'configmap', name: 'no-such-policy' },
    });
    const { deps } = await observedDeps(config, name, () => 600_000);
    expect(await runBackup(deps, name)).toEqual({ state: 'failed', phase: 'FailedValidation' });
    const backup = await getBackup(backupServiceDeps(config), name);
    expect(backup).toMatchObject({
      status: {
        phase: 'FailedValidation',
        validationErrors: [expect.stringContaining('resourcePolicy: ConfigMap velero/no-such-policy does not exist in cluster alpha')],
      },
    });
  });
});

describe('a request for work Skiff does not do', () => {
  it('is refused with every field named and why, and nothing is recorded', async () => {
    const request = {
      cluster: 'alpha',
      name: uniqueName('refused'),
      includedNamespaces: [namespace],
      snapshotMoveData: true,
      hooks: { resources: [{ name: 'freeze', pre: [{ exec: { command: ['fsfreeze', '-f', '/data'], onError: 'Fail' } }] }] },
    };
    const error = await requestBackup(config, request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: 'hooks.resources', message: expect.stringContaining('Skiff does not run backup hooks') },
      { path: 'snapshotMoveData', message: expect.stringContaining("Velero's node agent") },
    ]);
    await expect(getBackup(backupServiceDeps(config), request.name)).rejects.toThrow(/not found/);
  });
});
