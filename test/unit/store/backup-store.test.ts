import { describe, expect, it } from 'vitest';
import { deleteBatches } from '../../../lib/store/backup-store';

const META = 'backups/b/velero-backup.json';
const keys = (n: number) => Array.from({ length: n }, (_, i) => `backups/b/file-${String(i).padStart(5, '0')}`);

describe('Function: deleteBatches', () => {
  it('returns no batch when there is nothing to delete', () => {
    expect(deleteBatches([], META)).toEqual([]);
  });

  it('deletes an ordinary backup in one request, velero-backup.json listed first', () => {
    const listed = ['backups/b/b-logs.gz', 'backups/b/b.tar.gz', META];
    expect(deleteBatches(listed, META)).toEqual([[META, 'backups/b/b-logs.gz', 'backups/b/b.tar.gz']]);
  });

  it('deletes left-over data of a half-deleted backup in one request', () => {
    expect(deleteBatches(['backups/b/b.tar.gz'], META)).toEqual([['backups/b/b.tar.gz']]);
  });

  it('fits exactly 1,000 keys, velero-backup.json included, in one request', () => {
    const batches = deleteBatches([...keys(999), META], META);
    expect(batches.map((b) => b.length)).toEqual([1000]);
    expect(batches[0]?.[0]).toBe(META);
  });

  it('deletes velero-backup.json alone first when the backup needs several requests', () => {
    const batches = deleteBatches([...keys(2500), META], META);
    expect(batches.map((b) => b.length)).toEqual([1, 1000, 1000, 500]);
    expect(batches[0]).toEqual([META]);
    expect(batches.flat().sort()).toEqual([...keys(2500), META].sort());
  });

  it('splits a large backup without velero-backup.json into batches of 1,000', () => {
    expect(deleteBatches(keys(1001), META).map((b) => b.length)).toEqual([1000, 1]);
  });
});
