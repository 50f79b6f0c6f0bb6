import type { ExpiryPlan } from '../lib/expiry/plan';
import type { DeletionState, ExpiryRunResult } from '../lib/expiry/service';
import type { CliFlags } from './args';
import { deletionStateText, planText, runText } from './expiry-format';
import type { Mode } from './mode';
import type { ApiClient } from './client/api-client';

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
export async function runDeleteCommand(mode: Mode, name: string, flags: CliFlags): Promise<void> {
  const json = flags.output === 'json';
  const deletion = await deletionSource(mode);
  if (!flags.confirm) {
    const answer = await deletion.request(name, true);
    if (json) return print(answer);
    if (!isPlan(answer)) return print(deletionStateText(answer, 'is already being deleted; nothing else would change'));
    print(planText(answer));
    console.error(`nothing was deleted; to delete backup "${name}", run again with --confirm`);
    return;
  }
  const state = (await deletion.request(name, false)) as DeletionState;
  if (!flags.wait) {
    if (json) return print(state);
    const said = state.accepted
      ? `request to delete backup "${name}" submitted; the next expiry run of storage location "${state.storageLocation}" deletes its snapshots and data (or add --wait to do it here)`
      : 'is already being deleted';
    return print(deletionStateText(state, said));
  }
  if (mode.kind === 'client') {
    // The deployed Skiff runs the deletion (its expiry run); waiting here is waiting for the backup to be gone.
    await deletion.waitGone(name);
    return print(json ? { deleted: [name] } : `Deleted: ${name}`);
  }
  const { expiryServiceDeps, runExpiry } = await import('../lib/expiry/service');
  const { loadConfig } = await import('../lib/config');
  const result = await runExpiry(expiryServiceDeps(loadConfig()), { location: state.storageLocation, backup: name });
  print(json ? result : runText(result));
  if (!result.deleted.includes(name)) process.exitCode = 1;
}

/** DELETE /backups/{name}[?dryRun=true] in client mode; the expiry service here in local mode. */
async function deletionSource(mode: Mode): Promise<{ request: (name: string, dryRun: boolean) => Promise<DeletionState | ExpiryPlan>; waitGone: (name: string) => Promise<void> }> {
  if (mode.kind === 'client') {
    const path = (name: string) => `/backups/${encodeURIComponent(name)}`;
    return {
      request: (name, dryRun) => mode.api.json('DELETE', `${path(name)}${dryRun ? '?dryRun=true' : ''}`),
      async waitGone(name) {
        for (;;) {
          try {
            await mode.api.json('GET', path(name));
          } catch (error) {
            if ((error as { status?: number }).status === 404) return;
            throw error;
          }
          await new Promise((r) => setTimeout(r, 2000));
        }
      },
    };
  }
  const [{ loadConfig }, { expiryServiceDeps, requestDeletion }] = await Promise.all([import('../lib/config'), import('../lib/expiry/service')]);
  const deps = expiryServiceDeps(loadConfig());
  return { request: (name, dryRun) => requestDeletion(deps, name, dryRun ? { dryRun: true } : {}), waitGone: async () => undefined };
}

/**
 * `skiff gc` of a client: POST /gc. A dry run prints the same plans as a local one; a
 * real run is started by the deployed Skiff (one asynchronous expiry run per location,
 * each may take its 15 minutes), so the answer names the runs started.
 */
async function gcThroughApi(api: ApiClient, flags: CliFlags): Promise<void> {
  const body = { ...(flags.location ? { location: flags.location } : {}), dryRun: flags.dryRun === true };
  const json = flags.output === 'json';
  if (flags.dryRun) {
    const { plans } = await api.json<{ plans: ExpiryRunResult['plan'][] }>('POST', '/gc', body);
    return json ? print(plans) : plans.forEach((plan) => print(planText(plan)));
  }
  const answer = await api.json<{ started: string[] }>('POST', '/gc', body);
  if (json) return print(answer);
  print(`expiry runs started for storage location${answer.started.length === 1 ? '' : 's'} ${answer.started.join(', ')}; \`skiff backup get\` shows the backups being deleted (phase Deleting) until they are gone`);
}

/**
 * `skiff gc [--dry-run] [--location L]`: an expiry run of each configured storage
 * location (or of L) here, one after the other; with --dry-run the plan of each, and
 * nothing changes. Exit code 1 when an action of a real run failed.
 */
export async function runGcCommand(mode: Mode, flags: CliFlags): Promise<void> {
  if (mode.kind === 'client') return gcThroughApi(mode.api, flags);
  const [{ loadConfig }, { expiryServiceDeps, runExpiry }] = await Promise.all([import('../lib/config'), import('../lib/expiry/service')]);
  const deps = expiryServiceDeps(loadConfig());
  const json = flags.output === 'json';
  const locations = flags.location ? [flags.location] : deps.config.storageLocations.map((l) => l.name);
  const results: ExpiryRunResult[] = [];
  for (const location of locations) {
    const result = await runExpiry(deps, { location, dryRun: flags.dryRun === true });
    results.push(result);
    if (!json) print(flags.dryRun ? planText(result.plan) : runText(result));
  }
  if (json) print(flags.dryRun ? results.map((r) => r.plan) : results);
  if (results.some((r) => r.log.some((e) => e.outcome === 'failed'))) process.exitCode = 1;
}

function isPlan(answer: DeletionState | ExpiryPlan): answer is ExpiryPlan {
  return 'actions' in answer;
}

function print(value: unknown): void {
  console.log(typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}
