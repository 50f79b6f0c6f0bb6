import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPartWriter } from '../../lib/backup/part-writer';
import { runBackup } from '../../lib/backup/run-backup';
import type { SkiffConfig } from '../../lib/config';
import type { KubeClient } from '../../lib/kube/client';
import { isNotFound } from '../../lib/kube/errors';
import { listAll } from '../../lib/kube/list-all';
import { freshNamespace, uniqueName, waitFor } from '../bed/context';
import { bedConfig, clusterClient, createWidgetCrd, getBytes, getGzipJson, observedDeps, requestBackup, tarEntries, deleteCrd } from './backup-helpers';

/**
 * Objects a backup refers to that vanish while it runs: a CustomResourceDefinition
 * deleted after its custom resources were listed, and the PersistentVolume of a bound
 * PVC being deleted. The backup stays Completed but names each missing object in a
 * warning, so a restore's gap is explained.
 */

type Results = { warnings: { cluster?: string[]; namespaces?: Record<string, string[]> } };
let config: SkiffConfig;
let bucket: string;
let client: KubeClient;

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('backup-vanishing'));
  client = await clusterClient(config);
});

afterAll(() => client?.close());

describe('objects that vanish mid-backup', () => {
  it('warns that a custom resource type lost its definition after its objects were listed', async () => {
    const group = `${uniqueName('vanish', 20)}.skiff.test`;
    const crdName = await createWidgetCrd(client, group);
    const namespace = await freshNamespace('alpha', 'vanish-crd');
    for (const w of ['w1', 'w2', 'w3']) {
      await client.create(`/apis/${group}/v1/namespaces/${namespace}/widgets`, { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: w } });
    }
    const name = await requestBackup(config, { cluster: 'alpha', includedNamespaces: [namespace], snapshotVolumes: false });
    let deletion: Promise<void> | undefined;
    const { deps } = await observedDeps(config, name, () => 600_000, {
      createWriter: (onPart) => {
        const writer = createPartWriter(onPart);
        return {
          append(paths, body) {
            // The Widgets are listed and in the tarball; now their definition goes.
            if (!deletion && paths.some((p) => p.includes(`/widgets.${group}/`))) deletion = deleteCrd(client, crdName);
            writer.append(paths, body);
          },
          ready: async () => {
            await deletion;
            await writer.ready();
          },
          get openBytes() {
            return writer.openBytes;
          },
          flush: () => writer.flush(),
          finish: () => writer.finish(),
        };
      },
    });

    expect(await runBackup(deps, name)).toMatchObject({ state: 'completed', phase: 'Completed' });

    const paths = (await tarEntries(await getBytes(bucket, `backups/${name}/${name}.tar.gz`))).map((e) => e.name);
    expect(paths.filter((p) => p.startsWith(`resources/widgets.${group}/namespaces/`))).toHaveLength(3);
    expect(paths.some((p) => p.includes(crdName) && p.includes('customresourcedefinitions'))).toBe(false);
    const results = await getGzipJson<Results>(bucket, `backups/${name}/${name}-results.gz`);
    expect(results.warnings.cluster).toEqual([expect.stringContaining(`no CustomResourceDefinition of widgets.${group} could be read`)]);
  });

  it('warns that the PersistentVolume of a backed-up PVC is being deleted', async () => {
    const namespace = await freshNamespace('alpha', 'vanish-pv');
    await client.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
      metadata: { name: 'data' },
      spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    let pvName = '';
    await waitFor(
      async () => {
        const [pvc] = await listAll(client, `/api/v1/namespaces/${namespace}/persistentvolumeclaims`);
        pvName = (pvc?.spec as { volumeName?: string } | undefined)?.volumeName ?? '';
        return (pvc?.status as { phase?: string } | undefined)?.phase === 'Bound';
      },
      { what: 'the PVC to be bound', timeoutMs: 90_000 },
    );
    // pv-protection keeps a bound PV while its claim lives: it stays, being deleted.
    await client.delete(`/api/v1/persistentvolumes/${pvName}`);
    const name = await requestBackup(config, { cluster: 'alpha', includedNamespaces: [namespace], snapshotVolumes: false });
    const { deps } = await observedDeps(config, name, () => 600_000);

    expect(await runBackup(deps, name)).toMatchObject({ state: 'completed', phase: 'Completed' });

    const paths = (await tarEntries(await getBytes(bucket, `backups/${name}/${name}.tar.gz`))).map((e) => e.name);
    expect(paths).toContain(`resources/persistentvolumeclaims/namespaces/${namespace}/data.json`);
    expect(paths.some((p) => p.includes(`/persistentvolumes/cluster/${pvName}.json`))).toBe(false);
    const results = await getGzipJson<Results>(bucket, `backups/${name}/${name}-results.gz`);
    expect(results.warnings.cluster).toEqual([expect.stringContaining(`persistentvolumes ${pvName}, referenced by a backed-up object, is not in the backup`)]);
  });
});
