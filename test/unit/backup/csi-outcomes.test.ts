import { describe, expect, it } from 'vitest';
import { ORIGINAL_DELETION_POLICY_ANNOTATION } from '../../../lib/velero/labels';
import {
  completedOutcome,
  countCsiSnapshots,
  csiBackupObjects,
  csiSnapshotResults,
  csiVolumeInfos,
  skippedOutcome,
  unsnapshottableOutcome,
  type CompletedSnapshot,
  type CsiSnapshotOutcome,
  type FailedSnapshot,
  type SkippedSnapshot,
} from '../../../lib/backup/csi-outcomes';
import type { VolumeSnapshotClass } from '../../../lib/csi/snapshot-api';
import { forPersistentVolume, forVolumeSnapshot, forVolumeSnapshotClass, forVolumeSnapshotContent } from '../../builders';

const longhorn = forVolumeSnapshotClass('longhorn').driver('driver.longhorn.io').result() as VolumeSnapshotClass;

function completed(namespace: string, name: string, snapshotClass = longhorn): CompletedSnapshot {
  const content = forVolumeSnapshotContent(`snapcontent-${name}`)
    .driver('driver.longhorn.io')
    .deletionPolicy('Retain')
    .annotations({ [ORIGINAL_DELETION_POLICY_ANNOTATION]: 'Delete' })
    .handle('bak://pvc-1/backup-1')
    .ready()
    .result();
  return completedOutcome({
    plan: {
      kind: 'snapshot',
      pvc: { namespace, name },
      pv: forPersistentVolume(`pv-${name}`).csi('driver.longhorn.io', `pv-${name}`).labels({ zone: 'a' }).result(),
      driver: 'driver.longhorn.io',
      snapshotClass,
      notes: [],
    },
    volumeSnapshot: forVolumeSnapshot(namespace, `velero-${name}-x`).boundTo(content.metadata.name).ready().result(),
    content,
    backupName: 'b1',
    notes: [],
    startedAt: new Date(0),
    completedAt: new Date(3000),
  });
}

function skipped(namespace: string, name: string, warning?: string): SkippedSnapshot {
  return skippedOutcome({ kind: 'skip', pvc: { namespace, name }, reason: warning ? 'not-csi' : 'snapshots-disabled', warning, notes: [] });
}

function failed(namespace: string, name: string, created: boolean): FailedSnapshot {
  return {
    kind: 'failed',
    pvc: { namespace, name },
    reason: created ? 'timed-out' : 'error',
    message: `${name} failed`,
    ...(created ? { volumeSnapshot: { namespace, name: `velero-${name}-x` } } : {}),
    notes: [],
  };
}

