import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { median, met, ms, ratio, type Row } from './table';

/** The goal for a start of the command line that does no work (`skiff --help`). */
export const CLI_START_GOAL_MS = 200;

export interface CliStartResult {
  spawns: number;
  /** Wall time of each `node -e 0`, ms: Node's own start on this machine, right now. */
  nodeMs: number[];
  /** Wall time of each `node bin/skiff.mjs --help`, ms, spawned alternately with the baseline. */
  helpMs: number[];
}

/**
 * How long `skiff --help` takes in a new process, next to `node -e 0` spawned
 * alternately with it, so both see the same machine load. The CLI is built first
 * (scripts/build-cli.mjs), so the bundle measured is that of the sources as they are.
 * One spawn of each comes first and is not counted: it reads the files into the page
 * cache. "Cold" here means a new process with nothing compiled or cached by Node.
 */
export function measureCliStart(repoRoot: string, spawns = Math.max(3, Number(process.env.BENCH_CLI_SPAWNS ?? 10))): CliStartResult {
  const build = spawnSync(process.execPath, [join(repoRoot, 'scripts/build-cli.mjs')], { cwd: repoRoot, stdio: ['ignore', 2, 2] });
  if (build.status !== 0) throw new Error('node scripts/build-cli.mjs failed; see its output above');
  const baseline = () => timeSpawn(['-e', '0'], repoRoot);
  const help = () => {
    const run = timeSpawn([join(repoRoot, 'bin/skiff.mjs'), '--help'], repoRoot);
    if (!run.stdout.startsWith('Usage: skiff')) throw new Error(`skiff --help printed no usage:\n${run.stdout}`);
    return run;
  };
  baseline();
  help();
  const result: CliStartResult = { spawns, nodeMs: [], helpMs: [] };
  for (let i = 0; i < spawns; i++) {
    result.nodeMs.push(baseline().ms);
    result.helpMs.push(help().ms);
  }
  return result;
}

function timeSpawn(args: string[], cwd: string): { ms: number; stdout: string } {
  const start = performance.now();
  const run = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const elapsed = performance.now() - start;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${run.status}:\n${run.stderr}`);
  return { ms: elapsed, stdout: run.stdout };
}

/** The bench table's row for the CLI's start. */
export function cliStartRows(result: CliStartResult): Row[] {
  const node = median(result.nodeMs);
  const help = median(result.helpMs);
  const added = median(result.helpMs.map((h, i) => h - result.nodeMs[i]!));
  return [
    {
      measurement: `\`skiff --help\` wall time, a new process each / \`node -e 0\` (median of ${result.spawns} alternating spawns; the CLI adds ${ms(added)} to Node's start)`,
      baseline: ms(node),
      skiff: ms(help),
      ratio: ratio(help / node),
      goal: `< ${CLI_START_GOAL_MS} ms`,
      met: met(help < CLI_START_GOAL_MS),
    },
  ];
}
