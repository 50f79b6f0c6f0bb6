import { describe, expect, it } from 'vitest';
import { backupInProgressView, elapsedText, runProgress, stageMessage } from '../../../lib/backup/progress-view';
import type { BackupProgressRecord, SnapshotProgress } from '../../../lib/backup/progress-record';
import { emptyResults } from '../../../lib/velero/results';
import { forBackup } from '../../builders';

const started = new Date('2026-11-30T10:00:00Z');

function record(stage: BackupProgressRecord['stage'], patch: Partial<BackupProgressRecord> = {}): BackupProgressRecord {
  const backup = forBackup('velero', 'b1').storageLocation('default').phase('InProgress').startTimestamp(started).result();
  return { backup, cluster: 'alpha', stage, attempts: 1, results: emptyResults(), log: [], ...patch };
}

function snapshots(total: number, attempted: number, completed: number, failed = 0): Partial<BackupProgressRecord> {
  const snapshotProgress: SnapshotProgress = { total, attempted, completed, failed };
  return { snapshotProgress };
}

function resources(itemsBackedUp: number, totalItems: number): Partial<BackupProgressRecord> {
  const r = record('Resources');
  r.backup.status.progress = { itemsBackedUp, totalItems };
  return { backup: r.backup };
}

describe('Function: stageMessage', () => {
  it.each([
    ['a recorded backup', record('New'), 'waiting for a runner to start it'],
    ['snapshots being planned', record('Snapshots'), 'listing PVCs and choosing VolumeSnapshotClasses'],
    ['no PVC to snapshot', record('Snapshots', snapshots(0, 0, 0)), 'no volume to snapshot'],
    ['VolumeSnapshots being created', record('Snapshots', snapshots(10, 4, 1)), 'creating VolumeSnapshots: 4 / 10 created, 1 ready'],
    ['VolumeSnapshots being waited for', record('Snapshots', snapshots(10, 10, 3)), 'waiting for 10 VolumeSnapshots: 3 ready'],
    ['some failed', record('Snapshots', snapshots(10, 10, 3, 2)), 'waiting for 10 VolumeSnapshots: 3 ready, 2 failed'],
    ['resources with an estimate', record('Resources', resources(22973, 50000)), 'writing resources: 22,973 / ~50,000'],
    ['resources past the estimate', record('Resources', resources(120, 120)), 'writing resources: 120'],
    ['finalizing', record('Finalizing'), "writing the backup's files to storage location default"],
  ])('%s', (_, r, message) => {
    expect(stageMessage(r)).toBe(message);
  });
});

describe('Function: runProgress', () => {
  const now = new Date('2026-11-30T10:01:15Z');
  const held = { lease: { owner: 'me', until: '2026-11-30T10:10:00Z' } };

  it('is there from the moment the backup is recorded, with Velero’s counts at 0', () => {
    expect(runProgress(record('New'), now)).toEqual({
      totalItems: 0,
      itemsBackedUp: 0,
      stage: 'New',
      message: 'waiting for a runner to start it',
      elapsedSeconds: 75,
    });
  });

  it('names the stage, counts the time since the start, and says when no invocation holds the run', () => {
    expect(runProgress(record('Snapshots', { ...snapshots(10, 10, 3), ...held }), now)).toMatchObject({
      stage: 'Snapshots',
      message: 'waiting for 10 VolumeSnapshots: 3 ready',
      elapsedSeconds: 75,
    });
    expect(runProgress(record('Snapshots', held), now).paused).toBeUndefined();
    expect(runProgress(record('Resources', resources(1, 2)), now).paused).toBe(true);
  });

  it('stops the clock at the completion of a failed run', () => {
    const failed = record('Failed');
    failed.backup.status.completionTimestamp = '2026-11-30T10:00:30Z';
    failed.backup.status.failureReason = 'the cluster cannot be reached';
    expect(runProgress(failed, now)).toMatchObject({ elapsedSeconds: 30, message: 'failed: the cluster cannot be reached' });
  });

  it('puts the progress in the Backup shown, leaving the record alone', () => {
    const r = record('Resources', { ...resources(5, 10), ...held });
    expect(backupInProgressView(r, now).status.progress).toMatchObject({ itemsBackedUp: 5, totalItems: 10, stage: 'Resources' });
    expect(r.backup.status.progress).toEqual({ itemsBackedUp: 5, totalItems: 10 });
  });
});

describe('Function: elapsedText', () => {
  it.each([
    [0, '0s'],
    [59, '59s'],
    [75, '1m15s'],
    [3725, '1h02m05s'],
  ])('%i s is %s', (seconds, text) => {
    expect(elapsedText(seconds)).toBe(text);
  });
});
