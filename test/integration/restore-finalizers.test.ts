import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import type { SkiffConfig } from '../../lib/config';
import { systemClock } from '../../lib/core/clock';
import type { KubeClient } from '../../lib/kube/client';
import { clusterConnector } from '../../lib/kube/connect';
import { listAll } from '../../lib/kube/list-all';
import { runRestore } from '../../lib/restore/run-restore';
import { createRestore, restoreServiceDeps } from '../../lib/restore/service';
import { storeResolver } from '../../lib/store/resolver';
import { freshNamespace, uniqueName, waitFor } from '../bed/context';
import { bedConfig, clusterClient, observedDeps, requestBackup, waitUntilGone } from './backup-helpers';

/**
 * A claim backed up while the snapshot-controller held it as a snapshot's source
 * (`snapshot.storage.kubernetes.io/pvc-as-source-protection`, held until that snapshot
 * is ready). Restored with that finalizer, nothing in the target cluster removes it and
 * the restored namespace can never be deleted. Found by the chaos runs (seed 20261205,
 * lifecycles 541837655 and 4048677153: restored namespaces stuck Terminating).
 */

const FINALIZER = 'snapshot.storage.kubernetes.io/pvc-as-source-protection';
let config: SkiffConfig;
let alpha: KubeClient;
let source: string;
let target: string;

const claimPath = (namespace: string) => `/api/v1/namespaces/${namespace}/persistentvolumeclaims/data`;

beforeAll(async () => {
  ({ config } = await bedConfig('restore-finalizers'));
  alpha = await clusterClient(config, 'alpha');
  source = await freshNamespace('alpha', 'held');
  await alpha.create(`/api/v1/namespaces/${source}/persistentvolumeclaims`, {
    metadata: { name: 'data' },
    spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  await waitFor(async () => (await alpha.get<{ status?: { phase?: string } }>(claimPath(source))).status?.phase === 'Bound', { what: 'the claim bound', timeoutMs: 60_000 });
  // As the snapshot-controller leaves it while a snapshot of the claim is being cut.
  await alpha.patch(claimPath(source), { metadata: { finalizers: ['kubernetes.io/pvc-protection', FINALIZER] } }, 'merge');
  const backupName = await requestBackup(config, { cluster: 'alpha', includedNamespaces: [source], snapshotVolumes: false });
  const { deps } = await observedDeps(config, backupName, () => 600_000);
  expect(await runBackup(deps, backupName)).toEqual({ state: 'completed', phase: 'Completed' });
  target = `${source}-restored`;
  const { name } = await createRestore(restoreServiceDeps(config), { backupName, name: uniqueName('r'), namespaceMapping: { [source]: target } });
  const outcome = await runRestore({ store: storeResolver(config)('default'), connect: clusterConnector(config), clock: systemClock, remainingMs: () => 600_000 }, name);
  expect(outcome.state).toBe('done');
}, 120_000);

afterAll(async () => {
  await alpha?.patch(claimPath(source), { metadata: { finalizers: ['kubernetes.io/pvc-protection'] } }, 'merge').catch(() => undefined);
  alpha?.close();
});

describe('A claim restored while its source held a snapshot finalizer', () => {
  it('is restored without the finalizer of an operation under way in the source cluster', async () => {
    const restored = await alpha.get<{ metadata: { finalizers?: string[] } }>(claimPath(target));
    expect(restored.metadata.finalizers ?? []).not.toContain(FINALIZER);
  });

  it('leaves a namespace that can be deleted', async () => {
    await alpha.delete(`/api/v1/namespaces/${target}`);
    await waitUntilGone(alpha, `/api/v1/namespaces/${target}`, `namespace ${target} to be gone`);
    expect(await listAll(alpha, `/api/v1/namespaces/${target}/persistentvolumeclaims`)).toEqual([]);
  });
});
