import { describe, expect, it } from 'vitest';
import { MANAGED_LABEL } from '../../bed/simulator/install';
import { Ledger } from '../../bed/simulator/ledger';
import { desiredRecords, sameJson } from '../../bed/simulator/longhorn';
import { LONGHORN_DRIVER, ONTAP_DRIVER } from '../../bed/simulator/personalities';

function ledgerWithBackups() {
  const ledger = new Ledger();
  ledger.createVolume({
    handle: 'pvc-a',
    driver: LONGHORN_DRIVER,
    cluster: 'alpha',
    pvName: 'pvc-a',
    claim: { namespace: 'app', name: 'data' },
    sizeBytes: 1024,
    attributes: { numberOfReplicas: '1' },
  });
  ledger.createVolume({ handle: 'pvc-o', driver: ONTAP_DRIVER, cluster: 'alpha', pvName: 'pvc-o', sizeBytes: 1024 });
  for (const n of [1, 2]) {
    ledger.createSnapshot({
      handle: `bak://pvc-a/backup-${n}`,
      name: `snapshot-${n}`,
      driver: LONGHORN_DRIVER,
      sourceVolume: 'pvc-a',
      cluster: 'alpha',
      backupVolume: 'pvc-a',
      backupName: `backup-${n}`,
    });
  }
  return ledger;
}

describe('Longhorn records', () => {
  it('lists every backup and backup volume in every cluster', () => {
    const ledger = ledgerWithBackups();
    for (const cluster of ['alpha', 'beta']) {
      const desired = desiredRecords(ledger.toJSON(), cluster);
      expect(desired.backups.map((b) => b.metadata.name).sort()).toEqual(['backup-1', 'backup-2']);
      expect(desired.backups[0]!.metadata.labels).toMatchObject({ 'backup-volume': 'pvc-a', [MANAGED_LABEL]: 'true' });
      expect(desired.backups[0]!.status).toMatchObject({ state: 'Completed', volumeName: 'pvc-a' });
      expect(desired.backupvolumes.map((b) => b.metadata.name)).toEqual(['pvc-a']);
      expect(desired.backupvolumes[0]!.status.lastBackupName).toBe('backup-2');
    }
  });

  it('keeps volumes in their own cluster only, with their replica count', () => {
    const ledger = ledgerWithBackups();
    const alpha = desiredRecords(ledger.toJSON(), 'alpha');
    expect(alpha.volumes.map((v) => v.metadata.name)).toEqual(['pvc-a']);
    expect(alpha.volumes[0]!.spec.numberOfReplicas).toBe(1);
    expect(alpha.volumes[0]!.status).toMatchObject({ state: 'detached', kubernetesStatus: { pvcName: 'data', namespace: 'app' } });
    expect(desiredRecords(ledger.toJSON(), 'beta').volumes).toEqual([]);
  });

  it('drops deleted backups, and the backup volume with the last one', () => {
    const ledger = ledgerWithBackups();
    ledger.deleteSnapshot('bak://pvc-a/backup-1');
    expect(desiredRecords(ledger.toJSON(), 'alpha').backups.map((b) => b.metadata.name)).toEqual(['backup-2']);
    ledger.deleteSnapshot('bak://pvc-a/backup-2');
    const desired = desiredRecords(ledger.toJSON(), 'alpha');
    expect(desired.backups).toEqual([]);
    expect(desired.backupvolumes).toEqual([]);
  });
});

describe('sameJson', () => {
  it('ignores key order and undefined members', () => {
    expect(sameJson({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { e: 3, d: 2 }] }, a: 1, z: undefined })).toBe(true);
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
  });
});
