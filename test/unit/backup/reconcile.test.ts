import { describe, expect, it } from 'vitest';
import type { BackupProgressRecord } from '../../../lib/backup/progress-record';
import { FIRST_RUN_GRACE_MS, isStalled } from '../../../lib/backup/reconcile';
import { emptyResults } from '../../../lib/velero/results';
import { formatTime } from '../../../lib/velero/backup';
import { forBackup } from '../../builders';

const now = new Date('2026-06-01T10:00:00Z');
const ago = (ms: number) => formatTime(new Date(now.getTime() - ms));
const later = (ms: number) => formatTime(new Date(now.getTime() + ms));

function record(fields: { stage: BackupProgressRecord['stage']; createdAt?: string; leaseUntil?: string }): BackupProgressRecord {
  const backup = forBackup('velero', 'b1').result();
  if (fields.createdAt) backup.metadata.creationTimestamp = fields.createdAt;
  return {
    backup,
    cluster: 'alpha',
    stage: fields.stage,
    attempts: 0,
    results: emptyResults(),
    log: [],
    ...(fields.leaseUntil ? { lease: { owner: 'x', until: fields.leaseUntil } } : {}),
  };
}

describe('Module: backup/reconcile', () => {
  describe('isStalled', () => {
    it.each([
      ['a new backup whose first run may still be starting', record({ stage: 'New', createdAt: ago(10_000) }), false],
      ['a new backup whose first run never came', record({ stage: 'New', createdAt: ago(FIRST_RUN_GRACE_MS) }), true],
      ['a new backup without a creation time', record({ stage: 'New' }), true],
      ['a run that holds its lease', record({ stage: 'Resources', leaseUntil: later(60_000) }), false],
      ['a run whose lease ran out (the invocation died)', record({ stage: 'Snapshots', leaseUntil: ago(1_000) }), true],
      ['a paused run that gave its lease back', record({ stage: 'Resources' }), true],
    ])('%s', (_what, given, expected) => {
      expect(isStalled(given, now)).toBe(expected);
    });
  });
});
