import { FAULT_KINDS, Lifecycle, type ChaosEnv, type FaultKind, type LifecycleReport, type Violation } from './lifecycle';
import { Prng } from './prng';

/** What a chaos run did: counts per fault kind and kill point, every violation with its seed. */
export interface ChaosReport {
  seed: number;
  lifecycles: number;
  /** Lifecycles that ended with an error of the harness or the bed (not a violation, but not checked to the end). */
  failedLifecycles: number;
  steps: number;
  invocations: number;
  faults: Record<FaultKind, number>;
  killPoints: Record<string, number>;
  missedKills: number;
  violations: Violation[];
  durationMs: number;
  runs: LifecycleReport[];
}

/**
 * Runs `runs` lifecycles one after another, each from its own seed drawn from `seed`
 * (printed with it), so the same seed replays the same run. No lifecycle starts after
 * `deadlineMs` (epoch ms); `onProgress` gets the report so far after each lifecycle.
 */
export async function runChaos(env: ChaosEnv, seed: number, runs: number, deadlineMs = Infinity, onProgress?: (report: ChaosReport) => void): Promise<ChaosReport> {
  const started = Date.now();
  const root = new Prng(seed);
  const report: ChaosReport = {
    seed,
    lifecycles: 0,
    failedLifecycles: 0,
    steps: 0,
    invocations: 0,
    faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    killPoints: {},
    missedKills: 0,
    violations: [],
    durationMs: 0,
    runs: [],
  };
  for (let i = 0; i < runs; i++) {
    const rng = root.fork();
    if (Date.now() >= deadlineMs) {
      env.log(`time is up: ${runs - i} lifecycle(s) not run`);
      break;
    }
    env.log(`lifecycle ${i + 1}/${runs} (seed ${rng.seed})`);
    const run = await new Lifecycle(env, rng).run();
    env.log(`  ${run.steps.join('\n  ')}\n  ${run.violations.length} violation(s), ${(run.durationMs / 1000).toFixed(0)} s`);
    report.runs.push(run);
    report.lifecycles += 1;
    if (run.error) report.failedLifecycles += 1;
    report.steps += run.steps.length;
    report.invocations += run.invocations;
    for (const [kind, n] of Object.entries(run.faults)) report.faults[kind as FaultKind] += n;
    for (const [point, n] of Object.entries(run.killPoints)) report.killPoints[point] = (report.killPoints[point] ?? 0) + n;
    report.missedKills += run.missedKills;
    report.violations.push(...run.violations);
    report.durationMs = Date.now() - started;
    onProgress?.(report);
  }
  report.durationMs = Date.now() - started;
  return report;
}
