import { describe, expect, it } from 'vitest';
import { selectSnapshotClass, snapshotClassForDriver, type SelectSnapshotClassInput } from '../../../lib/csi/snapshot-class';
import {
  forPersistentVolume,
  forPersistentVolumeClaim,
  forStorageClass,
  forVolumeSnapshotClass,
  type VolumeSnapshotClass,
} from '../../builders';

const EBS = 'ebs.csi.aws.com';
const HOSTPATH = 'hostpath.csi.k8s.io';

const pv = forPersistentVolume('pv-1').csi(EBS, 'vol-1').claimRef('app', 'data').result();
const pvc = () => forPersistentVolumeClaim('app', 'data').storageClass('gp3').volumeName('pv-1');
const vsc = (name: string, driver = EBS) => forVolumeSnapshotClass(name).driver(driver);

function choose(input: Partial<SelectSnapshotClassInput> & { classes: VolumeSnapshotClass[] }) {
  return selectSnapshotClass({ pvc: pvc().result(), pvDriver: pv.spec.csi?.driver, ...input });
}

describe('Module: csi/snapshot-class', () => {
  it.each([
    [
      'the PVC annotation first',
      { pvc: pvc().annotations({ 'velero.io/csi-volumesnapshot-class': 'by-pvc' }).result(), backupAnnotations: { [`velero.io/csi-volumesnapshot-class_${EBS}`]: 'by-backup' } },
      [vsc('labelled').veleroSelected().result(), vsc('by-pvc').result(), vsc('by-backup').result()],
      'by-pvc',
      'pvc-annotation',
    ],
    [
      'the PVC annotation, names compared without case',
      { pvc: pvc().annotations({ 'velero.io/csi-volumesnapshot-class': 'By-PVC' }).result() },
      [vsc('by-pvc').result(), vsc('other').result()],
      'by-pvc',
      'pvc-annotation',
    ],
    [
      'then the StorageClass annotation',
      { storageClass: forStorageClass('gp3', EBS).annotations({ 'velero.io/csi-volumesnapshot-class': 'by-sc' }).result(), backupAnnotations: { [`velero.io/csi-volumesnapshot-class_${EBS}`]: 'by-backup' } },
      [vsc('by-sc').result(), vsc('by-backup').result()],
      'by-sc',
      'storage-class-annotation',
    ],
    [
      'then the backup annotation for the driver',
      { backupAnnotations: { [`velero.io/csi-volumesnapshot-class_${EBS}`]: 'by-backup', [`velero.io/csi-volumesnapshot-class_${HOSTPATH}`]: 'other' } },
      [vsc('labelled').veleroSelected().result(), vsc('by-backup').result()],
      'by-backup',
      'backup-annotation',
    ],
    [
      'the backup annotation uses the lower-cased driver name',
      { pvDriver: 'Disk.CSI.Example.com', backupAnnotations: { 'velero.io/csi-volumesnapshot-class_disk.csi.example.com': 'by-backup' } },
      [vsc('by-backup', 'disk.csi.example.com').result()],
      'by-backup',
      'backup-annotation',
    ],
    [
      'then the class of the driver labelled velero.io/csi-volumesnapshot-class',
      {},
      [vsc('default').defaultClass().result(), vsc('labelled').veleroSelected().result(), vsc('hostpath', HOSTPATH).veleroSelected().result()],
      'labelled',
      'label',
    ],
    [
      'then the class of the driver marked default',
      {},
      [vsc('a').result(), vsc('default').defaultClass().result(), vsc('hostpath-default', HOSTPATH).defaultClass().result()],
      'default',
      'default-annotation',
    ],
    [
      'then the only class of the driver',
      {},
      [vsc('only').result(), vsc('hostpath', HOSTPATH).veleroSelected().result()],
      'only',
      'only-class-of-driver',
    ],
  ])('chooses %s', (_name, input, classes, expected, source) => {
    const choice = choose({ ...input, classes });
    expect(choice).toMatchObject({ kind: 'class', source, snapshotClass: { metadata: { name: expected } } });
  });

  it.each([
    ['names a class that does not exist', 'missing', 'does not exist; ignored'],
    ['names a class of another driver', 'hostpath', 'of driver "hostpath.csi.k8s.io", not "ebs.csi.aws.com"; ignored'],
  ])('passes over a PVC annotation that %s, saying why', (_name, className, note) => {
    const choice = choose({
      pvc: pvc().annotations({ 'velero.io/csi-volumesnapshot-class': className }).result(),
      classes: [vsc('hostpath', HOSTPATH).result(), vsc('only').result()],
    });
    expect(choice).toMatchObject({ kind: 'class', source: 'only-class-of-driver', snapshotClass: { metadata: { name: 'only' } } });
    expect(choice.notes).toEqual([expect.stringContaining(note)]);
  });

  it('uses the first of several labelled classes, as Velero does, and says so', () => {
    const choice = choose({ classes: [vsc('first').veleroSelected().result(), vsc('second').veleroSelected().result()] });
    expect(choice).toMatchObject({ kind: 'class', snapshotClass: { metadata: { name: 'first' } } });
    expect(choice.notes[0]).toContain('several classes of driver "ebs.csi.aws.com" are labelled');
  });

  it('does not take is-default-class: "false" for a default', () => {
    const choice = choose({ classes: [vsc('not-default').defaultClass('false').result(), vsc('other').result()] });
    expect(choice).toMatchObject({ kind: 'skip', reason: 'ambiguous' });
  });

  it.each([
    [
      'a PVC whose PV is not a CSI volume',
      undefined,
      [vsc('only').result()],
      'not-csi',
      'is not bound to a CSI volume',
    ],
    [
      'a driver without any class',
      'nfs.csi.k8s.io',
      [vsc('ebs').result()],
      'no-class-for-driver',
      'no VolumeSnapshotClass has driver "nfs.csi.k8s.io"',
    ],
    [
      'a driver with several classes and none chosen',
      EBS,
      [vsc('fast').result(), vsc('slow').result()],
      'ambiguous',
      '2 VolumeSnapshotClasses have driver "ebs.csi.aws.com" (fast, slow) and none is chosen; label one of them',
    ],
  ])('skips %s with a warning', (_name, pvDriver, classes, reason, warning) => {
    const choice = choose({ pvDriver, classes });
    expect(choice).toMatchObject({ kind: 'skip', reason, warning: expect.stringContaining(warning) });
    expect(choice.kind === 'skip' && choice.warning).toContain('PVC');
  });

  it('compares drivers exactly after the annotations, as Velero does', () => {
    const choice = choose({ pvDriver: 'EBS.csi.aws.com', classes: [vsc('only').result()] });
    expect(choice).toMatchObject({ kind: 'skip', reason: 'no-class-for-driver' });
  });
});

describe('Function: snapshotClassForDriver', () => {
  it.each([
    ['the labelled class first', [vsc('plain').result(), vsc('def').defaultClass().result(), vsc('lab').veleroSelected().result()], 'lab', 'label'],
    ['the default class next', [vsc('plain').result(), vsc('def').defaultClass().result()], 'def', 'default-annotation'],
    ['the only class of the driver', [vsc('only').result(), vsc('other', HOSTPATH).result()], 'only', 'only-class-of-driver'],
    ['none when several and none chosen', [vsc('a').result(), vsc('b').result()], undefined, undefined],
    ['none when no class has the driver', [vsc('other', HOSTPATH).result()], undefined, undefined],
  ])('%s', (_, classes, name, source) => {
    const choice = snapshotClassForDriver(EBS, classes);
    expect(choice.snapshotClass?.metadata.name).toBe(name);
    expect(choice.source).toBe(source);
  });
});
