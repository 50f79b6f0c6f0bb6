import { describe, expect, it } from 'vitest';
import { deletionSecretOf, pvcBackupAdditions, volumeSnapshotAnnotations, volumeSnapshotBackupItem, volumeSnapshotContentBackupItem } from '../../../lib/csi/backup-items';
import { deleteContentPatch, discardContentPatch, originalDeletionPolicy, retainContentPatch } from '../../../lib/csi/deletion-policy';
import { backupLabelSelector } from '../../../lib/velero/labels';
import { volumeSnapshotFor, volumeSnapshotLabels } from '../../../lib/csi/builders';
import { ORIGINAL_DELETION_POLICY_ANNOTATION } from '../../../lib/velero/labels';
import { validLabelValue } from '../../../lib/velero/names';
import { forVolumeSnapshot, forVolumeSnapshotContent } from '../../builders';

const LONG_NAME = `nightly-${'x'.repeat(70)}`;

describe('Module: backup/csi-objects', () => {
  it.each([
    ['no PVC labels', undefined, 'b1', { 'velero.io/backup-name': 'b1' }],
    ['the PVC labels', { app: 'db', tier: 'data' }, 'b1', { app: 'db', tier: 'data', 'velero.io/backup-name': 'b1' }],
    ['a PVC label of the backup key, replaced', { 'velero.io/backup-name': 'other' }, 'b1', { 'velero.io/backup-name': 'b1' }],
    ['a long backup name, shortened as Velero does', undefined, LONG_NAME, { 'velero.io/backup-name': validLabelValue(LONG_NAME) }],
  ])('labels a VolumeSnapshot with %s', (_, pvcLabels, backupName, expected) => {
    expect(volumeSnapshotLabels(pvcLabels, backupName)).toEqual(expected);
  });

  it('creates the VolumeSnapshot Velero creates for a PVC', () => {
    expect(volumeSnapshotFor({ namespace: 'app', name: 'data', labels: { app: 'db' } }, 'longhorn', 'b1')).toEqual({
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshot',
      metadata: { generateName: 'velero-data-', namespace: 'app', labels: { app: 'db', 'velero.io/backup-name': 'b1' } },
      spec: { source: { persistentVolumeClaimName: 'data' }, volumeSnapshotClassName: 'longhorn' },
    });
  });

  it('selects a backup by its shortened name', () => {
    expect(backupLabelSelector(LONG_NAME)).toBe(`velero.io/backup-name=${validLabelValue(LONG_NAME)}`);
  });

  it.each(['Delete', 'Retain'] as const)('retains the content of a %s class, recording that policy', (policy) => {
    expect(retainContentPatch(policy, 'b1')).toEqual({
      metadata: { labels: { 'velero.io/backup-name': 'b1' }, annotations: { [ORIGINAL_DELETION_POLICY_ANNOTATION]: policy } },
      spec: { deletionPolicy: 'Retain' },
    });
  });

  it('hands a content back to the driver for deletion', () => {
    expect(deleteContentPatch()).toEqual({ spec: { deletionPolicy: 'Delete' } });
  });

  it.each([
    ['its backup label when the VolumeSnapshot has one', 'b1', { metadata: { labels: { 'velero.io/backup-name': 'b1' } }, spec: { deletionPolicy: 'Delete' } }],
    ['no label when it has none', undefined, { spec: { deletionPolicy: 'Delete' } }],
  ])('lets a failed snapshot\'s content go with %s', (_, label, expected) => {
    expect(discardContentPatch(label)).toEqual(expected);
  });

  it.each([
    ['recorded Delete', forVolumeSnapshotContent('c').deletionPolicy('Retain').annotations({ [ORIGINAL_DELETION_POLICY_ANNOTATION]: 'Delete' }), 'Delete'],
    ['nothing recorded', forVolumeSnapshotContent('c').deletionPolicy('Retain'), 'Retain'],
    ['a recorded value that is no policy', forVolumeSnapshotContent('c').deletionPolicy('Delete').annotations({ [ORIGINAL_DELETION_POLICY_ANNOTATION]: 'x' }), 'Delete'],
  ])('reads the original deletion policy with %s', (_, builder, expected) => {
    expect(originalDeletionPolicy(builder.result())).toBe(expected);
  });

  it.each([
    [
      'a cut snapshot',
      forVolumeSnapshotContent('c').driver('driver.longhorn.io').deletionPolicy('Retain').handle('bak://pvc-1/backup-1', 2147483648).ready(),
      {
        'velero.io/csi-vsc-deletion-policy': 'Retain',
        'velero.io/csi-volumesnapshot-handle': 'bak://pvc-1/backup-1',
        'velero.io/csi-driver-name': 'driver.longhorn.io',
        'velero.io/csi-volumesnapshot-restore-size': '2Gi',
      },
    ],
    ['a content without status', forVolumeSnapshotContent('c').deletionPolicy('Delete'), { 'velero.io/csi-vsc-deletion-policy': 'Delete' }],
  ])('annotates the VolumeSnapshot of %s as Velero does', (_, builder, expected) => {
    expect(volumeSnapshotAnnotations(builder.result())).toEqual(expected);
  });

  it('writes a VolumeSnapshot into the backup without its class, marked to bring its content along', () => {
    const snapshot = forVolumeSnapshot('app', 'velero-data-x').source('data').snapshotClass('longhorn').annotations({ a: 'b' }).result();
    const item = volumeSnapshotBackupItem(snapshot);
    expect(item.spec).toEqual({ source: { persistentVolumeClaimName: 'data' } });
    expect(item.metadata.annotations).toEqual({ a: 'b', 'backup.velero.io/must-include-additional-items': 'true' });
    expect(snapshot.spec.volumeSnapshotClassName).toBe('longhorn');
  });

  it.each([
    ['without a deletion Secret, unchanged', {}, undefined, undefined],
    [
      'with a deletion Secret, marked to bring it along',
      {
        'snapshot.storage.kubernetes.io/deletion-secret-name': 'creds',
        'snapshot.storage.kubernetes.io/deletion-secret-namespace': 'storage',
      },
      { namespace: 'storage', name: 'creds' },
      'true',
    ],
  ])('writes a content into the backup %s', (_, annotations, secret, mustInclude) => {
    const content = forVolumeSnapshotContent('c').annotations(annotations).result();
    expect(deletionSecretOf(content)).toEqual(secret);
    expect(volumeSnapshotContentBackupItem(content).metadata.annotations?.['backup.velero.io/must-include-additional-items']).toBe(mustInclude);
  });

  it('marks a PVC in the backup with its VolumeSnapshot', () => {
    expect(pvcBackupAdditions('velero-data-x', 'b1')).toEqual({
      labels: { 'velero.io/volume-snapshot-name': 'velero-data-x', 'velero.io/backup-name': 'b1' },
      annotations: { 'velero.io/volume-snapshot-name': 'velero-data-x', 'backup.velero.io/must-include-additional-items': 'true' },
    });
  });
});
