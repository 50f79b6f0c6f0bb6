import { describe, expect, it } from 'vitest';
import { handleFindings } from '../../../lib/readiness/handles';
import type { StorageBackupRecord } from '../../../lib/csi/handles';
import { forVolumeSnapshotContent } from '../../builders';

const LONGHORN = 'driver.longhorn.io';
const records = new Map<string, StorageBackupRecord>([['backup-1', { backupName: 'backup-1', backupVolume: 'pvc-123' }]]);
const content = (handle: string, driver = LONGHORN) => forVolumeSnapshotContent('c').driver(driver).handle(handle).result();

describe('handleFindings', () => {
  it.each([
    { handle: 'bak://pvc-123/backup-1', records, expected: undefined },
    { handle: 'bs://pvc-123/backup-1', records, expected: undefined },
    { handle: 'bs://data/backup-1', records, expected: { message: /wrong: backup backup-1 belongs to backup volume pvc-123/, action: /handle bak:\/\/pvc-123\/backup-1/ } },
    { handle: 'bs://data/backup-9', records, expected: { message: /wrong: legacy bs:\/\//, action: /no record/ } },
    { handle: 'not-a-handle', records, expected: { message: /malformed: expected bak:\/\//, action: /cannot repair/ } },
    { handle: 'bak://data/backup-1', records: undefined, expected: undefined },
    { handle: 'anything', records, driver: 'csi.trident.netapp.io', expected: undefined },
  ])('$handle ($driver)', ({ handle, records: known, driver, expected }) => {
    const findings = handleFindings([content(handle, driver)], known);
    if (!expected) return expect(findings).toEqual([]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ check: 'handles', severity: 'warn', objects: [`VolumeSnapshotContent c (handle ${handle})`] });
    expect(findings[0]!.message).toMatch(expected.message);
    expect(findings[0]!.action).toMatch(expected.action);
  });

  it('reads a pre-provisioned content\'s source handle when it has no status', () => {
    const staticContent = forVolumeSnapshotContent('s').driver(LONGHORN).result();
    staticContent.spec.source = { snapshotHandle: 'bak:/broken' };
    expect(handleFindings([staticContent], records)).toHaveLength(1);
  });
});
