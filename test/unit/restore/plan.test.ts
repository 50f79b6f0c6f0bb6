import { describe, expect, it } from 'vitest';
import type { ArchiveRecord } from '../../../lib/archive/tar-reader';
import { parseArchivePath } from '../../../lib/archive/paths';
import { chooseRestoreVersions } from '../../../lib/restore/api-versions';
import { buildRestorePlan, type PlanContext } from '../../../lib/restore/plan';
import { emptyResults } from '../../../lib/velero/results';
import type { RestoreSpec } from '../../../lib/velero/restore';

const HANDLE = 'bak://pvc-1/backup-0123456789abcdef';

function item(path: string, object: Record<string, unknown>): ArchiveRecord {
  const entry = parseArchivePath(path);
  if (entry?.kind !== 'item') throw new Error(`not an item path: ${path}`);
  return { kind: 'item', path, entry, object, bytes: Buffer.from(JSON.stringify(object)) };
}

const objects: ArchiveRecord[] = [
  { kind: 'version', version: '1.1.0' },
  item('resources/namespaces/cluster/shop.json', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a' } } }),
  item('resources/configmaps/namespaces/shop/settings.json', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'shop' } }),
  item('resources/configmaps/v1-preferredversion/namespaces/shop/settings.json', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'shop' } }),
  item('resources/deployments.apps/namespaces/shop/web.json', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { template: { spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] } } } }),
  item('resources/persistentvolumeclaims/namespaces/shop/data.json', {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'shop', annotations: { 'velero.io/volume-snapshot-name': 'velero-data-1' } },
    spec: { volumeName: 'pvc-1' },
  }),
  item('resources/persistentvolumes/cluster/pvc-1.json', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pvc-1' }, spec: { persistentVolumeReclaimPolicy: 'Delete' } }),
  item('resources/persistentvolumes/cluster/static-pv.json', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'static-pv' }, spec: { persistentVolumeReclaimPolicy: 'Retain' } }),
  item('resources/volumesnapshots.snapshot.storage.k8s.io/namespaces/shop/velero-data-1.json', {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshot',
    metadata: { name: 'velero-data-1', namespace: 'shop', annotations: { 'velero.io/csi-volumesnapshot-handle': HANDLE, 'velero.io/csi-driver-name': 'driver.longhorn.io' } },
    spec: { source: { persistentVolumeClaimName: 'data' } },
  }),
  item('resources/volumesnapshotcontents.snapshot.storage.k8s.io/cluster/snapcontent-1.json', {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotContent',
    metadata: { name: 'snapcontent-1' },
    spec: { driver: 'driver.longhorn.io', deletionPolicy: 'Retain', source: { volumeHandle: 'pvc-1' }, volumeSnapshotRef: { name: 'velero-data-1', namespace: 'shop' } },
  }),
  item('resources/nodes/cluster/node-1.json', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } }),
  item('resources/pods/namespaces/shop/done.json', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'done', namespace: 'shop' }, status: { phase: 'Succeeded' } }),
  { kind: 'bad-item', path: 'resources/secrets/namespaces/shop/broken.json', entry: parseArchivePath('resources/secrets/namespaces/shop/broken.json') as never, error: 'the entry is not valid JSON' },
  { kind: 'skipped', path: 'README', reason: 'outside the layout' },
];

async function* records(list: ArchiveRecord[]): AsyncGenerator<ArchiveRecord> {
  yield* list;
}

function context(spec: Partial<RestoreSpec> = {}, overrides: Partial<PlanContext> = {}): PlanContext {
  return {
    spec: { backupName: 'b1', ...spec },
    restoreName: 'r1',
    restoreUid: 'uid-1',
    backupName: 'b1',
    targetCluster: 'alpha',
    target: { classes: [{ metadata: { name: 'lh' }, driver: 'driver.longhorn.io' }], drivers: new Set(['driver.longhorn.io']) },
    storedSnapshots: async () => ({ volumeSnapshots: [], contents: [] }),
    maxHeldBytes: 1 << 20,
    results: emptyResults(),
    log: () => undefined,
    chooseVersions: async (sources) => chooseRestoreVersions(sources, new Map()),
    ...overrides,
  };
}

const shape = (plan: Awaited<ReturnType<typeof buildRestorePlan>>) => plan.steps.map((s) => [s.groupResource, s.items.map((i) => i.name)]);

describe('Function: buildRestorePlan', () => {
  it('orders steps as Velero, restores the PVC from its snapshot, and leaves out what a restore never creates', async () => {
    const ctx = context();
    const plan = await buildRestorePlan(records(objects), ctx);
    const snapshotName = plan.pvcSnapshots.get('shop/data')!.volumeSnapshotName;
    expect(shape(plan)).toEqual([
      ['namespaces', ['shop']],
      ['volumesnapshotcontents.snapshot.storage.k8s.io', [snapshotName]],
      ['volumesnapshots.snapshot.storage.k8s.io', [snapshotName]],
      ['persistentvolumes', ['static-pv']],
      ['persistentvolumeclaims', ['data']],
      ['configmaps', ['settings']],
      ['deployments.apps', ['web']],
    ]);
    expect(plan.totalItems).toBe(7);
    expect([...plan.persistentVolumesNotRestored]).toEqual(['pvc-1']);
    expect(ctx.results.errors.namespaces.shop).toEqual(['error restoring secrets shop/broken: the entry is not valid JSON']);
    expect(ctx.results.warnings.velero).toEqual(['tarball entry README was skipped: outside the layout']);
  });

  it('with some namespaces only: no cluster-scoped objects but the namespaces needed', async () => {
    const plan = await buildRestorePlan(records(objects), context({ includedNamespaces: ['shop'], namespaceMapping: { shop: 'copy' } }));
    expect(shape(plan).map(([gr]) => gr)).not.toContain('persistentvolumes');
    expect(shape(plan)[0]).toEqual(['namespaces', ['shop']]);
  });

  it('makes a PVC whose driver is missing in the target an error of its own, and restores the rest', async () => {
    const ctx = context({}, { target: { classes: [], drivers: new Set() } });
    const plan = await buildRestorePlan(records(objects), ctx);
    expect(shape(plan).map(([gr]) => gr)).not.toContain('persistentvolumeclaims');
    expect(shape(plan).map(([gr]) => gr)).toContain('configmaps');
    expect(ctx.results.errors.namespaces.shop?.join('\n')).toMatch(/PVC shop\/data: CSI driver driver.longhorn.io is not installed/);
  });

  it('finds the rollout conflict of a rule on the Deployment', async () => {
    const modifiers = {
      version: 'v1' as const,
      resourceModifierRules: [{ conditions: { groupResource: 'deployments.apps' }, patches: [{ operation: 'add' as const, path: '/spec/template/metadata', value: '{}' }] }],
    };
    const plan = await buildRestorePlan(records(objects), context({}, { modifiers }));
    expect(plan.conflicts).toEqual([{ ruleIndex: 0, workload: 'Deployment shop/web', volumes: ['data'] }]);
  });

  it('refuses to hold more than maxHeldBytes, saying to restore less at a time', async () => {
    await expect(buildRestorePlan(records(objects), context({}, { maxHeldBytes: 200 }))).rejects.toThrow(/restore fewer namespaces or resources at a time/);
  });

  it('refuses a format it does not know', async () => {
    await expect(buildRestorePlan(records([{ kind: 'version', version: '2.0.0' }]), context())).rejects.toThrow(/format 2.0.0 is not supported/);
  });
});
