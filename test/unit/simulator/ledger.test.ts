import { describe, expect, it } from 'vitest';
import { Ledger, StorageError } from '../../bed/simulator/ledger';
import { LONGHORN_DRIVER, ONTAP_DRIVER } from '../../bed/simulator/personalities';

const GiB = 2 ** 30;

function clock() {
  let t = Date.parse('2025-01-01T00:00:00Z');
  return () => new Date((t += 1000));
}

function volume(ledger: Ledger, handle: string, driver = ONTAP_DRIVER, extra: Partial<Parameters<Ledger['createVolume']>[0]> = {}) {
  return ledger.createVolume({ handle, driver, cluster: 'alpha', pvName: handle, sizeBytes: GiB, ...extra }, { cluster: 'alpha' });
}

function snapshot(ledger: Ledger, source: string, handle = `${source}/snapshot-1`, name = 'snapshot-1', driver = ONTAP_DRIVER) {
  return ledger.createSnapshot({ handle, name, driver, sourceVolume: source, cluster: 'alpha' }, { cluster: 'alpha' });
}

const types = (ledger: Ledger) => ledger.toJSON().events.map((e) => e.type);

describe('volumes', () => {
  it('creates a volume once per handle (CreateVolume is idempotent)', () => {
    const ledger = new Ledger(clock());
    const first = volume(ledger, 'pvc-a');
    const again = volume(ledger, 'pvc-a');
    expect(again).toBe(first);
    expect(first).toMatchObject({ id: 'pvc-a', sizeBytes: GiB, physicalBytes: GiB });
    expect(types(ledger)).toEqual(['VolumeCreated']);
  });

  it('treats deleting a missing volume as success but logs it', () => {
    const ledger = new Ledger(clock());
    volume(ledger, 'pvc-a');
    expect(ledger.deleteVolume('pvc-a')).toBe(true);
    expect(ledger.deleteVolume('pvc-a')).toBe(false);
    expect(ledger.deleteVolume('pvc-never')).toBe(false);
    expect(types(ledger)).toEqual(['VolumeCreated', 'VolumeDeleted', 'VolumeDeleteNotFound', 'VolumeDeleteNotFound']);
    expect(ledger.toJSON().volumes[0]).toMatchObject({ deleted: true });
  });

  it('refuses to restore from a snapshot that is gone or of another driver', () => {
    const ledger = new Ledger(clock());
    volume(ledger, 'pvc-a');
    snapshot(ledger, 'pvc-a');
    expect(() => volume(ledger, 'pvc-b', LONGHORN_DRIVER, { fromSnapshot: 'pvc-a/snapshot-1' })).toThrow(StorageError);
    ledger.deleteSnapshot('pvc-a/snapshot-1');
    expect(() => volume(ledger, 'pvc-c', ONTAP_DRIVER, { fromSnapshot: 'pvc-a/snapshot-1' })).toThrow(/NotFound/);
  });

  it('refuses a restore smaller than the snapshot', () => {
    const ledger = new Ledger(clock());
    volume(ledger, 'pvc-a');
    snapshot(ledger, 'pvc-a');
    expect(() => volume(ledger, 'pvc-b', ONTAP_DRIVER, { fromSnapshot: 'pvc-a/snapshot-1', sizeBytes: GiB / 2 })).toThrow(
      /InvalidArgument/,
    );
  });
});

