import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { getBackup } from '../../lib/backup/service';
import { backupServiceDeps } from '../../lib/backup/service';
import type { SkiffConfig } from '../../lib/config';
import type { KubeClient } from '../../lib/kube/client';
import { freshNamespace, uniqueName, waitFor } from '../bed/context';
import { bedConfig, clusterClient, getBytes, getGzipJson, objectOf, observedDeps, requestBackup, tarEntries } from './backup-helpers';
import { listAll } from '../../lib/kube/list-all';

/**
 * A VolumeSnapshotClass that names a snapshotter Secret makes the snapshot-controller
 * record it on each content as the Secret its deletion needs. Velero backs that Secret
 * up with the content, whatever the backup's filters, so a restored content can still be
 * deleted; it must be in the tarball once, even when the listing also includes it.
 */

let config: SkiffConfig;
let bucket: string;
let client: KubeClient;
let className: string;

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('snapshot-secrets'));
  client = await clusterClient(config);
  className = uniqueName('sim-longhorn-secret');
});

afterAll(async () => {
  await client?.delete(`/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses/${className}`).catch(() => undefined);
  client?.close();
});

/** A namespace with one bound PVC on sim-longhorn. */
async function namespaceWithPvc(prefix: string): Promise<string> {
  const namespace = await freshNamespace('alpha', prefix);
  await client.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    metadata: { name: 'data' },
    spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  await waitFor(
    async () => (await listAll(client, `/api/v1/namespaces/${namespace}/persistentvolumeclaims`)).every((c) => (c.status as { phase?: string }).phase === 'Bound'),
    { what: `the PVC of ${namespace} to be bound`, timeoutMs: 90_000 },
  );
  return namespace;
}

async function createSecretClass(secretNamespace: string, secretName: string): Promise<void> {
  await client.delete(`/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses/${className}`).catch(() => undefined);
  await client.create('/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses', {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotClass',
    metadata: { name: className },
    driver: 'driver.longhorn.io',
    deletionPolicy: 'Delete',
    parameters: {
      'csi.storage.k8s.io/snapshotter-secret-name': secretName,
      'csi.storage.k8s.io/snapshotter-secret-namespace': secretNamespace,
    },
  });
}

async function backUp(namespace: string): Promise<{ name: string; paths: string[]; entries: Awaited<ReturnType<typeof tarEntries>> }> {
  const name = await requestBackup(config, {
    cluster: 'alpha',
    includedNamespaces: [namespace],
    annotations: { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': className },
  });
  const { deps } = await observedDeps(config, name, () => 600_000);
  expect(await runBackup(deps, name)).toMatchObject({ state: 'completed' });
  const entries = await tarEntries(await getBytes(bucket, `backups/${name}/${name}.tar.gz`));
  return { name, entries, paths: entries.map((e) => e.name) };
}

describe('the Secret a snapshot needs for its deletion', () => {
  it('is backed up with the content although its namespace is not in the backup', async () => {
    const namespace = await namespaceWithPvc('snapsecret');
    const credentials = await freshNamespace('alpha', 'snapsecret-creds');
    await client.create(`/api/v1/namespaces/${credentials}/secrets`, { metadata: { name: 'snapshotter' }, stringData: { key: 'k-123' } });
    await createSecretClass(credentials, 'snapshotter');

    const { name, entries, paths } = await backUp(namespace);

    const backup = await getBackup(backupServiceDeps(config), name);
    expect(backup.status.phase).toBe('Completed');
    const contents = entries.filter((e) => e.name.startsWith('resources/volumesnapshotcontents.snapshot.storage.k8s.io/cluster/'));
    expect(contents).toHaveLength(1);
    expect(objectOf(contents[0]!).metadata.annotations).toMatchObject({
      'snapshot.storage.kubernetes.io/deletion-secret-name': 'snapshotter',
      'snapshot.storage.kubernetes.io/deletion-secret-namespace': credentials,
    });
    expect(paths.filter((p) => p.startsWith('resources/secrets/'))).toEqual([
      `resources/secrets/namespaces/${credentials}/snapshotter.json`,
      `resources/secrets/v1-preferredversion/namespaces/${credentials}/snapshotter.json`,
    ]);
    const secret = objectOf(entries.find((e) => e.name === `resources/secrets/namespaces/${credentials}/snapshotter.json`)!);
    expect(secret).toMatchObject({ kind: 'Secret', metadata: { name: 'snapshotter', namespace: credentials } });
    const list = await getGzipJson<Record<string, string[]>>(bucket, `backups/${name}/${name}-resource-list.json.gz`);
    expect(list['v1/Secret']).toEqual([`${credentials}/snapshotter`]);
    // Only the objects of the namespace and the snapshot's own: nothing else of the credentials namespace.
    expect(paths.filter((p) => p.includes(`/${credentials}/`))).toHaveLength(2);
  });

  it('is in the tarball once when the backup lists it anyway', async () => {
    const namespace = await namespaceWithPvc('snapsecret-same');
    await client.create(`/api/v1/namespaces/${namespace}/secrets`, { metadata: { name: 'snapshotter' }, stringData: { key: 'k-456' } });
    await createSecretClass(namespace, 'snapshotter');

    const { paths } = await backUp(namespace);

    const secretPaths = paths.filter((p) => p.startsWith('resources/secrets/') && p.endsWith('/snapshotter.json'));
    expect(secretPaths).toEqual([
      `resources/secrets/namespaces/${namespace}/snapshotter.json`,
      `resources/secrets/v1-preferredversion/namespaces/${namespace}/snapshotter.json`,
    ]);
  });

  it('is a warning, not a failure, when it cannot be read', async () => {
    const namespace = await namespaceWithPvc('snapsecret-gone');
    await createSecretClass(`${namespace}-nowhere`, 'missing');

    const { name, paths } = await backUp(namespace);

    const backup = await getBackup(backupServiceDeps(config), name);
    expect(backup.status.phase).toBe('Completed');
    expect(backup.status.warnings).toBeGreaterThanOrEqual(1);
    const results = await getGzipJson<{ warnings: { namespaces?: Record<string, string[]> } }>(bucket, `backups/${name}/${name}-results.gz`);
    expect(results.warnings.namespaces?.[`${namespace}-nowhere`]?.[0]).toMatch(/could not read Secret .*-nowhere\/missing, which snapshot deletion needs/);
    expect(paths.filter((p) => p.startsWith('resources/secrets/'))).toEqual([]);
  });
});
