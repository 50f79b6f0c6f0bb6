/**
 * `npm run chaos`: randomized lifecycles under faults on a test bed of its own, checked
 * against Skiff's data-safety invariants after every step (see README "Data safety").
 *
 *   CHAOS_SEED=<n>         replay: the same seed gives the same lifecycles and faults
 *   CHAOS_RUNS=<n>         lifecycles to run (default 4, a few minutes)
 *   CHAOS_FAULT_RATE=<p>   probability that a step runs under a fault (default 0.8)
 *   CHAOS_MINUTES=<m>      start no lifecycle after this many minutes (default: no limit)
 *   CHAOS_REPORT=<file>    where the JSON report goes (default .chaos/report-<seed>.json)
 *   SKIFF_BED_STATE=<file> use a running bed (`npm run bed:up`); MinIO and API server
 *                          restarts are then skipped, as only the bed's owner can restart them
 *
 * Exits 1 when any invariant was violated; every violation names its seed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startBed, type Bed } from '../bed/bed';
import { repoRoot } from '../bed/paths';
import { readBedState } from '../bed/state';
import { runChaos } from './chaos';
import { startChaosProxies } from './proxies';

const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);
const runs = Number(process.env.CHAOS_RUNS ?? 4);
const faultRate = Number(process.env.CHAOS_FAULT_RATE ?? 0.8);
const deadlineMs = process.env.CHAOS_MINUTES ? Date.now() + Number(process.env.CHAOS_MINUTES) * 60_000 : Infinity;
const reportPath = process.env.CHAOS_REPORT ?? join(repoRoot, '.chaos', `report-${seed}.json`);

async function bedToUse(): Promise<Bed> {
  const statePath = process.env.SKIFF_BED_STATE;
  if (!statePath) return startBed();
  const state = readBedState(statePath);
  return { state, statePath, workDir: state.workDir, stop: async () => undefined };
}

async function main(): Promise<number> {
  console.log(`chaos: seed ${seed}, ${runs} lifecycle(s), fault rate ${faultRate} (replay: CHAOS_SEED=${seed} CHAOS_RUNS=${runs} npm run chaos)`);
  const bed = await bedToUse();
  const proxies = await startChaosProxies(bed.state);
  try {
    const logDir = join(dirname(reportPath), `logs-${seed}`);
    const env = { state: bed.state, ...(bed.restart ? { restart: bed.restart } : {}), s3Proxy: proxies.s3, kubeProxies: proxies.kube, logDir, configDir: join(bed.workDir, 'chaos'), faultRate, log: (line: string) => console.log(line) };
    mkdirSync(dirname(reportPath), { recursive: true });
    // Written after every lifecycle, so an interrupted run still leaves its numbers.
    const save = (r: object) => writeFileSync(reportPath, `${JSON.stringify(r, null, 2)}\n`);
    const report = await runChaos(env, seed, runs, deadlineMs, save);
    save(report);
    console.log(`\nlifecycles: ${report.lifecycles} (${report.failedLifecycles} stopped by an error), steps: ${report.steps}, job invocations: ${report.invocations}`);
    console.log(`faults injected: ${JSON.stringify(report.faults)}`);
    console.log(`kill points hit: ${JSON.stringify(report.killPoints)} (missed: ${report.missedKills})`);
    console.log(`violations: ${report.violations.length}`);
    for (const v of report.violations) console.log(`  seed ${v.seed} ${v.step}: ${v.detail}`);
    console.log(`duration: ${(report.durationMs / 1000).toFixed(0)} s; report: ${reportPath}; job output: ${logDir}`);
    return report.violations.length > 0 || report.failedLifecycles > 0 ? 1 : 0;
  } finally {
    await proxies.close();
    await bed.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
