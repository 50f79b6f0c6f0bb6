import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { median, met, ms, ratio, type Row } from './table';
import { CLI_START_GOAL_MS } from './cli-start';

export interface CliClientResult {
  spawns: number;
  backups: number;
  /** Wall time of each `node -e 0`, ms. */
  nodeMs: number[];
  /** Wall time of each `skiff backup get` in client mode, ms, spawned alternately with the baseline. */
  getMs: number[];
}

/**
 * `skiff backup get` in client mode (SKIFF_SERVER, SKIFF_TOKEN) in a new process each
 * time, next to `node -e 0`, against an HTTP server in this process that answers
 * GET /backups with `backups` finished backups at once: what is measured is the CLI's
 * start, one request and the table, not a server. Expects a built CLI (cli-start.ts
 * builds it).
 */
export async function measureCliClient(repoRoot: string, spawns = Math.max(3, Number(process.env.BENCH_CLI_SPAWNS ?? 10)), backups = 50): Promise<CliClientResult> {
  const body = JSON.stringify({ items: Array.from({ length: backups }, (_, i) => backupOf(i)), unreadable: [] });
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/backups' && req.headers.authorization === 'Bearer bench') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } else res.writeHead(404).end('{}');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env = { ...process.env, SKIFF_SERVER: url, SKIFF_TOKEN: 'bench', SKIFF_CONFIG: '', SKIFF_CONFIG_FILE: '' };
  try {
    const baseline = () => timeSpawn(['-e', '0'], repoRoot, env);
    const get = async () => {
      const run = await timeSpawn([join(repoRoot, 'bin/skiff.mjs'), 'backup', 'get'], repoRoot, env);
      if (!run.stdout.startsWith('NAME') || run.stdout.split('\n').length < backups + 1) throw new Error(`skiff backup get printed no table:\n${run.stdout}`);
      return run;
    };
    await baseline();
    await get();
    const result: CliClientResult = { spawns, backups, nodeMs: [], getMs: [] };
    for (let i = 0; i < spawns; i++) {
      result.nodeMs.push((await baseline()).ms);
      result.getMs.push((await get()).ms);
    }
    return result;
  } finally {
    server.close();
  }
}

function backupOf(i: number) {
  const start = new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name: `nightly-${String(20260101000000 + i * 10000)}`, namespace: 'velero', labels: { 'skiff.io/cluster': 'prod' } },
    spec: { storageLocation: 'default', ttl: '720h0m0s', labelSelector: { matchLabels: { app: 'shop' } } },
    status: { phase: 'Completed', startTimestamp: start, expiration: start, errors: 0, warnings: 0 },
  };
}

function timeSpawn(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; stdout: string }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const elapsed = performance.now() - start;
      if (code !== 0) reject(new Error(`node ${args.join(' ')} exited with ${code}:\n${stderr}`));
      else resolve({ ms: elapsed, stdout });
    });
  });
}

/** The bench table's row for `skiff backup get` in client mode. */
export function cliClientRows(result: CliClientResult): Row[] {
  const node = median(result.nodeMs);
  const get = median(result.getMs);
  const added = median(result.getMs.map((g, i) => g - result.nodeMs[i]!));
  return [
    {
      measurement: `\`skiff backup get\` in client mode (${result.backups} backups from a local HTTP answer), a new process each / \`node -e 0\` (median of ${result.spawns}; the CLI adds ${ms(added)})`,
      baseline: ms(node),
      skiff: ms(get),
      ratio: ratio(get / node),
      goal: `< ${CLI_START_GOAL_MS} ms`,
      met: met(get < CLI_START_GOAL_MS),
    },
  ];
}
