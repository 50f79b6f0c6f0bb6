/**
 * `npm run chaos`: randomized lifecycles under faults on a test bed of its own, checked
 * against Skiff's data-safety invariants after every step (see README "Data safety").
 *
 *   CHAOS_SEED=<n>         replay: the same seed gives the same lifecycles and faults
 *   CHAOS_RUNS=<n>         lifecycles to run (default 4, a few minutes)
 *   CHAOS_FAULT_RATE=<p>   probability that a step runs under a fault (default 0.8)
 *   CHAOS_LANES=<n>        lifecycles run side by side on the bed (default 3; 1 for a
 *                          replay with nothing else going on)
 *   CHAOS_MINUTES=<m>      start no lifecycle after this many minutes (default: no limit)
 *   CHAOS_LIFECYCLE=<n>    replay one lifecycle by the seed printed with it (CHAOS_RUNS times)
 *   CHAOS_RESUME=1         go on with the run of the same seed whose report is at
 *                          CHAOS_REPORT: its lifecycles are kept, the rest are run
 *   CHAOS_REPORT=<file>    where the JSON report goes (default .chaos/report-<seed>.json)
 *   SKIFF_BED_STATE=<file> use a running bed (`npm run bed:up`); MinIO and API server
 *                          restarts are then skipped, as only the bed's owner can restart them
 *
 * Exits 1 when any invariant was violated; every violation names its seed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startBed, type Bed } from '../bed/bed';
import { repoRoot } from '../bed/paths';
import { readBedState } from '../bed/state';
import { runChaos, type ChaosReport } from './chaos';

const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);
const runs = Number(process.env.CHAOS_RUNS ?? 4);
const faultRate = Number(process.env.CHAOS_FAULT_RATE ?? 0.8);
const lanes = Number(process.env.CHAOS_LANES ?? 3);
const lifecycleSeed = process.env.CHAOS_LIFECYCLE ? Number(process.env.CHAOS_LIFECYCLE) : undefined;
const deadlineMs = process.env.CHAOS_MINUTES ? Date.now() + Number(process.env.CHAOS_MINUTES) * 60_000 : Infinity;
const reportPath = process.env.CHAOS_REPORT ?? join(repoRoot, '.chaos', `report-${seed}.json`);

async function bedToUse(): Promise<Bed> {
  const statePath = process.env.SKIFF_BED_STATE;
  if (!statePath) return startBed();
  const state = readBedState(statePath);
  return { state, statePath, workDir: state.workDir, stop: async () => undefined };
}

function currentCommit(): string | undefined {
  try {
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    return `${execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()}${dirty ? '+changes' : ''}`;
  } catch {
    return undefined;
  }
}

/** The report to go on from (CHAOS_RESUME=1): same seed, same commit, or the run would mix two versions. */
function previousReport(commit: string | undefined): ChaosReport | undefined {
  if (process.env.CHAOS_RESUME !== '1' || !existsSync(reportPath)) return undefined;
  const previous = JSON.parse(readFileSync(reportPath, 'utf8')) as ChaosReport;
  if (previous.seed !== seed) throw new Error(`CHAOS_RESUME: ${reportPath} is a run of seed ${previous.seed}, not ${seed}`);
  if (previous.commit !== commit) throw new Error(`CHAOS_RESUME: ${reportPath} was made at commit ${previous.commit}, this is ${commit}`);
  return previous;
}

async function main(): Promise<number> {
  const commit = currentCommit();
  const previous = previousReport(commit);
  console.log(`chaos: seed ${seed}, ${runs} lifecycle(s), ${lanes} lane(s), fault rate ${faultRate}${previous ? `, going on after ${previous.lifecycles}` : ''} (replay: CHAOS_SEED=${seed} CHAOS_RUNS=${runs} npm run chaos)`);
  const bed = await bedToUse();
  try {
    const logDir = join(dirname(reportPath), `logs-${seed}`);
    const options = { state: bed.state, ...(bed.restart ? { restart: bed.restart } : {}), logDir, configDir: join(bed.workDir, 'chaos'), faultRate, lanes, ...(commit ? { commit } : {}), ...(previous ? { previous } : {}), ...(lifecycleSeed !== undefined ? { lifecycleSeed } : {}), log: (line: string) => console.log(line) };
    mkdirSync(dirname(reportPath), { recursive: true });
    // Written after every lifecycle, so an interrupted run still leaves its numbers.
    const save = (r: object) => writeFileSync(reportPath, `${JSON.stringify(r, null, 2)}\n`);
    const report = await runChaos(options, seed, runs, deadlineMs, save);
    save(report);
    console.log(`\nlifecycles: ${report.lifecycles} of ${runs} (${report.failedLifecycles} stopped by an error), steps: ${report.steps}, job invocations: ${report.invocations}`);
    console.log(`faults injected: ${JSON.stringify(report.faults)}`);
    console.log(`kill points hit: ${JSON.stringify(report.killPoints)} (missed: ${report.missedKills})`);
    console.log(`done by hand (faults of the bed's own components): ${report.interventions ?? 0}`);
    for (const run of report.runs) for (const i of run.interventions ?? []) console.log(`  seed ${run.seed} ${i}`);
    console.log(`violations: ${report.violations.length}`);
    for (const v of report.violations) console.log(`  seed ${v.seed} ${v.step}: ${v.detail}`);
    console.log(`duration: ${(report.durationMs / 1000).toFixed(0)} s; report: ${reportPath}; job output: ${logDir}`);
    return report.violations.length > 0 || report.failedLifecycles > 0 ? 1 : 0;
  } finally {
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
