import type { Bed } from '../test/bed/bed';
import type { BackupOnceArgs, BackupOnceResult } from './backup-once';
import type { RestoreOnceArgs, RestoreOnceResult } from './restore-once';
import { runInChild } from './spawn-child';
import { count, median, met, ms, ratio, type Row } from './table';
import { createConfigMaps, createNamespace, workloadClient } from './workload';

/**
 * The restore goal (bench/README.md): restoring N objects with Skiff against creating
 * the same N objects directly, with the same client settings and the same concurrency,
 * in the same run; and exactly one API write per restored object. The two sides
 * alternate, each in a fresh namespace and a process of its own.
 */

const CLUSTER = 'alpha';
const OBJECTS = Math.max(1, Number(process.env.BENCH_RESTORE_OBJECTS ?? 10_000));
const REPEAT = Math.max(1, Math.min(3, Number(process.env.BENCH_REPEAT ?? 2)));
/** Skiff's default restore concurrency, used by both sides. */
const CONCURRENCY = 16;
/** A client-side rate limit high enough not to be what is measured (the same for both sides). */
const QPS = 1000;
const BURST = 2000;

export interface RestoreBenchResults {
  objects: number;
  concurrency: number;
  createMs: number;
  backup: BackupOnceResult;
  direct: RestoreOnceResult[];
  restores: RestoreOnceResult[];
}

export async function measureRestore(bed: Bed, bucket: string, progress: (message: string) => void): Promise<RestoreBenchResults> {
  const client = workloadClient(bed.state, CLUSTER);
  const runId = Date.now().toString(36);
  const source = `bench-restore-src-${runId}`;
  try {
    await createNamespace(client, source);
    progress(`creating ${OBJECTS} ConfigMaps in ${source}`);
    const createMs = await createConfigMaps(client, source, OBJECTS, (done) => progress(`  ${done}/${OBJECTS} created`));
    const backupName = `${source}-backup`;
    const backupArgs: BackupOnceArgs = { statePath: bed.statePath, bucket, request: { cluster: CLUSTER, name: backupName, includedNamespaces: [source] } };
    const backup = await runInChild<BackupOnceResult>('backup-once.ts', backupArgs);
    progress(`backed up ${backup.items} items in ${ms(backup.ms)} (${backup.phase})`);
    const results: RestoreBenchResults = { objects: OBJECTS, concurrency: CONCURRENCY, createMs, backup, direct: [], restores: [] };
    for (let run = 0; run < REPEAT; run++) {
      for (const mode of ['direct', 'restore'] as const) {
        const args: RestoreOnceArgs = {
          statePath: bed.statePath,
          bucket,
          cluster: CLUSTER,
          mode,
          backupName,
          sourceNamespace: source,
          targetNamespace: `bench-restore-${mode}-${run}-${runId}`,
          concurrency: CONCURRENCY,
          qps: QPS,
          burst: BURST,
        };
        const result = await runInChild<RestoreOnceResult>('restore-once.ts', args);
        (mode === 'direct' ? results.direct : results.restores).push(result);
        progress(`${mode} run ${run + 1}/${REPEAT}: ${ms(result.ms)}, ${result.objects} objects, ${result.writes} writes, ${result.kubeRequests} requests${result.phase ? `, ${result.phase}` : ''}`);
      }
    }
    return results;
  } finally {
    client.close();
  }
}

export function restoreRows(results: RestoreBenchResults): Row[] {
  const direct = median(results.direct.map((r) => r.ms));
  const restore = median(results.restores.map((r) => r.ms));
  const last = results.restores[results.restores.length - 1]!;
  const writesPerObject = last.writes / last.objects;
  return [
    {
      measurement: `restore of ${count(results.objects)} ConfigMaps / creating them directly, ${results.concurrency} in flight (median of ${results.restores.length})`,
      baseline: ms(direct),
      skiff: ms(restore),
      ratio: ratio(restore / direct),
      goal: '<= 1.3',
      met: met(restore / direct <= 1.3),
    },
    {
      measurement: `API writes per restored object (${last.writes} writes, ${last.objects} objects incl. the Namespace, ${last.kubeRequests} requests in all)`,
      baseline: '1',
      skiff: String(last.writes),
      ratio: ratio(writesPerObject, 4),
      goal: '1',
      met: met(Math.abs(writesPerObject - 1) < 1e-9),
    },
    {
      measurement: `peak memory of the restore process, ${count(results.objects)} objects`,
      baseline: '',
      skiff: `${Math.round(median(results.restores.map((r) => r.peakRssMb)))} MB`,
      ratio: '',
      goal: '(informative)',
      met: '',
    },
  ];
}