describe('Module: backup/csi-outcomes', () => {
  it('describes a kept snapshot: original policy, what the PVC gets, its volume information', () => {
    const outcome = completed('app', 'data');
    expect(outcome).toMatchObject({
      pvName: 'pv-data',
      snapshotHandle: 'bak://pvc-1/backup-1',
      restoreSizeBytes: 1073741824,
      originalDeletionPolicy: 'Delete',
      pvcAdditions: { annotations: { 'velero.io/volume-snapshot-name': 'velero-data-x' } },
    });
    expect(outcome.volumeInfo).toEqual({
      pvcName: 'data',
      pvcNamespace: 'app',
      pvName: 'pv-data',
      backupMethod: 'CSISnapshot',
      snapshotDataMoved: false,
      preserveLocalSnapshot: true,
      skipped: false,
      startTimestamp: '2024-05-01T10:00:00Z',
      completionTimestamp: '1970-01-01T00:00:03Z',
      result: 'succeeded',
      csiSnapshotInfo: {
        snapshotHandle: 'bak://pvc-1/backup-1',
        size: 1073741824,
        driver: 'driver.longhorn.io',
        vscName: 'snapcontent-data',
        ReadyToUse: true,
      },
      pvInfo: { reclaimPolicy: '', labels: { zone: 'a' } },
    });
  });

  it('turns skips into warnings and failures into errors, each in its namespace', () => {
    const outcomes: CsiSnapshotOutcome[] = [
      completed('a', 'ok'),
      { ...skipped('a', 'host', 'PVC a/host is not bound to a CSI volume'), notes: ['annotation ignored'] },
      skipped('b', 'quiet'),
      failed('b', 'slow', true),
    ];
    expect(csiSnapshotResults(outcomes)).toEqual({
      warnings: { velero: [], cluster: [], namespaces: { a: ['annotation ignored', 'PVC a/host is not bound to a CSI volume'] } },
      errors: { velero: [], cluster: [], namespaces: { b: ['slow failed'] } },
    });
  });

  it.each([
    ['nothing', [], { attempted: 0, completed: 0 }],
    ['completed ones', [completed('a', 'x'), completed('a', 'y')], { attempted: 2, completed: 2 }],
    ['a failure after its VolumeSnapshot was created', [failed('a', 'x', true)], { attempted: 1, completed: 0 }],
    ['a failure to create the VolumeSnapshot', [failed('a', 'x', false)], { attempted: 0, completed: 0 }],
    ['skips', [skipped('a', 'x', 'w')], { attempted: 0, completed: 0 }],
  ])('counts %s', (_, outcomes, counts) => {
    expect(countCsiSnapshots(outcomes as CsiSnapshotOutcome[])).toEqual(counts);
  });

  it('gathers the objects of completed snapshots, each class once', () => {
    const ontap = forVolumeSnapshotClass('ontap').driver('csi.trident.netapp.io').result() as VolumeSnapshotClass;
    const objects = csiBackupObjects([completed('a', 'x'), failed('a', 'f', true), completed('b', 'y'), completed('b', 'z', ontap)]);
    expect(objects.volumeSnapshots.map((vs) => vs.metadata.name)).toEqual(['velero-x-x', 'velero-y-x', 'velero-z-x']);
    expect(objects.volumeSnapshotContents.map((c) => c.metadata.name)).toEqual(['snapcontent-x', 'snapcontent-y', 'snapcontent-z']);
    expect(objects.volumeSnapshotClasses.map((c) => c.metadata.name)).toEqual(['longhorn', 'ontap']);
  });

  it('accounts for every PVC in the volume information: snapshotted, skipped with or without a PV, failed', () => {
    const pv = forPersistentVolume('pv-1').hostPath('/d').labels({ zone: 'a' }).result();
    const withPv = skippedOutcome({ kind: 'skip', pvc: { namespace: 'a', name: 'x' }, pv, reason: 'not-csi', warning: 'not CSI', notes: [] });
    const disabled = skippedOutcome({ kind: 'skip', pvc: { namespace: 'a', name: 'y' }, pv, reason: 'snapshots-disabled', notes: [] });
    const withoutPv = skippedOutcome({ kind: 'skip', pvc: { namespace: 'a', name: 'z' }, reason: 'not-bound', warning: 'not bound', notes: [] });
    const failedOne: FailedSnapshot = {
      ...failed('a', 'f', true),
      pv: forPersistentVolume('pv-f').csi('driver.longhorn.io', 'pv-f').result(),
    };
    expect(withPv.volumeInfo).toEqual({
      pvcName: 'x',
      pvcNamespace: 'a',
      pvName: 'pv-1',
      snapshotDataMoved: false,
      preserveLocalSnapshot: false,
      skipped: true,
      skippedReason: 'not CSI',
      pvInfo: { reclaimPolicy: '', labels: { zone: 'a' } },
    });
    expect(disabled.volumeInfo.skippedReason).toBe('the backup has snapshotVolumes set to false');
    expect(withoutPv.volumeInfo).toEqual({
      pvcName: 'z',
      pvcNamespace: 'a',
      snapshotDataMoved: false,
      preserveLocalSnapshot: false,
      skipped: true,
      skippedReason: 'not bound',
    });
    const infos = csiVolumeInfos([withPv, withoutPv, completed('a', 'c'), failedOne]);
    expect(infos.map((v) => [v.pvcName, v.skipped, v.result])).toEqual([
      ['x', true, undefined],
      ['z', true, undefined],
      ['c', false, 'succeeded'],
      ['f', true, 'failed'],
    ]);
    expect(infos[3]).toMatchObject({ pvName: 'pv-f', skippedReason: 'f failed' });
    expect(infos[3]).not.toHaveProperty('backupMethod');
  });

  it('makes a bound CSI PVC without a usable class an error of its namespace, and a failed volume in the volume information', () => {
    const outcome = unsnapshottableOutcome({
      kind: 'skip',
      pvc: { namespace: 'app', name: 'db' },
      pv: forPersistentVolume('pv-db').csi('csi.trident.netapp.io', 'vol').result(),
      reason: 'ambiguous',
      warning: 'PVC app/db: 2 VolumeSnapshotClasses have driver "csi.trident.netapp.io" (a, b) and none is chosen',
      notes: [],
    });
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'not-snapshottable' });
    const results = csiSnapshotResults([outcome]);
    expect(results.errors.namespaces).toEqual({
      app: [
        'could not snapshot PVC app/db: 2 VolumeSnapshotClasses have driver "csi.trident.netapp.io" (a, b) and none is chosen; ' +
          "the volume's data is not in the backup",
      ],
    });
    expect(results.warnings.namespaces).toEqual({});
    expect(countCsiSnapshots([outcome])).toEqual({ attempted: 0, completed: 0 });
    expect(csiVolumeInfos([outcome])).toEqual([
      expect.objectContaining({ pvcNamespace: 'app', pvcName: 'db', pvName: 'pv-db', skipped: true, result: 'failed', skippedReason: expect.stringContaining('none is chosen') }),
    ]);
  });
});