describe('snapshots', () => {
  it('is idempotent by CSI name: a retry returns the snapshot already cut', () => {
    const ledger = new Ledger(clock());
    volume(ledger, 'pvc-a');
    const first = snapshot(ledger, 'pvc-a', 'pvc-a/snapshot-1');
    const retry = snapshot(ledger, 'pvc-a', 'pvc-a/snapshot-other-random');
    expect(retry).toBe(first);
    expect(ledger.toJSON().snapshots).toHaveLength(1);
  });

  it('refuses the same CSI name for another volume', () => {
    const ledger = new Ledger(clock());
    volume(ledger, 'pvc-a');
    volume(ledger, 'pvc-b');
    snapshot(ledger, 'pvc-a');
    expect(() => snapshot(ledger, 'pvc-b', 'pvc-b/snapshot-1')).toThrow(/AlreadyExists/);
  });

  it('needs a live source volume of the same driver', () => {
    const ledger = new Ledger(clock());
    expect(() => snapshot(ledger, 'pvc-missing')).toThrow(/NotFound/);
    volume(ledger, 'pvc-a', LONGHORN_DRIVER);
    expect(() => snapshot(ledger, 'pvc-a')).toThrow(/NotFound/);
  });

  it('takes the size of its source and can outlive it', () => {
    const ledger = new Ledger(clock());
    volume(ledger, 'pvc-a', ONTAP_DRIVER, { sizeBytes: 3 * GiB });
    const snap = snapshot(ledger, 'pvc-a');
    expect(snap.sizeBytes).toBe(3 * GiB);
    ledger.deleteVolume('pvc-a');
    expect(ledger.snapshot(snap.handle)).toBeDefined();
  });

  it.each([
    { title: 'a live source volume', deleteSource: false },
    { title: 'a source volume deleted since (its namespace went first)', deleteSource: true },
  ])('names the PVC a snapshot was cut from, of $title', ({ deleteSource }) => {
    const ledger = new Ledger(clock());
    volume(ledger, 'pvc-a', ONTAP_DRIVER, { claim: { namespace: 'app', name: 'data', uid: 'u-1' } });
    const snap = snapshot(ledger, 'pvc-a');
    if (deleteSource) ledger.deleteVolume('pvc-a');
    expect(ledger.snapshotSourceClaim(snap.handle)).toEqual({ namespace: 'app', name: 'data', uid: 'u-1' });
  });

  it.each([
    { title: 'an unknown snapshot', setup: () => undefined, key: 'pvc-x/snapshot-1' },
    { title: 'a deleted snapshot', setup: (l: Ledger) => void l.deleteSnapshot('pvc-a/snapshot-1'), key: 'pvc-a/snapshot-1' },
    { title: 'a snapshot of a volume without claim', setup: () => undefined, key: 'pvc-b/snapshot-1' },
  ])('names no PVC for $title', ({ setup, key }) => {
    const ledger = new Ledger(clock());
    volume(ledger, 'pvc-a', ONTAP_DRIVER, { claim: { namespace: 'app', name: 'data' } });
    volume(ledger, 'pvc-b');
    snapshot(ledger, 'pvc-a');
    snapshot(ledger, 'pvc-b', 'pvc-b/snapshot-1', 'snapshot-b');
    setup(ledger);
    expect(ledger.snapshotSourceClaim(key)).toBeUndefined();
  });

  it('hands out a copy of the claim, so callers cannot change the books', () => {
    const ledger = new Ledger(clock());
    volume(ledger, 'pvc-a', ONTAP_DRIVER, { claim: { namespace: 'app', name: 'data' } });
    snapshot(ledger, 'pvc-a');
    ledger.snapshotSourceClaim('pvc-a/snapshot-1')!.name = 'other';
    expect(ledger.snapshotSourceClaim('pvc-a/snapshot-1')?.name).toBe('data');
  });

  it('treats deleting a missing snapshot as success but logs it', () => {
    const ledger = new Ledger(clock());
    expect(ledger.deleteSnapshot('bak://x/backup-1', { cluster: 'beta', object: 'VolumeSnapshotContent/c' })).toEqual({
      deleted: false,
      split: [],
    });
    expect(ledger.toJSON().events.at(-1)).toMatchObject({
      type: 'SnapshotDeleteNotFound',
      snapshot: 'bak://x/backup-1',
      cluster: 'beta',
      object: 'VolumeSnapshotContent/c',
    });
  });
});

