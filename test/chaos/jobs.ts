import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { BackupProgressRecord } from '../../lib/backup/progress-record';
import type { BackupStore } from '../../lib/store/backup-store';
import { repoRoot } from '../bed/paths';

/**
 * Job invocations in child processes, killed with SIGKILL at a chosen point, and the
 * scheduler's part: starting the next invocation after a dead one (the backup runner
 * once the dead run's lease is over, the next sync or expiry run).
 */

export type Job = 'backup' | 'restore' | 'sync' | 'expiry';

/**
 * Where to kill an invocation: a step of the job seen from outside (`reached` is polled
 * while the job runs) or a delay after its start.
 */
export type KillPoint = { name: string; reached: () => Promise<boolean> } | { name: string; afterMs: number };

export interface InvocationResult {
  job: Job;
  /** The outcome the job printed (its service's answer), when it ended by itself. */
  outcome?: unknown;
  /** The error it ended with, when it failed. */
  error?: string;
  /** The kill point at which it was killed; undefined when it ended by itself. */
  killedAt?: string;
  /** Killed because it ran past its budget by a minute: a hung job. */
  hung?: boolean;
  durationMs: number;
}

export interface InvokeOptions {
  /** The invocation's time limit (the function's timeout). */
  budgetMs: number;
  /** How far ahead of the wall clock the job's clock runs. */
  offsetMs?: number;
  kill?: KillPoint;
  /** Folder for the job's output. */
  logDir: string;
}

const entry = join(repoRoot, 'test/chaos/job-entry.ts');
let sequence = 0;
/** The job entry bundled once per harness process (see bundleJobEntry); tsx until then. */
let bundled: string | undefined;

/**
 * Bundles the job entry into one ESM file (as the functions are packaged, serverless.yml
 * custom.esbuild), so each invocation starts in ~0.3 s instead of the ~1.3 s tsx takes
 * to load the TypeScript sources: a thousand lifecycles make ~8,000 invocations.
 * Returns the bundle's path.
 */
export async function bundleJobEntry(outDir: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'job-entry.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    keepNames: true,
    logLevel: 'warning',
    banner: { js: "import { createRequire as __chaosCreateRequire } from 'module'; const require = __chaosCreateRequire(import.meta.url);" },
  });
  bundled = outfile;
  return outfile;
}

/** Runs one invocation of `job` in a child process; resolves when it ended or was killed. */
export async function invoke(job: Job, configPath: string, arg: string, options: InvokeOptions): Promise<InvocationResult> {
  const logFile = join(options.logDir, `${String(++sequence).padStart(4, '0')}-${job}.log`);
  const out = openSync(logFile, 'a');
  const started = Date.now();
  const args = bundled ? [bundled, job, configPath, arg] : ['--import', 'tsx', entry, job, configPath, arg];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, CHAOS_BUDGET_MS: String(options.budgetMs), CHAOS_NOW_OFFSET_MS: String(options.offsetMs ?? 0), POWERTOOLS_LOG_LEVEL: 'WARN' },
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const killNow = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  let killedAt: string | undefined;
  let hung = false;
  const hangTimer = setTimeout(() => ((hung = true), killNow()), options.budgetMs + 60_000);
  const kill = options.kill;
  if (kill && 'afterMs' in kill) {
    const timer = setTimeout(() => ((killedAt = kill.name), killNow()), kill.afterMs);
    await exit;
    clearTimeout(timer);
  } else if (kill) {
    while (!exited) {
      if (await kill.reached().catch(() => false)) {
        if (!exited) {
          killedAt = kill.name;
          killNow();
        }
        break;
      }
      await Promise.race([exit, new Promise((r) => setTimeout(r, 100))]);
    }
    await exit;
  } else {
    await exit;
  }
  clearTimeout(hangTimer);
  const result: InvocationResult = { job, durationMs: Date.now() - started, ...(killedAt && !hung ? { killedAt } : {}), ...(hung ? { hung } : {}) };
  if (killedAt || hung) return result;
  const last = readFileSync(logFile, 'utf8').trimEnd().split('\n').at(-1) ?? '';
  try {
    const parsed = JSON.parse(last) as { ok: boolean; outcome?: unknown; error?: string };
    return parsed.ok ? { ...result, outcome: parsed.outcome } : { ...result, error: parsed.error ?? 'failed' };
  } catch {
    return { ...result, error: `no outcome printed (see ${logFile})` };
  }
}

/** The backup's progress record as the store holds it (undefined once the backup is done). */
export async function progressOf(store: BackupStore, name: string): Promise<BackupProgressRecord | undefined> {
  return (await store.getProgress(name))?.record as BackupProgressRecord | undefined;
}

/**
 * How far ahead a runner's clock must be for the next invocation to find the lease of
 * a dead one over, as the reconcile schedule finds it (lib/backup/reconcile.ts isStalled).
 */
export function offsetPastLease(record: BackupProgressRecord | undefined, currentOffsetMs: number): number {
  if (!record?.lease) return currentOffsetMs;
  return Math.max(currentOffsetMs, Date.parse(record.lease.until) - Date.now() + 1_000);
}
