import { readFileSync } from 'node:fs';

/**
 * What the bench's child processes share: their arguments (one JSON document in
 * BENCH_ARGS) and how they answer (one line `BENCH_RESULT <json>` on stdout). Each
 * measurement runs in a process of its own so its peak memory is its own.
 */

export const RESULT_PREFIX = 'BENCH_RESULT ';

export function childArgs<T>(): T {
  const raw = process.env.BENCH_ARGS;
  if (!raw) throw new Error('BENCH_ARGS is not set: run this through bench/run.ts');
  return JSON.parse(raw) as T;
}

/** Peak resident set size of this process so far (VmHWM), in MiB. */
export function peakRssMb(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : process.memoryUsage().rss / 1024 ** 2;
}

export function answer(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

/** Runs a child's main and exits: 0 with its answer, 1 with the error on stderr. */
export function runChild(main: () => Promise<unknown>): void {
  main().then(
    (result) => {
      answer(result);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

/** A process.cpuUsage() difference in milliseconds, user and system together. */
export function cpuMillis(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}
