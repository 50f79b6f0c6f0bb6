import { describe, expect, it } from 'vitest';
import { leavesDataUnprotected, planCsiSnapshots, type PersistentVolumeClaimLike, type SnapshotSkipReason } from '../../../lib/csi/plan';
import type { VolumeSnapshotClass } from '../../../lib/csi/snapshot-api';
import { parseResourcePolicies } from '../../../lib/velero/resource-policies';
import {
  forPersistentVolume,
  forPersistentVolumeClaim,
  forStorageClass,
  forVolumeSnapshotClass,
} from '../../builders';

const LONGHORN = 'driver.longhorn.io';
const ONTAP = 'csi.trident.netapp.io';
const EBS = 'ebs.csi.aws.com';

const PVS = [
  forPersistentVolume('pv-longhorn').csi(LONGHORN, 'vol-1').result(),
  forPersistentVolume('pv-ontap').csi(ONTAP, 'vol-2').result(),
  forPersistentVolume('pv-ebs').csi(EBS, 'vol-3').result(),
  forPersistentVolume('pv-host').hostPath('/data').result(),
];

const CLASSES = [
  forVolumeSnapshotClass('longhorn-only').driver(LONGHORN).deletionPolicy('Delete').result(),
  forVolumeSnapshotClass('ontap-retain').driver(ONTAP).result(),
  forVolumeSnapshotClass('ontap-delete').driver(ONTAP).deletionPolicy('Delete').result(),
] as VolumeSnapshotClass[];

const bound = (name: string, pv: string) => forPersistentVolumeClaim('app', name).storageClass('sc').volumeName(pv);

function planOne(pvc: PersistentVolumeClaimLike, backup: { annotations?: Record<string, string>; snapshotVolumes?: boolean } = {}) {
  const [plan] = planCsiSnapshots({
    pvcs: [pvc],
    persistentVolumes: PVS,
    storageClasses: [forStorageClass('sc', LONGHORN).result()],
    snapshotClasses: CLASSES,
    backup,
  });
  return plan!;
}

