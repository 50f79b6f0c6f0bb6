import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import type { SkiffConfig } from '../../lib/config';
import type { KubeClient } from '../../lib/kube/client';
import { freshNamespace } from '../bed/context';
import { bedConfig, clusterClient, getBytes, getGzipJson, observedDeps, requestBackup, tarEntries } from './backup-helpers';

/**
 * Names the API server accepts that a tarball path must carry as they are: an RBAC
 * object named `a\b` (RBAC names are only checked as path segments) and a 253-character
 * name, whose file name (258 bytes with `.json`) tar cannot extract on most filesystems
 * (Velero #8434). Neither may fail the backup.
 */

let config: SkiffConfig;
let bucket: string;
let client: KubeClient;
let namespace: string;
const longName = `long-${'n'.repeat(248)}`;

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('backup-odd-names'));
  client = await clusterClient(config);
  namespace = await freshNamespace('alpha', 'odd-names');
  await client.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`, {
    metadata: { name: 'a\\b' },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
  });
  await client.create(`/api/v1/namespaces/${namespace}/configmaps`, { metadata: { name: longName }, data: { k: 'v' } });
});

afterAll(() => client?.close());

describe('odd but valid names', () => {
  it('are written as Velero writes them, the long one with a warning, and the backup is Completed', async () => {
    const name = await requestBackup(config, { cluster: 'alpha', includedNamespaces: [namespace], snapshotVolumes: false });
    const { deps } = await observedDeps(config, name, () => 600_000);

    expect(await runBackup(deps, name)).toMatchObject({ state: 'completed', phase: 'Completed' });

    const entries = await tarEntries(await getBytes(bucket, `backups/${name}/${name}.tar.gz`));
    const paths = entries.map((e) => e.name);
    expect(paths).toContain(`resources/roles.rbac.authorization.k8s.io/namespaces/${namespace}/a\\b.json`);
    expect(paths).toContain(`resources/roles.rbac.authorization.k8s.io/v1-preferredversion/namespaces/${namespace}/a\\b.json`);
    expect(paths).toContain(`resources/configmaps/namespaces/${namespace}/${longName}.json`);
    const results = await getGzipJson<{ warnings: { namespaces?: Record<string, string[]> } }>(bucket, `backups/${name}/${name}-results.gz`);
    expect(results.warnings.namespaces?.[namespace]).toEqual([
      `configmaps ${namespace}/${longName} is stored under a file name longer than 255 bytes, which tar cannot extract on most ` +
        'filesystems (Velero #8434); Skiff reads it, other tools may not',
    ]);
  });
});
