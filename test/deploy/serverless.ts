import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../bed/paths';

/** How a `serverless` command ended: its exit code (null when killed) and stdout and stderr together. */
export interface ServerlessRun {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/**
 * Runs the Serverless Framework of the repository (`node_modules/.bin/serverless <args>`)
 * in the service directory, as a deployer would, with none of the caller's SKIFF_CONFIG*
 * variables but those in `env`. A run that outlives `timeoutMs` is killed with its
 * process group, and says so.
 */
export function runServerless(args: string[], env: Record<string, string> = {}, timeoutMs = 240_000): Promise<ServerlessRun> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SKIFF_CONFIG')));
  const child = spawn(join(repoRoot, 'node_modules/.bin/serverless'), args, {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...inherited, SLS_TELEMETRY_DISABLED: '1', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}
