import { describe, expect, it } from 'vitest';
import { BEING_DELETED_ANNOTATION } from '../../../lib/csi/stalled-deletion';
import { CONTENT_FINALIZER, type VolumeSnapshotContent } from '../../../lib/csi/snapshot-api';
import type { ClaimObject, ClusterInventory, ClusterView, VolumeObject } from '../../../lib/expiry/inventory';
import type { DeletionCandidate, ExpiryAction } from '../../../lib/expiry/plan';
import { inPhaseOrder } from '../../../lib/expiry/plan';
import { planDeletion, temporaryContentName } from '../../../lib/expiry/plan-deletion';
import { snapshotUsage } from '../../../lib/expiry/usage';
import { objectStoreLayout } from '../../../lib/store/layout';
import { BACKUP_NAME_LABEL } from '../../../lib/velero/labels';
import { forPersistentVolume, forPersistentVolumeClaim, forVolumeSnapshot, forVolumeSnapshotContent } from '../../builders';

const LONGHORN = 'driver.longhorn.io';
const ONTAP = 'csi.trident.netapp.io';
const layout = objectStoreLayout('');

/** The backup's content as the backup left it: labelled, Retain, bound to its VolumeSnapshot. */
function backupContent(name: string, handle: string, driver = LONGHORN) {
  return forVolumeSnapshotContent(name).driver(driver).deletionPolicy('Retain').labels({ [BACKUP_NAME_LABEL]: 'b1' }).forSnapshot('app', `vs-${name}`).handle(handle).ready();
}

function cluster(name: string, fields: Partial<ClusterInventory> = {}): ClusterInventory {
  return { cluster: name, contents: [], snapshots: [], claims: [], volumes: [], drivers: [LONGHORN, ONTAP], ...fields };
}

function candidate(fields: Partial<DeletionCandidate> = {}): DeletionCandidate {
  return { backup: 'b1', cause: 'expired', why: 'expired at x', marked: false, hasData: true, inCatalog: true, storedContents: [], cluster: 'alpha', ...fields };
}

function plan(c: DeletionCandidate, views: ClusterView[]) {
  const usage = snapshotUsage(views.filter((v): v is ClusterInventory => !('unreachable' in v)));
  const planned = planDeletion(c, views, usage, layout);
  return { ...planned, steps: inPhaseOrder(planned.actions).map(step) };
}

/** An action as one readable line: kind, cluster, object. */
function step(a: ExpiryAction): string {
  return [a.kind, a.cluster, a.object].filter(Boolean).join(' ');
}

const stored = (name: string, handle: string, driver = LONGHORN): VolumeSnapshotContent => backupContent(name, handle, driver).result();

