/**
 * One invocation of a Skiff job in its own process, so the fault harness can SIGKILL
 * it at any point, as a Lambda invocation dies: `tsx test/chaos/job-entry.ts <job>
 * <config.json> <name-or-request-json>`. It calls the job's service as the function
 * does and prints the outcome as the last line of stdout (JSON).
 *
 * Environment: CHAOS_BUDGET_MS is the invocation's time limit (the runners pause before
 * it, and their lease lasts until it); CHAOS_NOW_OFFSET_MS moves the job's clock ahead
 * (the scheduler starting it later: after a dead run's lease, or after backups expired).
 */
import { readFileSync } from 'node:fs';
import { runBackup } from '../../lib/backup/run-backup';
import { backupRunnerDeps } from '../../lib/backup/runner-deps';
import { validateConfig } from '../../lib/config';
import type { Clock } from '../../lib/core/clock';
import { expiryServiceDeps, runExpiry } from '../../lib/expiry/service';
import { clusterConnector } from '../../lib/kube/connect';
import { runRestore } from '../../lib/restore/run-restore';
import { restoreRunnerDeps } from '../../lib/restore/runner-deps';
import { storeResolver } from '../../lib/store/resolver';
import { runSync } from '../../lib/sync/service';

const [job, configPath, arg] = process.argv.slice(2);
if (!job || !configPath || arg === undefined) {
  process.stderr.write('usage: job-entry.ts backup|restore|sync|expiry <config.json> <name | request JSON>\n');
  process.exit(2);
}

const offsetMs = Number(process.env.CHAOS_NOW_OFFSET_MS ?? 0);
const budgetMs = Number(process.env.CHAOS_BUDGET_MS ?? 60_000);
const started = Date.now();
const clock: Clock = { now: () => new Date(Date.now() + offsetMs), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
const remainingMs = () => budgetMs - (Date.now() - started);
const config = validateConfig(JSON.parse(readFileSync(configPath, 'utf8')), configPath);

async function main(): Promise<unknown> {
  switch (job) {
    case 'backup': {
      const deps = await backupRunnerDeps(config, remainingMs, arg!);
      return runBackup({ ...deps, now: clock.now, safetyMarginMs: Math.min(5_000, budgetMs / 4) }, arg!);
    }
    case 'restore': {
      const deps = await restoreRunnerDeps(config, remainingMs, arg!);
      return runRestore({ ...deps, clock, stopMarginMs: Math.min(5_000, budgetMs / 4) }, arg!);
    }
    case 'sync':
      return runSync({ config, storeFor: storeResolver(config), connect: clusterConnector(config), clock, waitTimeoutMs: 30_000 }, JSON.parse(arg!));
    case 'expiry': {
      const deadline = { remainingMs, stopMarginMs: Math.min(5_000, budgetMs / 4) };
      const result = await runExpiry({ ...expiryServiceDeps(config), clock, waitTimeoutMs: 30_000, deadline }, JSON.parse(arg!));
      return {
        deleted: result.deleted,
        unfinished: result.unfinished,
        failed: result.log.filter((e) => e.outcome === 'failed').map((e) => `${e.kind} ${e.object}: ${e.detail}`),
        // Why each backup was or was not deleted: the job log is at WARN level.
        verdicts: result.plan.backups.map((b) => `${b.backup}: ${b.verdict} (${b.why})${b.waitingOn.length ? `; waiting on ${b.waitingOn.join('; ')}` : ''}`),
      };
    }
    default:
      throw new Error(`unknown job ${job}`);
  }
}

main().then(
  (outcome) => {
    process.stdout.write(`\n${JSON.stringify({ ok: true, outcome })}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    const e = error as Error;
    process.stdout.write(`\n${JSON.stringify({ ok: false, error: `${e.name}: ${e.message}` })}\n`);
    process.exit(1);
  },
);
