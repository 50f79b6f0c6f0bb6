import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import type { SkiffConfig } from '../../lib/config';
import type { KubeClient } from '../../lib/kube/client';
import { discoverApi } from '../../lib/kube/discovery';
import { freshNamespace, uniqueName, waitFor } from '../bed/context';
import { bedConfig, clusterClient, getBytes, getGzipJson, observedDeps, requestBackup, tarEntries } from './backup-helpers';

/**
 * An APIService whose Service does not exist: the aggregator marks it unavailable. It
 * must cost the backup one warning naming the group version, through either discovery
 * path, and nothing else: every other object is backed up and the backup is Completed.
 */

let config: SkiffConfig;
let bucket: string;
let client: KubeClient;
let group: string;
const apiServices = '/apis/apiregistration.k8s.io/v1/apiservices';

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('backup-broken-api'));
  client = await clusterClient(config);
  group = `metrics.${uniqueName('broken', 20)}.example.com`;
  await client.create(apiServices, {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: `v1beta1.${group}` },
    spec: {
      group,
      version: 'v1beta1',
      service: { namespace: 'default', name: uniqueName('missing', 30) },
      insecureSkipTLSVerify: true,
      groupPriorityMinimum: 100,
      versionPriority: 10,
    },
  });
  await waitFor(
    async () => {
      const service = await client.get<{ status?: { conditions?: { type: string; status: string }[] } }>(`${apiServices}/v1beta1.${group}`);
      return service.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'False') ?? false;
    },
    { what: 'the APIService to be marked unavailable' },
  );
}, 120_000);

afterAll(async () => {
  await client?.delete(`${apiServices}/v1beta1.${group}`).catch(() => undefined);
  client?.close();
});

describe('an unavailable aggregated API', () => {
  it.each([
    ['aggregated discovery', true],
    ['per-group discovery', false],
  ])('is one problem naming its group version through %s, the rest discovered', async (_, aggregated) => {
    const { resources, problems } = await waitForProblem(aggregated);
    expect(problems.filter((p) => p.groupVersion === `${group}/v1beta1`)).toEqual([
      { groupVersion: `${group}/v1beta1`, reason: expect.stringContaining('its API server is unavailable') },
    ]);
    expect(resources.some((r) => r.group === '' && r.resource === 'configmaps')).toBe(true);
  });

  it('costs a backup one warning, not its objects or its phase', async () => {
    const namespace = await freshNamespace('alpha', 'broken-api');
    await client.create(`/api/v1/namespaces/${namespace}/configmaps`, { metadata: { name: 'settings' }, data: { k: 'v' } });
    const name = await requestBackup(config, { cluster: 'alpha', includedNamespaces: [namespace], snapshotVolumes: false });
    const { deps } = await observedDeps(config, name, () => 600_000);

    expect(await runBackup(deps, name)).toMatchObject({ state: 'completed', phase: 'Completed' });

    const paths = (await tarEntries(await getBytes(bucket, `backups/${name}/${name}.tar.gz`))).map((e) => e.name);
    expect(paths).toContain(`resources/configmaps/namespaces/${namespace}/settings.json`);
    const results = await getGzipJson<{ warnings: { cluster?: string[] } }>(bucket, `backups/${name}/${name}-results.gz`);
    expect(results.warnings.cluster?.filter((w) => w.includes(group))).toEqual([
      expect.stringMatching(new RegExp(`^API group version ${group.replace(/\./g, '\\.')}/v1beta1 could not be discovered: its API server is unavailable`)),
    ]);
  });
});

/** Discovery as the aggregator has it once it has given up on the APIService (it retries for a while). */
async function waitForProblem(aggregated: boolean) {
  let found = await discoverApi(client, { aggregated });
  await waitFor(
    async () => {
      found = await discoverApi(client, { aggregated });
      return found.problems.some((p) => p.groupVersion === `${group}/v1beta1`);
    },
    { what: `discovery to report ${group}/v1beta1`, timeoutMs: 60_000 },
  );
  return found;
}
