import { describe, expect, it } from 'vitest';
import { catalogEntryFor } from '../../../lib/store/catalog';
import { forBackup, forVolumeSnapshotContent } from '../../builders';

const expiration = new Date('2026-12-01T00:00:00Z');

describe('Function: catalogEntryFor', () => {
  it.each([
    [
      "a Skiff backup (cluster label) with two snapshots of one driver",
      forBackup('velero', 'b1').labels({ 'skiff.io/cluster': 'alpha', 'velero.io/schedule-name': 'nightly' }),
      [forVolumeSnapshotContent('c1').driver('driver.longhorn.io').result(), forVolumeSnapshotContent('c2').driver('driver.longhorn.io').result()],
      { cluster: 'alpha', schedule: 'nightly', snapshots: 2, drivers: ['driver.longhorn.io'], writtenBy: 'skiff' },
    ],
    [
      'a Velero backup without CSI lists',
      forBackup('velero', 'b1'),
      [],
      { cluster: undefined, schedule: undefined, snapshots: 0, drivers: [], writtenBy: 'velero' },
    ],
  ])('catalogues %s', (_, builder, contents, expected) => {
    const backup = builder.phase('Completed').expiration(expiration).result();
    const entry = catalogEntryFor(backup, contents, 'default');
    expect(entry).toMatchObject({ name: 'b1', phase: 'Completed', storageLocation: 'default', expiration: expiration.toISOString().replace('.000', '') });
    expect({ cluster: entry.cluster, schedule: entry.schedule, snapshots: entry.snapshots, drivers: entry.drivers, writtenBy: entry.writtenBy }).toEqual(expected);
  });
});
