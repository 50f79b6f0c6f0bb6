import { describe, expect, it } from 'vitest';
import { checkHandle, LONGHORN_DRIVER, longhornBackupRecord, type StorageBackupRecord } from '../../../lib/csi/handles';

const records = new Map<string, StorageBackupRecord>([['backup-1', { backupName: 'backup-1', backupVolume: 'pvc-0a1b' }]]);

describe('Function: checkHandle', () => {
  it.each([
    ['a Longhorn handle in the driver format', LONGHORN_DRIVER, 'bak://pvc-0a1b/backup-1', records, 'valid', undefined],
    ['the legacy bs type with the right backup volume', LONGHORN_DRIVER, 'bs://pvc-0a1b/backup-1', records, 'valid', undefined],
    ['bs://<pvcName>/<backup>, repaired from the records', LONGHORN_DRIVER, 'bs://data/backup-1', records, 'wrong', 'bak://pvc-0a1b/backup-1'],
    ['bak:// naming another volume, repaired', LONGHORN_DRIVER, 'bak://data/backup-1', records, 'wrong', 'bak://pvc-0a1b/backup-1'],
    ['bs:// that no record confirms', LONGHORN_DRIVER, 'bs://data/backup-9', records, 'wrong', undefined],
    ['bak:// without records: shape only', LONGHORN_DRIVER, 'bak://pvc-0a1b/backup-1', undefined, 'valid', undefined],
    ['a Longhorn handle of another shape', LONGHORN_DRIVER, 'snap-123', records, 'malformed', undefined],
    ['a Longhorn handle with extra segments', LONGHORN_DRIVER, 'bak://a/b/c', records, 'malformed', undefined],
    ['a driver without a known format', 'ebs.csi.aws.com', 'snap-0123', records, 'unchecked', undefined],
  ])('%s', (_, driver, handle, known, kind, repair) => {
    const verdict = checkHandle(driver, handle, known);
    expect(verdict.kind).toBe(kind);
    expect(verdict.kind === 'wrong' ? verdict.repair : undefined).toBe(repair);
  });
});

describe('Function: longhornBackupRecord', () => {
  it.each([
    ['status.volumeName', { metadata: { name: 'b' }, status: { volumeName: 'v' } }, { backupName: 'b', backupVolume: 'v' }],
    ['the backup-volume label', { metadata: { name: 'b', labels: { 'backup-volume': 'v' } } }, { backupName: 'b', backupVolume: 'v' }],
    ['nothing to go by', { metadata: { name: 'b' } }, undefined],
  ])('reads the backup volume from %s', (_, object, record) => {
    expect(longhornBackupRecord(object)).toEqual(record);
  });
});
