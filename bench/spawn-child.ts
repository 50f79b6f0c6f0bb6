import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { RESULT_PREFIX } from './child-common';
import { lambdaHeapFlags } from './lambda-heap';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(benchDir);
/** Set BENCH_NODE_DEFAULTS=1 to run the children with Node's own heap sizes instead. */
const heapFlags = process.env.BENCH_NODE_DEFAULTS === '1' ? [] : lambdaHeapFlags(repoRoot).flags;

/** The V8 flags every child gets. */
export function childHeapFlags(): string[] {
  return heapFlags;
}

/**
 * Runs bench/<script> in a fresh Node process with `args` and returns its answer.
 * The child times itself, so process start and module loading are not in its numbers.
 * It runs with the heap flags Lambda gives the backupRunner function (lambda-heap.ts).
 */
export function runInChild<T>(script: string, args: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...heapFlags, '--import', 'tsx', join(benchDir, script)], {
      cwd: repoRoot,
      env: { ...process.env, BENCH_ARGS: JSON.stringify(args), SKIFF_LOG_LEVEL: process.env.SKIFF_LOG_LEVEL ?? 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code === 0 && line) {
        resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
        return;
      }
      const tail = stderr.trimEnd().split('\n').slice(-30).join('\n');
      reject(new Error(`bench/${script} exited with ${code}:\n${tail}`));
    });
  });
}
