import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/core/errors';
import { TOP_LEVEL_DIRS, objectStoreLayout } from '../../../lib/store/layout';

describe('Module: store/layout', () => {
  const layout = objectStoreLayout('clusters/prod');

  it.each([
    ['backupDir', 'b1', 'clusters/prod/backups/b1/'],
    ['backupMetadataKey', 'b1', 'clusters/prod/backups/b1/velero-backup.json'],
    ['backupContentsKey', 'b1', 'clusters/prod/backups/b1/b1.tar.gz'],
    ['backupLogKey', 'b1', 'clusters/prod/backups/b1/b1-logs.gz'],
    ['backupResourceListKey', 'b1', 'clusters/prod/backups/b1/b1-resource-list.json.gz'],
    ['backupResultsKey', 'b1', 'clusters/prod/backups/b1/b1-results.gz'],
    ['backupVolumeInfoKey', 'b1', 'clusters/prod/backups/b1/b1-volumeinfo.json.gz'],
    ['backupItemOperationsKey', 'b1', 'clusters/prod/backups/b1/b1-itemoperations.json.gz'],
    ['csiVolumeSnapshotsKey', 'b1', 'clusters/prod/backups/b1/b1-csi-volumesnapshots.json.gz'],
    ['csiVolumeSnapshotContentsKey', 'b1', 'clusters/prod/backups/b1/b1-csi-volumesnapshotcontents.json.gz'],
    ['csiVolumeSnapshotClassesKey', 'b1', 'clusters/prod/backups/b1/b1-csi-volumesnapshotclasses.json.gz'],
    ['podVolumeBackupsKey', 'b1', 'clusters/prod/backups/b1/b1-podvolumebackups.json.gz'],
    ['volumeSnapshotsKey', 'b1', 'clusters/prod/backups/b1/b1-volumesnapshots.json.gz'],
    ['restoreDir', 'r1', 'clusters/prod/restores/r1/'],
    ['restoreLogKey', 'r1', 'clusters/prod/restores/r1/restore-r1-logs.gz'],
    ['restoreResultsKey', 'r1', 'clusters/prod/restores/r1/restore-r1-results.gz'],
    ['restoreResourceListKey', 'r1', 'clusters/prod/restores/r1/restore-r1-resource-list.json.gz'],
    ['restoreItemOperationsKey', 'r1', 'clusters/prod/restores/r1/restore-r1-itemoperations.json.gz'],
    ['restoreVolumeInfoKey', 'r1', 'clusters/prod/restores/r1/r1-volumeinfo.json.gz'],
    ['backupInProgressKey', 'b1', 'clusters/prod/metadata/skiff/backups-in-progress/b1.json'],
    ['skippedSlotsKey', 'nightly', 'clusters/prod/metadata/skiff/skipped-slots/nightly.json'],
    ['writeProbeKey', 'c0ffee', 'clusters/prod/metadata/skiff/write-probes/c0ffee'],
  ] as const)('%s(%j) is %s', (method, name, expected) => {
    expect(layout[method](name)).toBe(expected);
  });

  it.each([
    ['', ''],
    ['prod', 'prod/'],
    ['prod/', 'prod/'],
    ['prod//', 'prod/'],
    ['a/b', 'a/b/'],
  ])('prefix %j gives root %j', (prefix, root) => {
    const l = objectStoreLayout(prefix);
    expect(l.root).toBe(root);
    expect(l.backupMetadataKey('b')).toBe(`${root}backups/b/velero-backup.json`);
    expect(l.dirPrefix('backups')).toBe(`${root}backups/`);
  });

  it.each(['/prod', 'a//b', 'a/../b', './a'])('refuses prefix %j with a message', (prefix) => {
    expect(() => objectStoreLayout(prefix)).toThrow(ValidationError);
    expect(() => objectStoreLayout(prefix)).toThrow(/write it like "clusters\/prod"/);
  });

  it.each(['', 'a/b', '..'])('refuses backup name %j in keys', (name) => {
    expect(() => layout.backupMetadataKey(name)).toThrow(ValidationError);
    expect(() => layout.backupInProgressKey(name)).toThrow(ValidationError);
  });

  it('keeps Skiff’s own keys inside an allowed top-level folder', () => {
    const relative = layout.backupsInProgressPrefix().slice(layout.root.length);
    expect(TOP_LEVEL_DIRS).toContain(relative.split('/')[0]);
  });

  it.each([
    ['clusters/prod/backups/b1/', 'b1'],
    ['clusters/prod/backups/nightly-20240101000000/', 'nightly-20240101000000'],
    ['clusters/prod/backups/b1', 'b1'],
    ['clusters/prod/backups/', undefined],
    ['clusters/prod/restores/r1/', undefined],
    ['clusters/other/backups/b1/', undefined],
    ['clusters/prod/backups/b1/extra/', undefined],
  ])('backup name of common prefix %j is %j', (prefix, expected) => {
    expect(layout.backupNameFromPrefix(prefix)).toBe(expected);
  });

  it.each([
    ['clusters/prod/metadata/skiff/backups-in-progress/b1.json', 'b1'],
    ['clusters/prod/metadata/skiff/backups-in-progress/nightly-2024.01.json', 'nightly-2024.01'],
    ['clusters/prod/metadata/skiff/backups-in-progress/.json', undefined],
    ['clusters/prod/metadata/skiff/backups-in-progress/b1.tmp', undefined],
    ['clusters/prod/metadata/skiff/backups-in-progress/x/b1.json', undefined],
    ['clusters/other/metadata/skiff/backups-in-progress/b1.json', undefined],
  ])('backup name of progress record key %j is %j', (key, expected) => {
    expect(layout.backupNameFromInProgressKey(key)).toBe(expected);
  });

  it('finds the top-level folders Velero would refuse', () => {
    expect(TOP_LEVEL_DIRS).toEqual(['backups', 'restores', 'restic', 'kopia', 'metadata', 'plugins']);
    expect(
      layout.invalidTopLevelDirs([
        'clusters/prod/backups/',
        'clusters/prod/kopia/',
        'clusters/prod/metadata/',
        'clusters/prod/skiff/',
        'clusters/prod/catalog/',
      ]),
    ).toEqual(['skiff', 'catalog']);
    expect(objectStoreLayout().invalidTopLevelDirs(['backups/', 'restic/', 'plugins/', 'restores/'])).toEqual([]);
  });
});
