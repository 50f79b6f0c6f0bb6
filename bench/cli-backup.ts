import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bed } from '../test/bed/bed';
import { skiffConfigForBed } from '../test/bed/skiff-config';
import type { BackupOnceArgs, BackupOnceResult } from './backup-once';
import { runInChild } from './spawn-child';
import { count, ms, ratio, type Row } from './table';
import { createConfigMaps, createNamespace, workloadClient } from './workload';

/** What `skiff backup create` costs beyond the backup it runs, at 10,000 objects. */
export interface CliBackupResult {
  objects: number;
  /** Wall time of `skiff --help`: the tool's start alone, ms. */
  helpMs: number;
  /** Wall time of the whole `skiff backup create` process (start, backup, exit), ms. */
  cliMs: number;
  /** The same backup run in a process of its own by the library (backup-once), ms. */
  libraryMs: number;
}

/**
 * `skiff backup create` of N ConfigMaps in a new process (local mode, configuration from
 * a file), next to the same backup run in-process by the library and `skiff --help`:
 * the tool's start should be a small share of the command (issue goal: the backup's own
 * time dominates).
 */
export async function measureCliBackup(bed: Bed, bucket: string, repoRoot: string, objects = 10_000): Promise<CliBackupResult> {
  const client = workloadClient(bed.state, 'alpha');
  const namespace = `bench-cli-${Date.now().toString(36)}`;
  try {
    await createNamespace(client, namespace);
    await createConfigMaps(client, namespace, objects);
  } finally {
    client.close();
  }
  const dir = mkdtempSync(join(tmpdir(), 'skiff-cli-bench-'));
  const configFile = join(dir, 'skiff.json');
  writeFileSync(configFile, JSON.stringify(skiffConfigForBed(bed.state, { bucket, apiToken: 'bench' })), { mode: 0o600 });
  const run = (args: string[]) => {
    const start = performance.now();
    const child = spawnSync(process.execPath, [join(repoRoot, 'bin/skiff.mjs'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, SKIFF_CONFIG_FILE: configFile },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.status !== 0) throw new Error(`skiff ${args.join(' ')} exited with ${child.status}:\n${child.stderr}`);
    return performance.now() - start;
  };
  run(['--help']);
  const helpMs = run(['--help']);
  const cliMs = run(['backup', 'create', `${namespace}-cli`, '--cluster', 'alpha', '--include-namespaces', namespace, '--snapshot-volumes=false']);
  const args: BackupOnceArgs = { statePath: bed.statePath, bucket, request: { cluster: 'alpha', name: `${namespace}-lib`, includedNamespaces: [namespace], snapshotVolumes: false } };
  const library = await runInChild<BackupOnceResult>('backup-once.ts', args);
  return { objects, helpMs, cliMs, libraryMs: library.ms };
}

/** The bench table's rows for it. */
export function cliBackupRows(result: CliBackupResult): Row[] {
  const startShare = result.helpMs / result.cliMs;
  return [
    {
      measurement: `\`skiff backup create\` of ${count(result.objects)} ConfigMaps, whole process / the same backup by the library in its own process`,
      baseline: ms(result.libraryMs),
      skiff: ms(result.cliMs),
      ratio: ratio(result.cliMs / result.libraryMs),
      goal: 'the backup dominates',
      met: '',
    },
    {
      measurement: "the tool's start (`skiff --help`) as a share of `skiff backup create`",
      baseline: ms(result.cliMs),
      skiff: ms(result.helpMs),
      ratio: ratio(startShare),
      goal: '< 0.1',
      met: startShare < 0.1 ? 'yes' : 'no',
    },
  ];
}