describe('clones and the split rule', () => {
  function setup() {
    const ledger = new Ledger(clock());
    volume(ledger, 'pvc-src');
    snapshot(ledger, 'pvc-src');
    const clone = volume(ledger, 'pvc-clone', ONTAP_DRIVER, { fromSnapshot: 'pvc-src/snapshot-1', dependsOnSnapshot: true });
    return { ledger, clone };
  }

  it('makes the snapshot busy while a FlexClone lives, and the clone takes no space', () => {
    const { ledger, clone } = setup();
    expect(ledger.snapshot('pvc-src/snapshot-1')!.busyBy).toEqual(['pvc-clone']);
    expect(clone).toMatchObject({ clonedFromSnapshot: 'pvc-src/snapshot-1', dependsOnSnapshot: true, physicalBytes: 0 });
  });

  it('safe order (clone volume first, then the snapshot) never splits', () => {
    const { ledger } = setup();
    ledger.deleteVolume('pvc-clone');
    expect(ledger.snapshot('pvc-src/snapshot-1')!.busyBy).toEqual([]);
    expect(ledger.deleteSnapshot('pvc-src/snapshot-1')).toEqual({ deleted: true, split: [] });
    expect(types(ledger)).not.toContain('CloneSplit');
  });

  it('deleting a busy snapshot splits the clone into a full copy', () => {
    const { ledger } = setup();
    expect(ledger.deleteSnapshot('pvc-src/snapshot-1', { cluster: 'alpha' })).toEqual({ deleted: true, split: ['pvc-clone'] });
    const split = ledger.toJSON().events.find((e) => e.type === 'CloneSplit');
    expect(split).toMatchObject({ snapshot: 'pvc-src/snapshot-1', volume: 'pvc-clone', cluster: 'alpha' });
    expect(ledger.volume('pvc-clone')).toMatchObject({ split: true, dependsOnSnapshot: false, physicalBytes: GiB });
    expect(ledger.snapshot('pvc-src/snapshot-1')).toBeUndefined();
    // Deleting the split clone later has no snapshot to release.
    expect(ledger.deleteVolume('pvc-clone')).toBe(true);
  });

  it('a full-copy restore (Longhorn) leaves the snapshot free', () => {
    const ledger = new Ledger(clock());
    volume(ledger, 'pvc-src', LONGHORN_DRIVER);
    snapshot(ledger, 'pvc-src', 'bak://pvc-src/backup-1', 'snapshot-1', LONGHORN_DRIVER);
    const restored = volume(ledger, 'pvc-r', LONGHORN_DRIVER, { fromSnapshot: 'bak://pvc-src/backup-1', dependsOnSnapshot: false });
    expect(restored).toMatchObject({ clonedFromSnapshot: 'bak://pvc-src/backup-1', physicalBytes: GiB, dependsOnSnapshot: false });
    expect(ledger.deleteSnapshot('bak://pvc-src/backup-1').split).toEqual([]);
  });
});

describe('state', () => {
  it('serialises and restores, continuing the event sequence', () => {
    const ledger = new Ledger(clock());
    volume(ledger, 'pvc-a');
    snapshot(ledger, 'pvc-a');
    const saved = JSON.parse(JSON.stringify(ledger.toJSON()));
    const restored = new Ledger(clock());
    restored.load(saved);
    expect(restored.toJSON()).toEqual(saved);
    restored.deleteVolume('pvc-a');
    expect(restored.toJSON().events.at(-1)!.seq).toBe(saved.events.length + 1);
  });

  it('hands out copies, so readers cannot change the books', () => {
    const ledger = new Ledger(clock());
    volume(ledger, 'pvc-a');
    ledger.toJSON().volumes[0]!.sizeBytes = 1;
    expect(ledger.volume('pvc-a')!.sizeBytes).toBe(GiB);
  });

  it('tells listeners about every change', () => {
    const ledger = new Ledger(clock());
    let calls = 0;
    ledger.onChange(() => calls++);
    volume(ledger, 'pvc-a');
    ledger.note('ProvisionFailed', {}, { message: 'x' });
    expect(calls).toBe(2);
  });
});
