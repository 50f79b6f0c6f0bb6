import { loadConfig } from '../lib/config';
import type { ExpiryPlan } from '../lib/expiry/plan';
import { expiryServiceDeps, requestDeletion, runExpiry, type DeletionState, type ExpiryDeps, type ExpiryRunResult } from '../lib/expiry/service';
import type { CliFlags } from './args';
import { deletionStateText, planText, runText } from './expiry-format';

/**
 * `skiff backup delete` and `skiff gc`: loaded by bin/skiff.ts only for these commands,
 * with the S3 and Kubernetes clients the expiry service brings. Both work here, against
 * the storage locations and clusters of the configuration, like `skiff backup create`.
 */

/**
 * `skiff backup delete NAME [--confirm [--wait]]`. Without --confirm it prints what
 * would be deleted (the dry-run plan for that backup) and changes nothing, as `velero
 * backup delete` asks before deleting. With --confirm it records the deletion (phase
 * Deleting) and returns; the next expiry run of the location (the scheduler's, or `skiff
 * gc`) does the rest. --wait runs that deletion here, to the end or to what it waits on.
 *
 * Exit codes: 0 when the plan was shown, the deletion recorded or (with --wait) done;
 * 1 when --wait left the backup Deleting; errors as bin/skiff.ts says.
 */
export async function runDeleteCommand(name: string, flags: CliFlags): Promise<void> {
  const deps = expiryServiceDeps(loadConfig());
  const json = flags.output === 'json';
  if (!flags.confirm) {
    const answer = await requestDeletion(deps, name, { dryRun: true });
    if (json) return print(answer);
    if (!isPlan(answer)) return print(deletionStateText(answer, 'is already being deleted; nothing else would change'));
    print(planText(answer));
    console.error(`nothing was deleted; to delete backup "${name}", run again with --confirm`);
    return;
  }
  const state = (await requestDeletion(deps, name)) as DeletionState;
  if (!flags.wait) {
    if (json) return print(state);
    const said = state.accepted
      ? `request to delete backup "${name}" submitted; the next expiry run of storage location "${state.storageLocation}" deletes its snapshots and data (or add --wait to do it here)`
      : 'is already being deleted';
    return print(deletionStateText(state, said));
  }
  const result = await runExpiry(deps, { location: state.storageLocation, backup: name });
  print(json ? result : runText(result));
  if (!result.deleted.includes(name)) process.exitCode = 1;
}

/**
 * `skiff gc [--dry-run] [--location L]`: an expiry run of each configured storage
 * location (or of L) here, one after the other; with --dry-run the plan of each, and
 * nothing changes. Exit code 1 when an action of a real run failed.
 */
export async function runGcCommand(flags: CliFlags): Promise<void> {
  const deps: ExpiryDeps = expiryServiceDeps(loadConfig());
  const json = flags.output === 'json';
  const locations = flags.location ? [flags.location] : deps.config.storageLocations.map((l) => l.name);
  const results: ExpiryRunResult[] = [];
  for (const location of locations) {
    const result = await runExpiry(deps, { location, dryRun: flags['dry-run'] === true });
    results.push(result);
    if (!json) print(flags['dry-run'] ? planText(result.plan) : runText(result));
  }
  if (json) print(flags['dry-run'] ? results.map((r) => r.plan) : results);
  if (results.some((r) => r.log.some((e) => e.outcome === 'failed'))) process.exitCode = 1;
}

function isPlan(answer: DeletionState | ExpiryPlan): answer is ExpiryPlan {
  return 'actions' in answer;
}

function print(value: unknown): void {
  console.log(typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}
