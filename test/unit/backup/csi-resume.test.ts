import { describe, expect, it } from 'vitest';
import { adoptedStartedAt, adoptionFor } from '../../../lib/backup/csi-resume';
import { forVolumeSnapshot } from '../../builders';

const vs = (name: string, pvc: string, created: string) => forVolumeSnapshot('app', name).source(pvc).created(created);
const older = () => vs('old', 'data', '2024-05-01T10:00:00Z');
const newer = () => vs('new', 'data', '2024-05-01T10:05:00Z');

describe('Module: backup/csi-resume', () => {
  it.each([
    ['nothing for a PVC without VolumeSnapshots', [vs('x', 'other', '2024-05-01T10:00:00Z')], undefined, []],
    ['the only one', [older()], 'old', []],
    ['the newest of several, deleting the others', [older(), newer()], 'new', ['old']],
    ['a ready one over a newer unready one', [older().boundTo('c').ready(), newer()], 'old', ['new']],
    ['none that is being deleted', [newer().deleting(), older()], 'old', []],
    ['none of another namespace', [forVolumeSnapshot('elsewhere', 'y').source('data').created('2024-05-01T10:00:00Z')], undefined, []],
  ])('takes over %s', (_, builders, adopted, discarded) => {
    const { adopt, discard } = adoptionFor(builders.map((b) => b.result()), { namespace: 'app', name: 'data' });
    expect(adopt?.metadata.name).toBe(adopted);
    expect(discard.map((d) => d.metadata.name)).toEqual(discarded);
  });

  it.each([
    ['its creation time', '2024-05-01T10:00:00Z', Date.parse('2024-05-01T10:00:00Z')],
    ['now, when it has none', undefined, 42],
  ])('starts the wait of an adopted VolumeSnapshot at %s', (_, created, expected) => {
    const snapshot = forVolumeSnapshot('app', 'x').result();
    if (created) snapshot.metadata.creationTimestamp = created;
    expect(adoptedStartedAt(snapshot, 42)).toBe(expected);
  });
});
