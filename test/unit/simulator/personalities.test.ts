import { describe, expect, it } from 'vitest';
import {
  LONGHORN_DRIVER,
  ONTAP_DRIVER,
  longhorn,
  ontap,
  parseLonghornHandle,
  personalityFor,
} from '../../bed/simulator/personalities';

describe('longhorn-like handles', () => {
  it('names a new snapshot bak://<volume>/backup-<16 hex>', () => {
    const created = longhorn.newSnapshot('pvc-1234', 'snapshot-abc');
    expect(created.handle).toMatch(/^bak:\/\/pvc-1234\/backup-[0-9a-f]{16}$/);
    expect(created.backupVolume).toBe('pvc-1234');
    expect(created.handle.endsWith(`/${created.backupName}`)).toBe(true);
  });

  it('gives each backup its own name', () => {
    expect(longhorn.newSnapshot('v', 'a').handle).not.toBe(longhorn.newSnapshot('v', 'a').handle);
  });

  it('resolves bak:// to itself and the legacy bs:// to bak://', () => {
    expect(longhorn.resolveSnapshotHandle('bak://pvc-1/backup-2')).toEqual({ ok: true, key: 'bak://pvc-1/backup-2' });
    expect(longhorn.resolveSnapshotHandle('bs://pvc-1/backup-2')).toEqual({ ok: true, key: 'bak://pvc-1/backup-2' });
  });

  it('resolves the wrong bs://<pvcName>/<backup> form to a backup volume named after the PVC', () => {
    // Such a key never exists in the ledger (backup volumes carry the PV name), so
    // the content is "not found", as in Longhorn.
    expect(longhorn.resolveSnapshotHandle('bs://data-postgres-0/backup-2')).toEqual({
      ok: true,
      key: 'bak://data-postgres-0/backup-2',
    });
  });

  it('refuses other types and malformed handles', () => {
    expect(longhorn.resolveSnapshotHandle('snap://pvc-1/snap-2').ok).toBe(false);
    expect(longhorn.resolveSnapshotHandle('pvc-1/snapshot-2').ok).toBe(false);
    expect(longhorn.resolveSnapshotHandle('bak://pvc-1').ok).toBe(false);
  });

  it('parses handles into type, volume and name', () => {
    expect(parseLonghornHandle('bak://vol/backup-1')).toEqual({ type: 'bak', volume: 'vol', name: 'backup-1' });
    expect(parseLonghornHandle('bak:/vol/backup-1')).toBeUndefined();
  });

  it('restores as full copies and reports its replica count', () => {
    expect(longhorn.restoreDependsOnSnapshot).toBe(false);
    expect(longhorn.volumeContext('pvc-1', {}).numberOfReplicas).toBe('3');
    expect(longhorn.volumeContext('pvc-1', { numberOfReplicas: '1' }).numberOfReplicas).toBe('1');
  });
});

describe('ontap-like handles', () => {
  it('names a snapshot <volume>/snapshot-<uuid> after the CSI request', () => {
    const uid = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    expect(ontap.newSnapshot('pvc-1', `snapshot-${uid}`).handle).toBe(`pvc-1/snapshot-${uid}`);
    expect(ontap.newSnapshot('pvc-1', 'odd-name').handle).toMatch(/^pvc-1\/snapshot-[0-9a-f-]{36}$/);
  });

  it('resolves <volume>/<snapshot> and refuses anything else', () => {
    expect(ontap.resolveSnapshotHandle('pvc-1/snapshot-x')).toEqual({ ok: true, key: 'pvc-1/snapshot-x' });
    expect(ontap.resolveSnapshotHandle('bak://pvc-1/backup-2').ok).toBe(false);
    expect(ontap.resolveSnapshotHandle('pvc-1').ok).toBe(false);
  });

  it('restores as FlexClones that depend on the snapshot', () => {
    expect(ontap.restoreDependsOnSnapshot).toBe(true);
  });
});

describe('personalityFor', () => {
  it('finds each driver and nothing else', () => {
    expect(personalityFor(LONGHORN_DRIVER)).toBe(longhorn);
    expect(personalityFor(ONTAP_DRIVER)).toBe(ontap);
    expect(personalityFor('ebs.csi.aws.com')).toBeUndefined();
    expect(personalityFor(undefined)).toBeUndefined();
  });
});
