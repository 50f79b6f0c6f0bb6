import { describe, expect, it } from 'vitest';
import {
  backupsToSync,
  capped,
  classForSyncedContent,
  heldContents,
  isHeld,
  newestFirst,
  orphanedBackupLabels,
  placeholderSnapshotRef,
  receivesBackup,
  syncedContentName,
} from '../../../lib/sync/decisions';
import { forVolumeSnapshotContent } from '../../builders';

describe('Function: backupsToSync', () => {
  it.each([
    ['nothing stored, nothing known', [], [], { toFetch: [], gone: [] }],
    ['everything known', ['a', 'b'], ['b', 'a'], { toFetch: [], gone: [] }],
    ['new backups only', ['c', 'a', 'b'], ['a'], { toFetch: ['b', 'c'], gone: [] }],
    ['a backup gone from the bucket', ['a'], ['a', 'z'], { toFetch: [], gone: ['z'] }],
    ['new and gone at once', ['a', 'n'], ['a', 'g'], { toFetch: ['n'], gone: ['g'] }],
    ['a listing with a name twice', ['a', 'a'], [], { toFetch: ['a'], gone: [] }],
  ])('%s', (_, stored, known, expected) => {
    expect(backupsToSync(stored, known)).toEqual(expected);
  });
});

describe('Function: receivesBackup', () => {
  it.each([
    ['all', 'beta', 'alpha', true],
    ['all', 'beta', undefined, true],
    ['own', 'alpha', 'alpha', true],
    ['own', 'beta', 'alpha', false],
    ['own', 'beta', undefined, false],
    ['none', 'alpha', 'alpha', false],
  ] as const)('mode %s: cluster %s, backup of %s -> %s', (mode, cluster, of, expected) => {
    expect(receivesBackup(mode, cluster, { cluster: of })).toBe(expected);
  });
});

describe('Function: syncedContentName', () => {
  it.each([
    ['the same backup and handle', ['b1', 'bak://v/x'], ['b1', 'bak://v/x'], true],
    ['another handle', ['b1', 'bak://v/x'], ['b1', 'bak://v/y'], false],
    ['another backup', ['b1', 'bak://v/x'], ['b2', 'bak://v/x'], false],
    ['names that would collide if joined without a separator', ['b1', '2/x'], ['b12', '/x'], false],
  ] as const)('%s', (_, [b1, h1], [b2, h2], same) => {
    expect(syncedContentName(b1, h1) === syncedContentName(b2, h2)).toBe(same);
  });

  it('is a DNS-1123 name whose placeholder VolumeSnapshot is in a namespace every cluster has', () => {
    const name = syncedContentName('a-very-long-backup-name-'.repeat(10), 'bak://volume/backup');
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    // Expiry claims a synced content at this name to free its storage snapshot.
    expect(placeholderSnapshotRef(name)).toEqual({ namespace: 'default', name: `name-${name}` });
  });
});

describe('Function: isHeld', () => {
  const dynamic = forVolumeSnapshotContent('snapcontent-1').driver('driver.longhorn.io').handle('bak://pvc-1/backup-1').result();
  dynamic.metadata.labels = { 'velero.io/backup-name': 'b1' };
  const synced = forVolumeSnapshotContent(syncedContentName('b2', 'bak://pvc-2/backup-2')).driver('driver.longhorn.io').result();
  synced.spec.source = { snapshotHandle: 'bak://pvc-2/backup-2' };
  const unlabelled = forVolumeSnapshotContent('other').driver('driver.longhorn.io').handle('bak://pvc-3/backup-3').result();
  const held = heldContents([dynamic, synced, unlabelled]);

  it.each([
    ["the backup's own dynamic content (the cluster that made it)", 'b1', ['bak://pvc-1/backup-1'], true],
    ['a content sync made, by its name', 'b2', ['bak://pvc-2/backup-2'], true],
    ['the same handle labelled for another backup', 'b2', ['bak://pvc-1/backup-1'], false],
    ['an unlabelled content with the handle', 'b3', ['bak://pvc-3/backup-3'], false],
    ['a handle nobody holds', 'b1', ['bak://pvc-9/backup-9'], false],
    ['a repaired handle next to the stored one', 'b1', ['bs://data/backup-1', 'bak://pvc-1/backup-1'], true],
  ] as const)('%s -> %s', (_, backup, handles, expected) => {
    expect(isHeld(held, backup, handles)).toBe(expected);
  });

  it('reports labels of backups nobody knows as orphaned', () => {
    expect(orphanedBackupLabels(held, new Set(['b1']))).toEqual([]);
    expect(orphanedBackupLabels(held, new Set())).toEqual(['b1']);
  });
});

describe('Function: capped', () => {
  it.each([
    [[1, 2, 3], 5, [1, 2, 3], 0],
    [[1, 2, 3], 3, [1, 2, 3], 0],
    [[1, 2, 3], 2, [1, 2], 1],
    [[], 1, [], 0],
  ])('%j with cap %i', (items, cap, now, waiting) => {
    expect(capped(items, cap)).toEqual({ now, waiting });
  });
});

describe('Function: newestFirst', () => {
  it('orders the newest backups first, then by name', () => {
    const entries = [
      { name: 'b', startTimestamp: '2026-01-01T00:00:00Z' },
      { name: 'a', startTimestamp: '2026-01-01T00:00:00Z' },
      { name: 'c', startTimestamp: '2026-02-01T00:00:00Z' },
      { name: 'd' },
    ];
    expect([...entries].sort(newestFirst).map((e) => e.name)).toEqual(['c', 'a', 'b', 'd']);
  });
});

describe('Function: classForSyncedContent', () => {
  const cls = (name: string, driver: string, deletionPolicy: string, labels?: Record<string, string>) => ({ metadata: { name, labels }, driver, deletionPolicy });
  it.each([
    ['no class of the driver', [cls('x', 'other.csi', 'Retain')], undefined, false],
    ['the only class', [cls('only', 'd.csi', 'Delete')], 'only', false],
    ['the labelled one of several', [cls('a', 'd.csi', 'Retain'), cls('b', 'd.csi', 'Delete', { 'velero.io/csi-volumesnapshot-class': '' })], 'b', false],
    ['several, none chosen: Retain first, with a note', [cls('a-delete', 'd.csi', 'Delete'), cls('z-retain', 'd.csi', 'Retain')], 'z-retain', true],
    ['several Retain, none chosen: first by name', [cls('b', 'd.csi', 'Retain'), cls('a', 'd.csi', 'Retain')], 'a', true],
  ])('%s', (_, classes, name, noted) => {
    const choice = classForSyncedContent('d.csi', classes);
    expect(choice?.name).toBe(name);
    expect(choice?.note !== undefined).toBe(noted);
  });
});
