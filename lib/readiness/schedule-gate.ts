import type { SkiffConfig } from '../config';
import type { Clock } from '../core/clock';
import { logger } from '../core/logger';
import type { ReadinessGate } from '../schedule/dispatch';
import { scheduleStorageLocation } from '../schedule/view';
import type { BackupStore } from '../store/backup-store';
import type { StoreFor } from '../store/resolver';
import { readSkippedSlots, recordSkippedSlot } from '../store/skipped-slots';
import { blockingReasons, type ReadinessReport } from './findings';

/**
 * The readiness gate of the scheduler: before a schedule's new slot starts, check its
 * cluster. `off`: no check. `warn`: the backup starts, blocking findings are logged.
 * `block`: while a finding blocks, the slot is skipped and recorded with the reasons in
 * the schedule's storage location (GET /backups?schedule= shows it); a recorded slot
 * is answered from the record ever after, so it is never started late and the schedule
 * resumes at its first slot after the finding is gone.
 *
 * The cluster is checked only for a slot that has neither a backup nor a record yet
 * (two HEADs tell), and at most once per gate: build one gate per scheduler tick.
 * A check that fails (cluster unreachable) does not block: the backup then runs into
 * the same failure and reports it where backups report failures.
 */

export interface ReadinessGateDeps {
  config: SkiffConfig;
  storeFor: StoreFor;
  /** The readiness report of a cluster (lib/readiness/service.ts checkReadiness). */
  check: (cluster: string) => Promise<ReadinessReport>;
  clock: Pick<Clock, 'now'>;
}

/** Whether the slot's backup exists, finished or being written. */
async function backupExists(store: BackupStore, name: string): Promise<boolean> {
  const [finished, running] = await Promise.all([
    store.headObject(store.layout.backupMetadataKey(name)),
    store.headObject(store.layout.backupInProgressKey(name)),
  ]);
  return finished !== undefined || running !== undefined;
}

/** A gate for one scheduler tick; see the module comment. */
export function readinessGate(deps: ReadinessGateDeps): ReadinessGate {
  const reports = new Map<string, Promise<ReadinessReport>>();
  const reportOf = (cluster: string) => {
    let report = reports.get(cluster);
    if (!report) reports.set(cluster, (report = deps.check(cluster)));
    return report;
  };
  return async (schedule, { name, slot }) => {
    if (schedule.readiness === 'off') return { blocked: false };
    const store = deps.storeFor(scheduleStorageLocation(deps.config, schedule));
    const recorded = (await readSkippedSlots(store, schedule.name)).find((s) => s.backup === name);
    if (recorded) return { blocked: true, reasons: recorded.reasons };
    if (await backupExists(store, name)) return { blocked: false };
    let report: ReadinessReport;
    try {
      report = await reportOf(schedule.cluster);
    } catch (error) {
      logger.warn('readiness could not be checked; the scheduled backup starts and will report the cluster\'s state', {
        schedule: schedule.name,
        backup: name,
        cluster: schedule.cluster,
        error,
      });
      return { blocked: false };
    }
    const reasons = blockingReasons(report);
    if (reasons.length === 0) return { blocked: false };
    if (schedule.readiness === 'warn') {
      logger.warn('a scheduled backup starts although readiness findings block (schedule readiness: warn)', {
        schedule: schedule.name,
        backup: name,
        cluster: schedule.cluster,
        reasons,
      });
      return { blocked: false };
    }
    await recordSkippedSlot(
      store,
      { schedule: schedule.name, backup: name, slot: slot.toISOString(), cluster: schedule.cluster, reasons },
      deps.clock,
    );
    logger.warn('a scheduled backup was skipped: readiness findings block it (schedule readiness: block)', {
      schedule: schedule.name,
      backup: name,
      cluster: schedule.cluster,
      reasons,
    });
    return { blocked: true, reasons };
  };
}
