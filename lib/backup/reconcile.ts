import type { SkiffConfig } from '../config';
import type { StartRun } from '../runtime/invoker';
import { logger } from '../core/logger';
import type { BackupProgressRecord } from './progress-record';
import type { StoreFor } from '../store/resolver';

/**
 * How long a new backup may wait for its first run before it counts as stalled. Its run
 * was started when it was created; restarting it at once would only race that
 * invocation (one of the two finds the other's lease and stops, or finds nothing left
 * to do).
 */
export const FIRST_RUN_GRACE_MS = 2 * 60_000;

export interface ReconcileDeps {
  config: SkiffConfig;
  storeFor: StoreFor;
  startRun: StartRun;
}

/** What one reconcile pass did; a location or backup that failed does not stop the others. */
export interface ReconcileReport {
  restarted: string[];
  failed: { storageLocation: string; backup?: string; error: string }[];
}

/**
 * Hands every unfinished backup whose lease has run out to a fresh runner: the
 * safety net for an invocation that died (crash, timeout) without handing itself on,
 * and for a backup whose first run could not be started. Finished and failed records
 * are left alone. An unreadable location or a run that cannot be started is reported
 * and retried on the next pass, without holding up the rest.
 */
export async function reconcileBackups(deps: ReconcileDeps, now: Date): Promise<ReconcileReport> {
  const { config, storeFor, startRun } = deps;
  const report: ReconcileReport = { restarted: [], failed: [] };
  for (const location of config.storageLocations) {
    if (location.accessMode === 'ReadOnly') continue;
    const store = storeFor(location.name);
    let names: string[];
    try {
      names = await store.listProgressNames();
    } catch (error) {
      report.failed.push({ storageLocation: location.name, error: messageOf(error) });
      continue;
    }
    for (const name of names) {
      try {
        const progress = await store.getProgress(name);
        const record = progress?.record as BackupProgressRecord | undefined;
        if (!record || record.stage === 'Done' || record.stage === 'Failed') continue;
        if (!isStalled(record, now)) continue;
        await startRun(name);
        report.restarted.push(name);
      } catch (error) {
        report.failed.push({ storageLocation: location.name, backup: name, error: messageOf(error) });
      }
    }
  }
  if (report.restarted.length > 0) logger.info('restarted stalled backups', { backups: report.restarted });
  if (report.failed.length > 0) logger.error('could not check or restart some backups', { failed: report.failed });
  return report;
}

/** Whether an unfinished backup has nobody working on it and nobody about to. */
export function isStalled(record: BackupProgressRecord, now: Date): boolean {
  if (record.lease) return Date.parse(record.lease.until) <= now.getTime();
  if (record.stage === 'New') {
    const created = Date.parse(record.backup.metadata.creationTimestamp ?? '');
    return !Number.isFinite(created) || now.getTime() - created >= FIRST_RUN_GRACE_MS;
  }
  return true;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
