import { gunzipSync } from 'node:zlib';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { extract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../lib/config';
import { runBackup } from '../../lib/backup/run-backup';
import { backupRunnerDeps } from '../../lib/backup/runner-wiring';
import { createBackup, getBackup } from '../../lib/backup/service';
import { backupServiceDeps } from '../../lib/backup/wiring';
import { bedState, freshBucket, freshNamespace, kubeConfigFor, s3Client, waitFor } from '../bed/context';
import { skiffConfigForBed } from '../bed/skiff-config';

async function tarEntries(bytes: Buffer): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const parser = extract();
  parser.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c) => chunks.push(c as Buffer));
    stream.on('end', () => {
      entries.set(header.name, Buffer.concat(chunks).toString('utf8'));
      next();
    });
  });
  const done = new Promise((resolve, reject) => {
    parser.on('finish', () => resolve(undefined));
    parser.on('error', reject);
  });
  parser.end(gunzipSync(bytes));
  await done;
  return entries;
}

async function getBytes(bucket: string, key: string): Promise<Buffer> {
  const answer = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await answer.Body!.transformToByteArray());
}

describe('runBackup', () => {
  it('backs up a namespace with a CSI snapshot into Velero\'s layout', async () => {
    const namespace = await freshNamespace('alpha', 'shop');
    const kc = kubeConfigFor('alpha');
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { a: '1' } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'db' }, stringData: { password: 'hunter2' } } });
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
        },
      },
    });
    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        metadata: { name: 'data', labels: { app: 'web' } },
        spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    });
    await waitFor(
      async () => (await core.readNamespacedPersistentVolumeClaim({ namespace, name: 'data' })).status?.phase === 'Bound',
      { what: 'PVC data bound', timeoutMs: 60_000 },
    );
    const bucket = await freshBucket('backup-run');
    const config = validateConfig(skiffConfigForBed(bedState(), { bucket, apiToken: 't' }), 'test');
    const created = await createBackup(backupServiceDeps(config), {
      cluster: 'alpha',
      name: `b-${namespace}`,
      includedNamespaces: [namespace],
      annotations: { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-delete' },
    });
    expect(created.phase).toBe('New');

    const outcome = await runBackup(await backupRunnerDeps(config, () => 600_000, created.name), created.name);
    expect(outcome).toEqual({ state: 'completed', phase: 'Completed' });

    const backup = await getBackup(backupServiceDeps(config), created.name);
    expect(backup.status).toMatchObject({ phase: 'Completed', csiVolumeSnapshotsAttempted: 1, csiVolumeSnapshotsCompleted: 1 });

    const entries = await tarEntries(await getBytes(bucket, `backups/${created.name}/${created.name}.tar.gz`));
    const paths = [...entries.keys()].sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        'metadata/version',
        `resources/configmaps/namespaces/${namespace}/settings.json`,
        `resources/configmaps/v1-preferredversion/namespaces/${namespace}/settings.json`,
        `resources/secrets/namespaces/${namespace}/db.json`,
        `resources/deployments.apps/namespaces/${namespace}/web.json`,
        `resources/persistentvolumeclaims/namespaces/${namespace}/data.json`,
        `resources/namespaces/cluster/${namespace}.json`,
      ]),
    );
    expect(paths.some((p) => p.startsWith('resources/persistentvolumes/cluster/'))).toBe(true);
    expect(paths.some((p) => p.startsWith(`resources/volumesnapshots.snapshot.storage.k8s.io/namespaces/${namespace}/velero-data-`))).toBe(true);
    expect(paths.some((p) => p.startsWith('resources/volumesnapshotcontents.snapshot.storage.k8s.io/cluster/'))).toBe(true);
    console.log(paths.join('\n'));
  });
});