describe('Function: planDeletion', () => {
  it('frees a bound content through its VolumeSnapshot, then deletes the data, the catalog entry and the marker last', () => {
    const content = backupContent('c1', 'bak://v/1').result();
    const alpha = cluster('alpha', { contents: [content], snapshots: [forVolumeSnapshot('app', 'vs-c1').boundTo('c1').ready().result()] });
    const result = plan(candidate({ storedContents: [content] }), [alpha]);
    expect(result.waitingOn).toEqual([]);
    expect(result.steps).toEqual([
      'writeDeletionMarker metadata/skiff/deleting/b1.json',
      'setDeletionPolicyDelete alpha VolumeSnapshotContent/c1',
      'deleteVolumeSnapshot alpha VolumeSnapshot/app/vs-c1',
      'waitUntilContentGone alpha VolumeSnapshotContent/c1',
      'deleteBackupData backups/b1/',
      'removeCatalogEntry metadata/skiff/catalog.json',
      'deleteDeletionMarker metadata/skiff/deleting/b1.json',
    ]);
  });

  it.each([
    {
      case: 'pre-provisioned (a synced copy), no VolumeSnapshot left: one claims it again, so the snapshot-controller holds it while the driver deletes',
      content: backupContent('c1', 'h1').staticHandle('h1'),
      snapshots: [],
      steps: [
        'setDeletionPolicyDelete alpha VolumeSnapshotContent/c1',
        'claimContent alpha VolumeSnapshot/app/vs-c1',
        'deleteVolumeSnapshot alpha VolumeSnapshot/app/vs-c1',
        'waitUntilContentGone alpha VolumeSnapshotContent/c1',
      ],
    },
    {
      case: 'dynamically provisioned, no VolumeSnapshot left (gone with its namespace): it cannot be claimed again, so a temporary content frees its snapshot and it goes directly',
      content: backupContent('c1', 'h1'),
      snapshots: [],
      steps: [
        'setDeletionPolicyDelete alpha VolumeSnapshotContent/c1',
        `createTemporaryContent alpha VolumeSnapshotContent/${temporaryContentName('b1', 'h1')}`,
        `claimContent alpha VolumeSnapshot/default/${temporaryContentName('b1', 'h1')}`,
        `deleteVolumeSnapshot alpha VolumeSnapshot/default/${temporaryContentName('b1', 'h1')}`,
        'deleteContent alpha VolumeSnapshotContent/c1',
        `waitUntilContentGone alpha VolumeSnapshotContent/${temporaryContentName('b1', 'h1')}`,
        'waitUntilContentGone alpha VolumeSnapshotContent/c1',
      ],
    },
    {
      case: 'no snapshot handle (a failed cut): the content itself goes',
      content: forVolumeSnapshotContent('c1').driver(LONGHORN).deletionPolicy('Retain').labels({ [BACKUP_NAME_LABEL]: 'b1' }).forSnapshot('app', 'vs-c1').error('cut failed'),
      snapshots: [],
      steps: ['setDeletionPolicyDelete alpha VolumeSnapshotContent/c1', 'deleteContent alpha VolumeSnapshotContent/c1', 'waitUntilContentGone alpha VolumeSnapshotContent/c1'],
    },
    {
      case: 'already Delete (a run stopped after the flip): no second patch',
      content: backupContent('c1', 'h1').staticHandle('h1').deletionPolicy('Delete'),
      snapshots: [],
      steps: ['claimContent alpha VolumeSnapshot/app/vs-c1', 'deleteVolumeSnapshot alpha VolumeSnapshot/app/vs-c1', 'waitUntilContentGone alpha VolumeSnapshotContent/c1'],
    },
    {
      case: 'being deleted while Retain, as the snapshot-controller deletes it: flipped, then waited for, not deleted again',
      content: backupContent('c1', 'h1').annotations({ [BEING_DELETED_ANNOTATION]: 'yes' }).deleting(CONTENT_FINALIZER),
      snapshots: [],
      steps: ['setDeletionPolicyDelete alpha VolumeSnapshotContent/c1', 'waitUntilContentGone alpha VolumeSnapshotContent/c1'],
    },
    {
      case: 'being deleted while its VolumeSnapshot is still there (deleted directly): the VolumeSnapshot goes, so the snapshot-controller lets the driver act',
      content: backupContent('c1', 'h1').deleting(CONTENT_FINALIZER),
      snapshots: [forVolumeSnapshot('app', 'vs-c1').boundTo('c1').ready().result()],
      steps: ['setDeletionPolicyDelete alpha VolumeSnapshotContent/c1', 'deleteVolumeSnapshot alpha VolumeSnapshot/app/vs-c1', 'waitUntilContentGone alpha VolumeSnapshotContent/c1'],
    },
    {
      case: 'being deleted without the being-deleted annotation, its VolumeSnapshot gone (the sidecar would wait forever): flipped, annotated, waited for',
      content: backupContent('c1', 'h1').deleting(CONTENT_FINALIZER),
      snapshots: [],
      steps: ['setDeletionPolicyDelete alpha VolumeSnapshotContent/c1', 'setBeingDeletedAnnotation alpha VolumeSnapshotContent/c1', 'waitUntilContentGone alpha VolumeSnapshotContent/c1'],
    },
  ])('$case', ({ content, snapshots, steps }) => {
    const c = content.result();
    const result = plan(candidate({ marked: true, storedContents: [c], inCatalog: false, hasData: false }), [cluster('alpha', { contents: [c], snapshots })]);
    expect(result.steps).toEqual([...steps, 'deleteDeletionMarker metadata/skiff/deleting/b1.json']);
  });

  it.each([
    { case: 'its namespace is gone: the ref moves to default, where a VolumeSnapshot claims it', namespaces: ['default'], claim: 'default/c1', repointFrom: 'app/vs-c1' },
    { case: 'its namespace exists: claimed where the ref says', namespaces: ['default', 'app'], claim: 'app/vs-c1', repointFrom: undefined },
    { case: 'namespaces unknown (not listable): claimed where the ref says', namespaces: undefined, claim: 'app/vs-c1', repointFrom: undefined },
    { case: 'its ref keeps the uid of the VolumeSnapshot that is gone: the uid is cleared first', namespaces: ['default', 'app'], claim: 'app/vs-c1', repointFrom: 'app/vs-c1', uid: 'old-uid' },
  ])('a pre-provisioned content with no VolumeSnapshot left, $case', ({ namespaces, claim, repointFrom, uid }) => {
    const c = backupContent('c1', 'h1').staticHandle('h1').result();
    if (uid) c.spec.volumeSnapshotRef = { ...c.spec.volumeSnapshotRef, uid };
    const alpha = cluster('alpha', { contents: [c], ...(namespaces ? { namespaces } : {}) });
    const result = plan(candidate({ marked: true, storedContents: [c], inCatalog: false, hasData: false }), [alpha]);
    expect(result.steps).toEqual([
      'setDeletionPolicyDelete alpha VolumeSnapshotContent/c1',
      `claimContent alpha VolumeSnapshot/${claim}`,
      `deleteVolumeSnapshot alpha VolumeSnapshot/${claim}`,
      'waitUntilContentGone alpha VolumeSnapshotContent/c1',
      'deleteDeletionMarker metadata/skiff/deleting/b1.json',
    ]);
    const claimed = result.actions.find((a) => a.kind === 'claimContent');
    expect(claimed && 'repointFrom' in claimed ? claimed.repointFrom : undefined).toBe(repointFrom);
  });

  it('a VolumeSnapshot of the referenced name that claims another content is not touched: the content waits', () => {
    const c = backupContent('c1', 'h1').result();
    const result = plan(candidate({ marked: true, storedContents: [c] }), [cluster('alpha', { contents: [c], snapshots: [forVolumeSnapshot('app', 'vs-c1').boundTo('other').result()] })]);
    expect(result.steps).toEqual([]);
    expect(result.waitingOn).toEqual([expect.stringMatching(/VolumeSnapshot app\/vs-c1, which its volumeSnapshotRef names, claims another content/)]);
  });

  it('frees a synced copy in another cluster, found by its handle though it has no label', () => {
    const original = stored('c1', 'h1');
    const copy = forVolumeSnapshotContent('synced-c1').driver(LONGHORN).deletionPolicy('Retain').staticHandle('h1').handle('h1').forSnapshot('velero', 'placeholder').result();
    const stranger = forVolumeSnapshotContent('stranger').driver(LONGHORN).deletionPolicy('Retain').staticHandle('h9').handle('h9').result();
    const result = plan(candidate({ storedContents: [original] }), [cluster('alpha', { contents: [original] }), cluster('beta', { contents: [copy, stranger] })]);
    expect(result.steps.filter((s) => s.includes('beta'))).toEqual([
      'setDeletionPolicyDelete beta VolumeSnapshotContent/synced-c1',
      'claimContent beta VolumeSnapshot/velero/placeholder',
      'deleteVolumeSnapshot beta VolumeSnapshot/velero/placeholder',
      'waitUntilContentGone beta VolumeSnapshotContent/synced-c1',
    ]);
    expect(result.steps.join('\n')).not.toMatch(/stranger/);
  });

  it.each([
    { case: 'in the same cluster', claimCluster: 'alpha' },
    { case: 'in another cluster, through a content of its own with the same handle', claimCluster: 'beta' },
  ])('keeps a snapshot a live PVC was made from ($case), frees the rest, and keeps the data', ({ claimCluster }) => {
    const busy = stored('c1', 'h-busy', ONTAP);
    const free = stored('c2', 'h-free', ONTAP);
    const restoredContent = forVolumeSnapshotContent('restore-c1').driver(ONTAP).deletionPolicy('Retain').staticHandle('h-busy').handle('h-busy').forSnapshot('shop', 'restore-vs').result();
    const restoredVs = forVolumeSnapshot('shop', 'restore-vs').boundTo('restore-c1').ready().result();
    const claim = forPersistentVolumeClaim('shop', 'data').fromSnapshot('restore-vs').result() as ClaimObject;
    const alpha = cluster('alpha', { contents: [busy, free] });
    const beta = cluster('beta');
    const where = claimCluster === 'alpha' ? alpha : beta;
    where.contents.push(restoredContent);
    where.snapshots.push(restoredVs);
    where.claims.push(claim);
    const result = plan(candidate({ storedContents: [busy, free] }), [alpha, beta]);
    expect(result.waitingOn).toEqual([
      expect.stringMatching(new RegExp(`snapshot h-busy \\(VolumeSnapshotContent c1 in cluster alpha\\) is the source of cluster ${claimCluster}: PVC shop/data; it is kept`)),
      expect.stringMatching(/snapshot h-busy \(VolumeSnapshotContent restore-c1 .*is the source of/),
    ]);
    expect(result.steps.join('\n')).not.toMatch(/c1\b.*|restore-/);
    expect(result.steps).toContain(`deleteVolumeSnapshot alpha VolumeSnapshot/default/${temporaryContentName('b1', 'h-free')}`);
    expect(result.steps.some((s) => s.startsWith('deleteBackupData') || s.startsWith('deleteDeletionMarker'))).toBe(false);
    expect(result.steps[0]).toBe('writeDeletionMarker metadata/skiff/deleting/b1.json');
  });

  it('waits while a volume of the same driver is being deleted (its claim, gone, may have been made from the snapshot)', () => {
    const c = stored('c1', 'h1', ONTAP);
    const result = plan(candidate({ storedContents: [c] }), [
      cluster('alpha', { contents: [c] }),
      cluster('beta', { volumes: [forPersistentVolume('pvc-1').csi(ONTAP, 'vol-1').released('Delete').result() as VolumeObject] }),
    ]);
    expect(result.waitingOn).toEqual([expect.stringMatching(/waits until the volumes of driver csi.trident.netapp.io being deleted are gone \(cluster beta: PV pvc-1\)/)]);
    expect(result.steps).toEqual(['writeDeletionMarker metadata/skiff/deleting/b1.json']);
  });

  it('does not wait for a volume kept by pv-protection while its claim lives (the claim is not made from the snapshot)', () => {
    const c = stored('c1', 'h1', ONTAP);
    const pv = forPersistentVolume('pvc-3').csi(ONTAP, 'vol-3').claimRef('shop', 'data').result() as VolumeObject;
    pv.metadata.deletionTimestamp = '2026-11-30T00:00:00Z';
    const claim = forPersistentVolumeClaim('shop', 'data').volumeName('pvc-3').result() as ClaimObject;
    const result = plan(candidate({ storedContents: [c] }), [cluster('alpha', { contents: [c], volumes: [pv], claims: [claim] })]);
    expect(result.waitingOn).toEqual([]);
  });

  it('does not wait for a released volume of another driver, or one whose reclaim policy keeps it', () => {
    const c = stored('c1', 'h1', ONTAP);
    const result = plan(candidate({ storedContents: [c] }), [
      cluster('alpha', { contents: [c], volumes: [forPersistentVolume('pvc-2').csi(ONTAP, 'vol-2').released('Retain').result() as VolumeObject] }),
      cluster('beta', { volumes: [forPersistentVolume('pvc-1').csi(LONGHORN, 'vol-1').released('Delete').result() as VolumeObject] }),
    ]);
    expect(result.waitingOn).toEqual([]);
  });

  it('frees a stored snapshot with no content anywhere through a temporary content, in the backup\'s cluster when it has the driver', () => {
    const result = plan(candidate({ storedContents: [stored('c1', 'h1')], cluster: 'beta' }), [cluster('alpha'), cluster('beta')]);
    const temp = temporaryContentName('b1', 'h1');
    expect(result.steps.filter((s) => s.includes(temp))).toEqual([
      `createTemporaryContent beta VolumeSnapshotContent/${temp}`,
      `claimContent beta VolumeSnapshot/default/${temp}`,
      `deleteVolumeSnapshot beta VolumeSnapshot/default/${temp}`,
      `waitUntilContentGone beta VolumeSnapshotContent/${temp}`,
    ]);
    expect(result.actions.find((a) => a.kind === 'createTemporaryContent')).toMatchObject({ driver: LONGHORN, handle: 'h1' });
  });

  it.each([
    { case: 'the backup\'s cluster lacks the driver: another one that has it', drivers: { alpha: [LONGHORN], beta: [ONTAP] }, expected: 'alpha' },
    { case: 'no cluster has the driver: it waits and says how to go on', drivers: { alpha: [ONTAP], beta: [ONTAP] }, expected: undefined },
  ])('temporary content: $case', ({ drivers, expected }) => {
    const result = plan(candidate({ storedContents: [stored('c1', 'h1')], cluster: 'beta' }), [
      cluster('alpha', { drivers: drivers.alpha }),
      cluster('beta', { drivers: drivers.beta }),
    ]);
    const create = result.actions.find((a) => a.kind === 'createTemporaryContent');
    expect(create?.cluster).toBe(expected);
    if (!expected) {
      expect(result.waitingOn).toEqual([expect.stringMatching(/no configured cluster has its CSI driver driver.longhorn.io/)]);
      expect(result.steps.some((s) => s.startsWith('deleteBackupData'))).toBe(false);
    }
  });

  it.each([
    { case: 'a backup with stored snapshots', storedContents: [stored('c1', 'h1')], cluster: 'alpha', blocked: true },
    { case: 'a backup taken of the unreachable cluster', storedContents: [], cluster: 'beta', blocked: true },
    { case: 'a backup without snapshots, taken of a reachable cluster', storedContents: [], cluster: 'alpha', blocked: false },
  ])('an unreachable cluster blocks $case', ({ storedContents, cluster: of, blocked }) => {
    const result = plan(candidate({ storedContents, cluster: of }), [cluster('alpha'), { cluster: 'beta', unreachable: 'connect ECONNREFUSED' }]);
    expect(result.blocked).toBe(blocked);
    if (blocked) {
      expect(result.actions).toEqual([]);
      expect(result.waitingOn).toEqual([expect.stringMatching(/cluster beta could not be read \(connect ECONNREFUSED\)/)]);
    }
  });

  it('touches nothing of a backup whose stored objects could not be read', () => {
    const result = plan(candidate({ unreadable: 'GetObject failed' }), [cluster('alpha', { contents: [stored('c1', 'h1')] })]);
    expect(result).toMatchObject({ blocked: true, actions: [] });
  });

  it('waits for a static content its driver has not confirmed yet (deleted now, the driver would not be asked)', () => {
    const c = forVolumeSnapshotContent('c1').driver(LONGHORN).deletionPolicy('Delete').staticHandle('h1').labels({ [BACKUP_NAME_LABEL]: 'b1' }).result();
    const result = plan(candidate({ storedContents: [] }), [cluster('alpha', { contents: [c] })]);
    expect(result.waitingOn).toEqual([expect.stringMatching(/not confirmed by its driver yet/)]);
  });

  it('a marked backup whose objects are gone only loses its marker', () => {
    const result = plan(candidate({ marked: true, hasData: false, inCatalog: false }), [cluster('alpha')]);
    expect(result.steps).toEqual(['deleteDeletionMarker metadata/skiff/deleting/b1.json']);
  });
});
