import type { ActionLogEntry } from '../lib/expiry/execute';
import type { ExpiryAction, ExpiryPlan } from '../lib/expiry/plan';
import type { DeletionState, ExpiryRunResult } from '../lib/expiry/service';
import { table } from './format';

/**
 * An expiry plan for people: the actions in the order a run takes them (backup,
 * cluster, object, action, why), then every backup's verdict and why, then the
 * clusters that could not be read and the warnings.
 */
export function planText(plan: ExpiryPlan): string {
  const head = `Storage location "${plan.location}" at ${plan.at}${plan.dryRun ? ' (dry run: nothing changes)' : ''}`;
  const actions = plan.actions.length === 0 ? 'No actions.' : table([['BACKUP', 'CLUSTER', 'OBJECT', 'ACTION', 'WHY'], ...plan.actions.map(actionRow)]);
  return [head, '', actions, '', ...verdictLines(plan), ...problemLines(plan)].join('\n').trimEnd();
}

/** A real run for people: each action with its outcome, then what was deleted and what waits. */
export function runText(result: ExpiryRunResult): string {
  const { plan, log } = result;
  const head = `Storage location "${plan.location}" at ${plan.at}`;
  const actions = log.length === 0 ? 'No actions.' : table([['BACKUP', 'CLUSTER', 'OBJECT', 'ACTION', 'OUTCOME', 'WHY'], ...log.map(logRow)]);
  const waiting = plan.backups.filter((b) => result.unfinished.includes(b.backup));
  return [
    head,
    '',
    actions,
    '',
    `Deleted: ${result.deleted.join(', ') || '<none>'}`,
    ...waiting.map((b) => `Still Deleting: ${b.backup}: ${b.waitingOn.join('; ') || b.why}`),
    ...problemLines(plan),
  ].join('\n');
}

/** One backup being deleted: its phase, why, since when, and what it waits on. */
export function deletionStateText(state: DeletionState, said: string): string {
  return [
    `Backup "${state.backup}" ${said}.`,
    `Phase:        ${state.phase}`,
    `Storage Location: ${state.storageLocation}`,
    `Reason:       ${state.why}`,
    `Since:        ${state.since}`,
    `Waiting on:   ${state.waitingOn.join('; ') || '<nothing>'}`,
  ].join('\n');
}

function actionRow(a: ExpiryAction): string[] {
  return [a.backup, a.cluster ?? '-', a.object, a.kind, a.why];
}

function logRow(e: ActionLogEntry): string[] {
  return [e.backup, e.cluster ?? '-', e.object, e.kind, e.outcome, e.detail ?? e.why];
}

function verdictLines(plan: ExpiryPlan): string[] {
  if (plan.backups.length === 0) return ['No backups.'];
  const rows = plan.backups.map((b) => [b.backup, b.verdict, [b.why, ...b.waitingOn].join('; ')]);
  return [table([['BACKUP', 'VERDICT', 'WHY'], ...rows])];
}

function problemLines(plan: ExpiryPlan): string[] {
  const unreachable = plan.clusters.filter((c) => !c.reachable).map((c) => `Cluster ${c.cluster} could not be read: ${c.problem ?? 'unknown'}`);
  const lines = [...unreachable, ...plan.warnings.map((w) => `Warning: ${w}`)];
  return lines.length > 0 ? ['', ...lines] : [];
}
