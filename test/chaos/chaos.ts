import { join } from 'node:path';
import { Gate } from './gate';
import { bundleJobEntry } from './jobs';
import { FAULT_KINDS, Lifecycle, type ChaosEnv, type FaultKind, type LifecycleReport, type Violation } from './lifecycle';
import { Prng } from './prng';
import { startChaosProxies, type ChaosProxies } from './proxies';
import { SimulatorFaults } from './simulator-faults';

/** What a chaos run did: counts per fault kind and kill point, every violation with its seed. */
export interface ChaosReport {
  seed: number;
  /** Lifecycles run side by side on the bed. */
  lanes: number;
  /** The commit the run was made with (a resumed run must be on the same one). */
  commit?: string;
  lifecycles: number;
  /** Lifecycles that ended with an error of the harness or the bed (not a violation, but not checked to the end). */
  failedLifecycles: number;
  steps: number;
  invocations: number;
  faults: Record<FaultKind, number>;
  killPoints: Record<string, number>;
  missedKills: number;
  /** What the harness did by hand for faults of the bed's own components (LifecycleReport.interventions). */
  interventions?: number;
  violations: Violation[];
  durationMs: number;
  /** Each lifecycle, by its index in the run (the n-th seed drawn from `seed`). */
  runs: (LifecycleReport & { index: number })[];
}

/** The run's environment: what ChaosEnv holds except what runChaos makes per lane. */
export type ChaosOptions = Omit<ChaosEnv, 's3Proxy' | 'kubeProxies' | 'gate' | 'simulator'> & {
  /** Lifecycles run side by side (default 1). */
  lanes?: number;
  commit?: string;
  /** A report of the same seed to go on from: its lifecycles are not run again. */
  previous?: ChaosReport;
  /** Run the lifecycle of this seed (as printed with it) `runs` times, instead of drawing from `seed`. */
  lifecycleSeed?: number;
};

export function emptyReport(seed: number, lanes: number, commit?: string): ChaosReport {
  return {
    seed,
    lanes,
    ...(commit ? { commit } : {}),
    lifecycles: 0,
    failedLifecycles: 0,
    steps: 0,
    invocations: 0,
    faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    killPoints: {},
    missedKills: 0,
    interventions: 0,
    violations: [],
    durationMs: 0,
    runs: [],
  };
}

function add(report: ChaosReport, run: LifecycleReport & { index: number }): void {
  report.runs.push(run);
  report.lifecycles += 1;
  if (run.error) report.failedLifecycles += 1;
  report.steps += run.steps.length;
  report.invocations += run.invocations;
  for (const [kind, n] of Object.entries(run.faults)) report.faults[kind as FaultKind] = (report.faults[kind as FaultKind] ?? 0) + n;
  for (const [point, n] of Object.entries(run.killPoints)) report.killPoints[point] = (report.killPoints[point] ?? 0) + n;
  report.missedKills += run.missedKills;
  report.interventions = (report.interventions ?? 0) + (run.interventions?.length ?? 0);
  report.violations.push(...run.violations);
}

/**
 * Runs `runs` lifecycles, each from its own seed drawn in order from `seed` (printed
 * with it), so the same seed gives the same lifecycles and one lifecycle replays alone
 * from its own seed. With several lanes, lifecycles run side by side, each lane with
 * its own fault proxies; restarts of shared components run alone (Gate). Lanes take the
 * lifecycles in order and start none after `deadlineMs` (epoch ms), so the lifecycles
 * run are always the first ones: a later run with `previous` goes on from there.
 * `onProgress` gets the report so far after each lifecycle.
 */
export async function runChaos(options: ChaosOptions, seed: number, runs: number, deadlineMs = Infinity, onProgress?: (report: ChaosReport) => void): Promise<ChaosReport> {
  const started = Date.now();
  const lanes = Math.max(1, options.lanes ?? 1);
  const report = options.previous ?? emptyReport(seed, lanes, options.commit);
  const priorMs = report.durationMs;
  const done = new Set(report.runs.map((r) => r.index));
  await bundleJobEntry(join(options.configDir, 'bundle'));
  const root = new Prng(seed);
  const seeds = Array.from({ length: runs }, () => (options.lifecycleSeed !== undefined ? new Prng(options.lifecycleSeed) : root.fork()));
  const gate = new Gate();
  const simulator = SimulatorFaults.forBed(options.state);
  let next = 0;
  const lane = async (proxies: ChaosProxies) => {
    const env: ChaosEnv = { ...options, s3Proxy: proxies.s3, kubeProxies: proxies.kube, gate, simulator };
    for (;;) {
      while (next < runs && done.has(next)) next += 1;
      if (next >= runs || Date.now() >= deadlineMs) return;
      const index = next++;
      const rng = seeds[index]!;
      options.log(`lifecycle ${index + 1}/${runs} (seed ${rng.seed}) started`);
      const run = await new Lifecycle(env, rng, index).run();
      options.log(`lifecycle ${index + 1}/${runs} (seed ${rng.seed}):\n  ${run.steps.join('\n  ')}\n  ${(run.interventions ?? []).map((i) => `by hand: ${i}\n  `).join('')}${run.violations.length} violation(s), ${(run.durationMs / 1000).toFixed(0)} s`);
      add(report, { ...run, index });
      report.durationMs = priorMs + Date.now() - started;
      onProgress?.(report);
    }
  };
  const proxies = await Promise.all(Array.from({ length: lanes }, () => startChaosProxies(options.state)));
  try {
    await Promise.all(proxies.map(lane));
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
  }
  const left = runs - report.lifecycles;
  if (left > 0) options.log(`time is up: ${left} lifecycle(s) not run (go on with CHAOS_RESUME=1)`);
  report.runs.sort((a, b) => a.index - b.index);
  report.durationMs = priorMs + Date.now() - started;
  return report;
}