describe('Module: backup/csi-plan', () => {
  it.each([
    ['the only class of its driver', bound('data', 'pv-longhorn').result(), {}, 'longhorn-only'],
    [
      'the class a PVC annotation names',
      bound('data', 'pv-ontap').annotations({ 'velero.io/csi-volumesnapshot-class': 'ontap-delete' }).result(),
      {},
      'ontap-delete',
    ],
    [
      'the class a backup annotation names for the driver',
      bound('data', 'pv-ontap').result(),
      { annotations: { 'velero.io/csi-volumesnapshot-class_csi.trident.netapp.io': 'ontap-retain' } },
      'ontap-retain',
    ],
  ])('snapshots a bound CSI PVC with %s', (_, pvc, backup, className) => {
    const plan = planOne(pvc, backup);
    expect(plan).toMatchObject({ kind: 'snapshot', pvc: { namespace: 'app', name: 'data' }, snapshotClass: { metadata: { name: className } } });
  });

  it.each([
    ['not bound', forPersistentVolumeClaim('app', 'data').result(), {}, 'not-bound', 'PVC app/data is not bound to a volume (phase unknown)'],
    ['bound to a PV that is gone', bound('data', 'pv-gone').result(), {}, 'pv-missing', 'PVC app/data is bound to PersistentVolume pv-gone, which does not exist'],
    ['on a volume that is not CSI', bound('data', 'pv-host').result(), {}, 'not-csi', 'PVC app/data is not bound to a CSI volume'],
    ['of a driver without a class', bound('data', 'pv-ebs').result(), {}, 'no-class-for-driver', 'no VolumeSnapshotClass has driver "ebs.csi.aws.com"'],
    ['of a driver with two classes and no choice', bound('data', 'pv-ontap').result(), {}, 'ambiguous', '2 VolumeSnapshotClasses have driver'],
  ])('skips a PVC %s with a warning', (_, pvc, backup, reason, warning) => {
    const plan = planOne(pvc, backup);
    expect(plan).toMatchObject({ kind: 'skip', reason });
    expect(plan.kind === 'skip' && plan.warning).toContain(warning);
  });

  it.each<[SnapshotSkipReason, boolean]>([
    ['no-snapshot-api', true],
    ['no-class-for-driver', true],
    ['ambiguous', true],
    ['not-bound', false],
    ['pv-missing', false],
    ['not-csi', false],
    ['snapshots-disabled', false],
  ])('a PVC skipped for %s leaves bound CSI data unprotected (an error of the backup): %s', (reason, unprotected) => {
    expect(leavesDataUnprotected(reason)).toBe(unprotected);
  });

  it('skips every PVC without a warning when the backup has snapshotVolumes false', () => {
    const plan = planOne(bound('data', 'pv-longhorn').result(), { snapshotVolumes: false });
    expect(plan).toMatchObject({ kind: 'skip', reason: 'snapshots-disabled', pv: { metadata: { name: 'pv-longhorn' } } });
    expect(plan.kind === 'skip' && plan.warning).toBeUndefined();
  });

  it('skips CSI volumes with a warning saying what to install when the cluster has no snapshot API', () => {
    const [csi, host] = planCsiSnapshots({
      pvcs: [bound('data', 'pv-longhorn').result(), bound('cache', 'pv-host').result()],
      persistentVolumes: PVS,
      storageClasses: [],
      snapshotClasses: [],
      snapshotApiServed: false,
      backup: {},
    });
    expect(csi).toMatchObject({ kind: 'skip', reason: 'no-snapshot-api' });
    expect(csi?.kind === 'skip' && csi.warning).toContain('does not serve snapshot.storage.k8s.io/v1; install the external-snapshotter CRDs');
    expect(host).toMatchObject({ kind: 'skip', reason: 'not-csi' });
  });

  it('passes over an annotation naming a missing class and says so', () => {
    const plan = planOne(bound('data', 'pv-longhorn').annotations({ 'velero.io/csi-volumesnapshot-class': 'nope' }).result());
    expect(plan).toMatchObject({ kind: 'snapshot', snapshotClass: { metadata: { name: 'longhorn-only' } } });
    expect(plan.notes.join()).toContain('PVC app/data annotation velero.io/csi-volumesnapshot-class names VolumeSnapshotClass "nope"');
  });

  it('keeps the order of the PVCs and their labels', () => {
    const plans = planCsiSnapshots({
      pvcs: [bound('b', 'pv-host').result(), bound('a', 'pv-longhorn').labels({ app: 'db' }).result()],
      persistentVolumes: PVS,
      storageClasses: [],
      snapshotClasses: CLASSES,
      backup: {},
    });
    expect(plans.map((p) => [p.kind, p.pvc.name])).toEqual([
      ['skip', 'b'],
      ['snapshot', 'a'],
    ]);
    expect(plans[1]).toMatchObject({ labels: { app: 'db' }, driver: LONGHORN });
  });

  describe('with volume policies', () => {
    const policies = parseResourcePolicies({
      metadata: { namespace: 'velero', name: 'policies' },
      data: {
        'policy.yaml':
          'version: v1\nvolumePolicies:\n' +
          '  - conditions: { pvcLabels: { backup: skip } }\n    action: { type: skip }\n' +
          '  - conditions: { csi: { driver: driver.longhorn.io } }\n    action: { type: snapshot }\n' +
          '  - conditions: { csi: { driver: ebs.csi.aws.com } }\n    action: { type: fs-backup }\n',
      },
    });
    const plan = (pvc: PersistentVolumeClaimLike, snapshotVolumes?: boolean) =>
      planCsiSnapshots({
        pvcs: [pvc],
        persistentVolumes: PVS,
        storageClasses: [],
        snapshotClasses: CLASSES,
        backup: snapshotVolumes === undefined ? {} : { snapshotVolumes },
        volumePolicies: policies,
      })[0]!;

    it.each<[string, PersistentVolumeClaimLike, boolean | undefined, Record<string, unknown>]>([
      [
        'skips a volume a skip policy matches, saying which policy, without a warning',
        bound('data', 'pv-longhorn').labels({ backup: 'skip' }).result(),
        undefined,
        { kind: 'skip', reason: 'volume-policy', detail: 'skipped by volume policy 0 (action skip) of ConfigMap velero/policies' },
      ],
      [
        'snapshots a volume a snapshot policy matches even with snapshotVolumes false (Velero)',
        bound('data', 'pv-longhorn').result(),
        false,
        { kind: 'snapshot', snapshotClass: { metadata: { name: 'longhorn-only' } } },
      ],
      [
        'leaves a volume no policy matches to snapshotVolumes',
        bound('data', 'pv-ontap').annotations({ 'velero.io/csi-volumesnapshot-class': 'ontap-delete' }).result(),
        false,
        { kind: 'skip', reason: 'snapshots-disabled' },
      ],
      [
        'refuses fs-backup for a volume, an action Skiff cannot take',
        bound('data', 'pv-ebs').result(),
        undefined,
        { kind: 'skip', reason: 'volume-policy-unsupported', warning: expect.stringContaining("asks for fs-backup, but file-system backup needs Velero's node agent") },
      ],
    ])('%s', (_, pvc, snapshotVolumes, expected) => {
      expect(plan(pvc, snapshotVolumes)).toMatchObject(expected);
    });
  });
});
