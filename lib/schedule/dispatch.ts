import { ConflictError } from '../core/errors';
import type { ScheduleConfig } from '../config';
import { defaultBackupName } from '../velero/names';
import { parseCron } from './cron';
import { dueSlots } from './due-slots';

/** How a scheduled backup is recorded: named after the schedule's slot. */
export interface ScheduledBackupOptions {
  schedule: { name: string; slot: Date };
  /** The template's labels, as Velero gives them to a scheduled backup. */
  labels: Record<string, string>;
}

/** Whether a readiness check lets a slot start; `reasons` say what blocks it. */
export type ReadinessGateAnswer = { blocked: false } | { blocked: true; reasons: string[] };

/**
 * Asked before a slot's backup is created. It decides per the schedule's `readiness`
 * setting, and answers a slot it blocked once the same way ever after: a skipped slot
 * stays skipped, and the schedule resumes at its first slot after the finding is gone.
 */
export type ReadinessGate = (schedule: ScheduleConfig, slot: { name: string; slot: Date }) => Promise<ReadinessGateAnswer>;

/** What dispatchSchedules needs; the side effects are injected so the decisions stay testable. */
export interface DispatchDeps {
  schedules: readonly ScheduleConfig[];
  /** Records a new backup; throws ConflictError when its name exists (lib/backup/service.ts). */
  createBackup: (request: unknown, options: ScheduledBackupOptions) => Promise<{ name: string }>;
  /** Starts running a recorded backup (e.g. invokes the runner function asynchronously). */
  startRun: (name: string) => Promise<void>;
  lookbackMinutes?: number;
  /** Without one, every due slot starts. */
  readinessGate?: ReadinessGate;
}

/** A slot (or a whole schedule) that could not be started, and why. */
export interface DispatchFailure {
  schedule: string;
  /** The backup the slot maps to; absent when the schedule itself could not be evaluated. */
  name?: string;
  error: string;
}

/** What one dispatch did, for the log. */
export interface DispatchReport {
  /** Backups recorded and started by this dispatch. */
  created: string[];
  /** Backups of due slots that already existed: an earlier tick (or a retry) made them. */
  skipped: string[];
  failed: DispatchFailure[];
  /** Slots not started because a readiness check blocked them; absent when none was. */
  blocked?: { schedule: string; name: string; reasons: string[] }[];
}

/**
 * Starts the backups every non-paused schedule owes at `now`: one per due slot, named
 * `<schedule>-<yyyyMMddHHmmss>` after the slot in UTC. Firing a slot again is harmless
 * because the store creates each name once (ConflictError = already done). A failing
 * schedule or slot is reported and does not stop the others.
 */
export async function dispatchSchedules(deps: DispatchDeps, now: Date): Promise<DispatchReport> {
  const reports = await Promise.all(
    deps.schedules.filter((schedule) => !schedule.paused).map((schedule) => dispatchOne(deps, schedule, now)),
  );
  const blocked = reports.flatMap((r) => r.blocked ?? []);
  return {
    created: reports.flatMap((r) => r.created),
    skipped: reports.flatMap((r) => r.skipped),
    failed: reports.flatMap((r) => r.failed),
    ...(blocked.length > 0 ? { blocked } : {}),
  };
}

async function dispatchOne(deps: DispatchDeps, schedule: ScheduleConfig, now: Date): Promise<DispatchReport> {
  const report: DispatchReport = { created: [], skipped: [], failed: [] };
  let slots: Date[];
  try {
    slots = dueSlots(parseCron(schedule.schedule, schedule.timeZone), now, deps.lookbackMinutes);
  } catch (error) {
    report.failed.push({ schedule: schedule.name, error: messageOf(error) });
    return report;
  }
  const request = { cluster: schedule.cluster, ...schedule.template, ...(schedule.ttl ? { ttl: schedule.ttl } : {}) };
  // Velero gives a scheduled backup the labels of its template (Backup builder FromSchedule).
  const labels = schedule.template.metadata?.labels ?? {};
  // Slots in order, one at a time: the oldest owed backup is recorded first.
  for (const slot of slots) {
    const name = defaultBackupName(schedule.name, slot);
    if (deps.readinessGate) {
      let gate: ReadinessGateAnswer;
      try {
        gate = await deps.readinessGate(schedule, { name, slot });
      } catch (error) {
        report.failed.push({ schedule: schedule.name, name, error: `the readiness gate failed: ${messageOf(error)}` });
        continue;
      }
      if (gate.blocked) {
        (report.blocked ??= []).push({ schedule: schedule.name, name, reasons: gate.reasons });
        continue;
      }
    }
    let created: { name: string };
    try {
      created = await deps.createBackup(request, { schedule: { name: schedule.name, slot }, labels });
    } catch (error) {
      if (error instanceof ConflictError) report.skipped.push(name);
      else report.failed.push({ schedule: schedule.name, name, error: messageOf(error) });
      continue;
    }
    try {
      await deps.startRun(created.name);
      report.created.push(created.name);
    } catch (error) {
      report.failed.push({
        schedule: schedule.name,
        name: created.name,
        error: `recorded, but its run could not be started: ${messageOf(error)}`,
      });
    }
  }
  return report;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
