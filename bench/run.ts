import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { listPages } from '../lib/kube/list-all';
import { startBed, type Bed } from '../test/bed/bed';
import { minioClient } from '../test/bed/minio-client';
import { readBedState } from '../test/bed/state';
import type { BackupOnceArgs, BackupOnceResult } from './backup-once';
import { cliBackupRows, measureCliBackup, type CliBackupResult } from './cli-backup';
import { cliStartRows, measureCliStart } from './cli-start';
import { cliClientRows, measureCliClient } from './cli-client';
import { expiryRows, measureExpiry } from './expiry-bench';
import { measureRestore, restoreRows } from './restore-bench';
import type { ListOnceArgs, ListOnceResult } from './list-once';
import { childHeapFlags, runInChild } from './spawn-child';
import { measureSync, syncRows } from './sync';
import { count, markdownTable, mb, median, met, ms, ratio, resultsTable, type Row } from './table';
import {
  CREATE_CONCURRENCY,
  bedSnapshotTime,
  configMap,
  createBoundPvcs,
  createConfigMaps,
  createNamespace,
  simulatorConfig,
  workloadClient,
} from './workload';

/**
 * `npm run bench`: Skiff's performance goals (bench/README.md) measured on
 * the test bed, each as a ratio against a baseline measured in the same run. It starts
 * its own bed (cluster alpha, the snapshot controller, the storage simulator, MinIO),
 * builds the workload, runs every measurement in a child process of its own, prints a
 * markdown table and writes bench/results.json. It reports; it never fails on a slow
 * machine (it exits non-zero only when it could not measure).
 *
 * Environment:
 *   BENCH_LARGE=1               also 100k ConfigMaps (creating them takes minutes)
 *   BENCH_REPEAT=3              runs per size (list and backup alternate); medians are reported
 *   BENCH_SNAPSHOTS=20          PVCs in the N-snapshot namespace
 *   BENCH_SNAPSHOT_DELAY_MS=1000  how long the simulated storage takes per snapshot
 *   BENCH_OBJECTS=1000,5000     other ConfigMap counts (quick runs); default 1000,10000[,100000]
 *   SKIFF_BED_STATE=<path>      use a running bed (`npm run bed:up`) and leave it running
 *   BENCH_CLI_SPAWNS=10         spawns of `skiff --help` and of the `node -e 0` baseline
 *   BENCH_ONLY=cli              only the CLI's start: no test bed, a few seconds
 *   BENCH_ONLY=expiry           only expiry: 100 of 1,000 stored backups, S3 requests and time
 *   BENCH_ONLY=sync             only rediscovery over 1,000 stored backups (BENCH_SYNC_BACKUPS, BENCH_SYNC_NEW=10)
 *   BENCH_ONLY=cli-backup       only `skiff backup create` of 10,000 objects next to the library's backup
 *   BENCH_ONLY=restore          only the restore: BENCH_RESTORE_OBJECTS (10000) ConfigMaps restored
 *                               by Skiff next to created directly, same concurrency (restore-bench.ts)
 */

const CLUSTER = 'alpha';
const LARGE = process.env.BENCH_LARGE === '1';
const SIZES = process.env.BENCH_OBJECTS
  ? process.env.BENCH_OBJECTS.split(',').map((n) => Number(n.trim())).filter((n) => n > 0).sort((a, b) => a - b)
  : [1_000, 10_000, ...(LARGE ? [100_000] : [])];
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3));
const ONLY = process.env.BENCH_ONLY;
const SNAPSHOTS = Math.max(2, Number(process.env.BENCH_SNAPSHOTS ?? 20));
const SNAPSHOT_DELAY_MS = Math.max(0, Number(process.env.BENCH_SNAPSHOT_DELAY_MS ?? 1000));
const SNAPSHOT_REPEAT = 2;
const SNAPSHOT_CLASS_ANNOTATION = 'velero.io/csi-volumesnapshot-class_driver.longhorn.io';
const SNAPSHOT_CLASS = 'sim-longhorn-retain';
/** The API's page size, and the goal's requests per object. */
const PAGE = 500;
const REQUESTS_PER_OBJECT_GOAL = 1 / 400;

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(benchDir);

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

interface SizeResult {
  objects: number;
  namespace: string;
  createMs: number;
  lists: ListOnceResult[];
  backups: BackupOnceResult[];
}

interface SnapshotResult {
  pvcs: number;
  namespace: string;
  backups: BackupOnceResult[];
  /** The bed's own time for the same snapshots, without Skiff (bedSnapshotTime), ms. */
  bedMs: number[];
}

async function main(): Promise<void> {
  const startedAt = new Date();
  if (ONLY !== undefined && ONLY !== 'cli' && !(ONLY in ALONE)) {
    throw new Error(`BENCH_ONLY=${ONLY}: the parts that run alone are cli, ${Object.keys(ALONE).join(', ')}`);
  }
  if (ONLY !== undefined && ONLY in ALONE) return runAlone(ONLY, ALONE[ONLY]!, startedAt);
  // First, while the machine is not yet busy with the bed's servers.
  progress('timing `skiff --help` against `node -e 0`');
  const cliStart = measureCliStart(repoRoot);
  progress('timing `skiff backup get` in client mode against `node -e 0`');
  const cliClient = await measureCliClient(repoRoot);
  if (ONLY === 'cli') {
    console.log(`\n## Skiff benchmark: CLI start (${startedAt.toISOString()}, ${cpus().length} cores, Node ${process.version})\n`);
    console.log(resultsTable([...cliStartRows(cliStart), ...cliClientRows(cliClient)]));
    const list = (values: number[]) => values.map((v) => Math.round(v)).join(', ');
    console.log(`\nEach spawn, ms: \`node -e 0\` ${list(cliStart.nodeMs)}; \`skiff --help\` ${list(cliStart.helpMs)}.`);
    console.log(`Client mode, ms: \`node -e 0\` ${list(cliClient.nodeMs)}; \`skiff backup get\` ${list(cliClient.getMs)}.`);
    console.log(`Load average (1 min) ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores.`);
    return;
  }

  progress('building the test bed (cached after the first build)');
  const build = spawnSync('bash', [join(repoRoot, 'test/bed/build.sh')], { cwd: repoRoot, stdio: ['ignore', 2, 2] });
  if (build.status !== 0) throw new Error('bash test/bed/build.sh failed; see its output above');

  const loadBefore = loadavg();
  const bedStart = performance.now();
  const bed = await bedToUse();
  const bedStartMs = performance.now() - bedStart;
  try {
    const results = await measure(bed);
    const rows = [...cliStartRows(cliStart), ...cliClientRows(cliClient), ...summarize(results)];
    const details = detailTable(results);
    const output = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryMb: Math.round(totalmem() / 1024 ** 2), node: process.version },
      loadAverage: { before: loadBefore, after: loadavg() },
      settings: { sizes: SIZES, large: LARGE, repeat: REPEAT, snapshots: SNAPSHOTS, snapshotDelayMs: SNAPSHOT_DELAY_MS, createConcurrency: CREATE_CONCURRENCY },
      bedStartMs,
      cliStart,
      ...results,
      summary: rows,
    };
    writeFileSync(join(benchDir, 'results.json'), `${JSON.stringify(output, null, 2)}\n`);
    console.log(`\n## Skiff benchmark (${startedAt.toISOString()}, ${cpus().length} cores, Node ${process.version})\n`);
    console.log(resultsTable(rows));
    console.log('\n### Details (medians of the runs)\n');
    console.log(details);
    const load = loadavg()[1]!;
    const bedNote = process.env.SKIFF_BED_STATE ? 'Used a running test bed.' : `Test bed started in ${ms(bedStartMs)}.`;
    console.log(`\n${bedNote} Load average (5 min) ${load.toFixed(1)} on ${cpus().length} cores at the end.`);
    console.log(`Children ran with ${childHeapFlags().join(' ') || "Node's default heap sizes"}.`);
    if (load > cpus().length) {
      console.log('The machine was busy with other work: timings are noisy, compare the ratios of paired runs in bench/results.json.');
    }
    console.log('Raw numbers: bench/results.json');
  } finally {
    progress('stopping the test bed');
    await bed.stop();
  }
}

/** A part of the bench that runs alone: its title, what it measures on the bed, its table. */
interface AlonePart {
  title: string;
  measure(bed: Bed): Promise<object>;
  rows(result: never): Row[];
}

/** The parts BENCH_ONLY runs by themselves (besides `cli`, which needs no bed). */
const ALONE: Record<string, AlonePart> = {
  expiry: {
    title: 'expiry (100 of 1,000 stored backups)',
    measure: (bed) => measureExpiry(bed.statePath, (bucket) => createBucket(bed, bucket)),
    rows: (result: Awaited<ReturnType<typeof measureExpiry>>) => expiryRows(result),
  },
  sync: {
    title: 'rediscovery',
    measure: (bed) => measureSync(bed, progress),
    rows: (result: Awaited<ReturnType<typeof measureSync>>) => syncRows(result),
  },
  'cli-backup': {
    title: '`skiff backup create` of 10,000 objects',
    measure: async (bed) => {
      await createBucket(bed, 'skiff-bench');
      return measureCliBackup(bed, 'skiff-bench', repoRoot);
    },
    rows: (result: CliBackupResult) => cliBackupRows(result),
  },
  restore: {
    title: 'restore',
    measure: async (bed) => {
      await createBucket(bed, 'skiff-bench');
      return measureRestore(bed, 'skiff-bench', progress);
    },
    rows: (result: Awaited<ReturnType<typeof measureRestore>>) => restoreRows(result),
  },
};

/** BENCH_ONLY=<part>: the bed, the part's measurement, its table; raw numbers in bench/results-<part>.json. */
async function runAlone(name: string, part: AlonePart, startedAt: Date): Promise<void> {
  progress('building the test bed (cached after the first build)');
  const build = spawnSync('bash', [join(repoRoot, 'test/bed/build.sh')], { cwd: repoRoot, stdio: ['ignore', 2, 2] });
  if (build.status !== 0) throw new Error('bash test/bed/build.sh failed; see its output above');
  const bed = await bedToUse();
  try {
    const result = await part.measure(bed);
    const file = `results-${name}.json`;
    writeFileSync(join(benchDir, file), `${JSON.stringify({ startedAt: startedAt.toISOString(), loadAverage: loadavg(), result }, null, 2)}\n`);
    console.log(`\n## Skiff benchmark: ${part.title} (${startedAt.toISOString()}, ${cpus().length} cores, Node ${process.version})\n`);
    console.log(resultsTable(part.rows(result as never)));
    console.log(`\nLoad average (1 min) ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores. Raw numbers: bench/${file}`);
  } finally {
    progress('stopping the test bed');
    await bed.stop();
  }
}

/** The bed named by SKIFF_BED_STATE (left running), or a new one of cluster alpha only. */
async function bedToUse(): Promise<Bed> {
  const statePath = process.env.SKIFF_BED_STATE;
  if (!statePath) return startBed({ clusters: [CLUSTER] });
  progress(`using the running bed of ${statePath}`);
  const state = readBedState(statePath);
  if (!state.clusters[CLUSTER]) throw new Error(`the bed of ${statePath} has no cluster "${CLUSTER}"`);
  return { state, statePath, workDir: state.workDir, stop: async () => undefined };
}

async function measure(bed: Bed) {
  const { state, statePath } = bed;
  const bucket = 'skiff-bench';
  await createBucket(bed, bucket);
  const client = workloadClient(state, CLUSTER);
  try {
    const sizes = SIZES;
    const runId = Date.now().toString(36);
    const bySize: SizeResult[] = [];
    for (const objects of sizes) {
      const namespace = `bench-cm-${count(objects)}-${runId}`;
      await createNamespace(client, namespace);
      progress(`creating ${objects} ConfigMaps in ${namespace} (${CREATE_CONCURRENCY} in flight)`);
      const createMs = await createConfigMaps(client, namespace, objects, (done) => progress(`  ${done}/${objects} created`));
      progress(`  created in ${ms(createMs)} (${Math.round((objects / createMs) * 1000)}/s)`);
      bySize.push({ objects, namespace, createMs, lists: [], backups: [] });
    }

    const gzip = gzipBaseline(gzipSize(bySize).objects);

    for (const size of bySize) {
      const path = `/api/v1/namespaces/${size.namespace}/configmaps`;
      // One LIST first, so neither side pays for a cold API server cache.
      for await (const _ of listPages(client, path, { limit: PAGE })) void _;
      const repeat = size.objects > 10_000 ? Math.min(REPEAT, 2) : REPEAT;
      for (let run = 0; run < repeat; run++) {
        const listArgs: ListOnceArgs = { statePath, cluster: CLUSTER, path, limit: PAGE };
        const list = await runInChild<ListOnceResult>('list-once.ts', listArgs);
        size.lists.push(list);
        const backupArgs: BackupOnceArgs = {
          statePath,
          bucket,
          request: { cluster: CLUSTER, name: `${size.namespace}-${run}`, includedNamespaces: [size.namespace] },
        };
        const backup = await runInChild<BackupOnceResult>('backup-once.ts', backupArgs);
        size.backups.push(backup);
        progress(
          `${count(size.objects)} run ${run + 1}/${repeat}: LIST ${ms(list.ms)} (${list.items} objects), ` +
            `backup ${ms(backup.ms)} (${backup.phase}, ${backup.items} items, ${backup.kubeRequests} API requests, ` +
            `${backup.s3Requests} S3 requests, peak ${mb(backup.peakRssMb)})`,
        );
      }
    }

    const fixed = await measureFixedCost(statePath, client, bucket, runId);
    const snapshots = await measureSnapshots(bed, client, bucket, runId);
    return { bySize, snapshots, gzip, fixed };
  } finally {
    client.close();
  }
}

/**
 * What every backup costs whatever its size: the same backup of a namespace without
 * objects (discovery, the empty type lists, the progress record, the tarball and
 * metadata writes). Informative: it shows how much of a small backup's ratio is this.
 */
async function measureFixedCost(statePath: string, client: ReturnType<typeof workloadClient>, bucket: string, runId: string) {
  const namespace = `bench-empty-${runId}`;
  await createNamespace(client, namespace);
  const backups: BackupOnceResult[] = [];
  for (let run = 0; run < REPEAT; run++) {
    const args: BackupOnceArgs = { statePath, bucket, request: { cluster: CLUSTER, name: `${namespace}-${run}`, includedNamespaces: [namespace] } };
    backups.push(await runInChild<BackupOnceResult>('backup-once.ts', args));
    progress(`empty namespace run ${run + 1}/${REPEAT}: backup ${ms(backups[run]!.ms)} (${backups[run]!.kubeRequests} API requests)`);
  }
  return backups;
}

async function measureSnapshots(bed: Bed, client: ReturnType<typeof workloadClient>, bucket: string, runId: string) {
  const results: SnapshotResult[] = [];
  for (const pvcs of [1, SNAPSHOTS]) {
    const namespace = `bench-snap-${pvcs}-${runId}`;
    await createNamespace(client, namespace);
    progress(`creating ${pvcs} PVC(s) on sim-longhorn in ${namespace}`);
    await createBoundPvcs(client, namespace, pvcs);
    results.push({ pvcs, namespace, backups: [], bedMs: [] });
  }
  const before = await simulatorConfig(bed.state);
  await simulatorConfig(bed.state, { snapshotDelayMs: SNAPSHOT_DELAY_MS });
  try {
    for (let run = 0; run < SNAPSHOT_REPEAT; run++) {
      for (const result of results) {
        const bedMs = await bedSnapshotTime(client, result.namespace, SNAPSHOT_CLASS, `${runId}-${run}`);
        result.bedMs.push(bedMs);
        const args: BackupOnceArgs = {
          statePath: bed.statePath,
          bucket,
          request: {
            cluster: CLUSTER,
            name: `${result.namespace}-${run}`,
            includedNamespaces: [result.namespace],
            includedResources: ['persistentvolumeclaims'],
            annotations: { [SNAPSHOT_CLASS_ANNOTATION]: SNAPSHOT_CLASS },
          },
        };
        const backup = await runInChild<BackupOnceResult>('backup-once.ts', args);
        result.backups.push(backup);
        progress(
          `${result.pvcs} snapshot(s) run ${run + 1}/${SNAPSHOT_REPEAT}: bed alone ${ms(bedMs)}, Skiff's snapshot stage ${ms(backup.snapshotStageMs)}, ` +
            `backup ${ms(backup.ms)} (${backup.phase}, ${backup.csiSnapshotsCompleted}/${backup.csiSnapshotsAttempted} snapshots)`,
        );
      }
    }
  } finally {
    await simulatorConfig(bed.state, { snapshotDelayMs: before.snapshotDelayMs });
  }
  return results;
}

/** gzip level 6 of the same kind of objects, in this process: what compression alone costs. */
function gzipBaseline(objects: number) {
  const json = Buffer.from(
    Array.from({ length: objects }, (_, i) => JSON.stringify(configMap('bench', i))).join('\n'),
  );
  let compressed = gzipSync(json, { level: 6 });
  const times: number[] = [];
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    compressed = gzipSync(json, { level: 6 });
    times.push(performance.now() - start);
  }
  const gzipMs = median(times);
  return { objects, inputBytes: json.length, outputBytes: compressed.length, ms: gzipMs, mbPerSecond: json.length / 1024 ** 2 / (gzipMs / 1000) };
}

async function createBucket(bed: Bed, bucket: string): Promise<void> {
  const s3 = minioClient(bed.state.minio);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    // A running bed (SKIFF_BED_STATE) keeps the bucket of an earlier run.
    if ((error as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw error;
  } finally {
    s3.destroy();
  }
}

type Results = Awaited<ReturnType<typeof measure>>;

/** The workload the gzip baseline compresses: 10k objects, or the largest below. */
function gzipSize(bySize: SizeResult[]): SizeResult {
  return [...bySize].reverse().find((s) => s.objects <= 10_000) ?? bySize[0]!;
}

function summarize({ bySize, snapshots, gzip, fixed }: Results): Row[] {
  const rows: Row[] = [];
  const fixedMs = median(fixed.map((b) => b.ms));
  for (const size of bySize) {
    const list = median(size.lists.map((l) => l.ms));
    const backup = median(size.backups.map((b) => b.ms));
    const value = backup / list;
    const paired = median(size.backups.map((b, i) => b.ms / size.lists[i]!.ms));
    const goalApplies = size.objects >= 10_000;
    rows.push({
      measurement: `backup time / bare LIST (limit ${PAGE}), ${count(size.objects)} ConfigMaps (median of ${size.backups.length}; median of paired runs' ratios ${ratio(paired)})`,
      baseline: ms(list),
      skiff: ms(backup),
      ratio: ratio(value),
      goal: goalApplies ? '<= 1.3' : '(informative)',
      met: goalApplies ? met(value <= 1.3) : '',
    });
    rows.push({
      measurement: `  the same without the fixed cost of a backup (an empty namespace: ${ms(fixedMs)}), ${count(size.objects)}`,
      baseline: ms(list),
      skiff: ms(backup - fixedMs),
      ratio: ratio((backup - fixedMs) / list),
      goal: '(informative)',
      met: '',
    });
  }
  for (const size of bySize.filter((s, i) => s.objects >= 10_000 || i === bySize.length - 1)) {
    const backup = size.backups[size.backups.length - 1]!;
    const b = backup.kubeBreakdown;
    const overhead = b ? b.discovery + b.emptyFirstPages : 0;
    const perObject = (backup.kubeRequests - overhead) / backup.items;
    const detail = b
      ? `${backup.kubeRequests} requests / ${backup.items} objects; ${b.discovery} discovery, ` +
        `${b.listFirstPages} type lists (${b.emptyFirstPages} empty), ${b.listContinuations} continue pages, ${b.other} other`
      : `${backup.kubeRequests} requests / ${backup.items} objects`;
    rows.push({
      measurement: `Kubernetes API requests per backed-up object, ${count(size.objects)} (without discovery and empty type lists)`,
      baseline: `1/${PAGE} per page (${ratio(1 / PAGE, 4)})`,
      skiff: detail,
      ratio: ratio(perObject, 4),
      goal: `<= ${ratio(REQUESTS_PER_OBJECT_GOAL, 4)} (+ discovery)${size.objects >= 10_000 ? '' : ', at 10k and more'}`,
      met: size.objects >= 10_000 ? met(perObject <= REQUESTS_PER_OBJECT_GOAL) : '',
    });
  }
  const peak = (objects: number) => median(bySize.find((s) => s.objects === objects)!.backups.map((b) => b.peakRssMb));
  const small = bySize[bySize.length - 2]?.objects ?? bySize[0]!.objects;
  const large = bySize[bySize.length - 1]!.objects;
  const memory = peak(large) / peak(small);
  rows.push({
    measurement: `peak memory of a backup, ${count(large)} / ${count(small)} objects${large >= 100_000 ? '' : ' (100k: BENCH_LARGE=1)'}`,
    baseline: mb(peak(small)),
    skiff: mb(peak(large)),
    ratio: ratio(memory),
    goal: large >= 100_000 && small >= 10_000 ? '<= 1.2 and < 512 MB' : '<= 1.2 (goal is 100k/10k) and < 512 MB',
    met: met(memory <= 1.2 && peak(large) < 512),
  });
  const [one, many] = snapshots;
  if (one && many) {
    const stage = (r: SnapshotResult) => median(r.backups.map((b) => b.snapshotStageMs));
    const wall = (r: SnapshotResult) => median(r.backups.map((b) => b.ms));
    const bed = (r: SnapshotResult) => median(r.bedMs);
    const goal = 1 + many.pvcs / 50;
    const allCompleted = [...one.backups, ...many.backups].every(
      (b) => b.csiSnapshotsAttempted > 0 && b.csiSnapshotsCompleted === b.csiSnapshotsAttempted,
    );
    const storage = `storage takes ${SNAPSHOT_DELAY_MS} ms per snapshot`;
    rows.push({
      measurement: `${many.pvcs} snapshots / 1 snapshot: Skiff's snapshot stage (${storage})${allCompleted ? '' : ' - NOT ALL COMPLETED'}`,
      baseline: ms(stage(one)),
      skiff: ms(stage(many)),
      ratio: ratio(stage(many) / stage(one)),
      goal: `<= ${ratio(goal)}`,
      met: met(stage(many) / stage(one) <= goal && allCompleted),
    });
    rows.push({
      measurement: `${many.pvcs} snapshots / 1 snapshot: the bed alone (VolumeSnapshots created at once, no Skiff)`,
      baseline: ms(bed(one)),
      skiff: ms(bed(many)),
      ratio: ratio(bed(many) / bed(one)),
      goal: '(what this bed allows)',
      met: '',
    });
    rows.push({
      measurement: `${many.pvcs} snapshots: Skiff's snapshot stage / the bed alone`,
      baseline: ms(bed(many)),
      skiff: ms(stage(many)),
      ratio: ratio(stage(many) / bed(many)),
      goal: '(informative; 1 = no overhead)',
      met: '',
    });
    rows.push({
      measurement: `${many.pvcs} snapshots / 1 snapshot: whole backup (PVCs only)`,
      baseline: ms(wall(one)),
      skiff: ms(wall(many)),
      ratio: ratio(wall(many) / wall(one)),
      goal: `<= ${ratio(goal)}`,
      met: met(wall(many) / wall(one) <= goal && allCompleted),
    });
  }
  const tenK = gzipSize(bySize);
  if (tenK) {
    const backup = median(tenK.backups.map((b) => b.ms));
    rows.push({
      measurement: `backup time / gzip -6 alone of ${count(tenK.objects)} such objects (in-process, ${gzip.mbPerSecond.toFixed(0)} MB/s)`,
      baseline: ms(gzip.ms),
      skiff: ms(backup),
      ratio: ratio(backup / gzip.ms),
      goal: '(informative)',
      met: '',
    });
  }
  return rows;
}

function detailTable({ bySize, snapshots }: Results): string {
  const rows: string[][] = [];
  for (const size of bySize) {
    const backups = size.backups;
    const med = (pick: (b: BackupOnceResult) => number) => median(backups.map(pick));
    rows.push([
      `${count(size.objects)} ConfigMaps`,
      `${ms(size.createMs)} (${Math.round((size.objects / size.createMs) * 1000)}/s)`,
      `${ms(median(size.lists.map((l) => l.ms)))}, ${size.lists[0]?.pages ?? 0} pages, peak ${mb(median(size.lists.map((l) => l.peakRssMb)))}`,
      ms(med((b) => b.ms)),
      `${ms(med((b) => b.kubeBreakdown?.busyMs ?? 0))} / ${ms(med((b) => b.s3BusyMs))}`,
      `${Math.round(med((b) => b.items) / (med((b) => b.ms) / 1000))}`,
      String(med((b) => b.items)),
      String(med((b) => b.kubeRequests)),
      formatOps(backups[backups.length - 1]?.s3ByOperation ?? {}),
      `${mb(med((b) => b.peakRssMb))} (${mb(med((b) => b.startRssMb))} before the run)`,
      backups.map((b) => b.phase ?? b.state).join(', '),
    ]);
  }
  for (const result of snapshots) {
    const backups = result.backups;
    const med = (pick: (b: BackupOnceResult) => number) => median(backups.map(pick));
    rows.push([
      `${result.pvcs} PVC(s), snapshots`,
      '',
      '',
      `${ms(med((b) => b.ms))} (snapshot stage ${ms(med((b) => b.snapshotStageMs))}; bed alone ${ms(median(result.bedMs))})`,
      `${ms(med((b) => b.kubeBreakdown?.busyMs ?? 0))} / ${ms(med((b) => b.s3BusyMs))}`,
      '',
      String(med((b) => b.items)),
      String(med((b) => b.kubeRequests)),
      formatOps(backups[backups.length - 1]?.s3ByOperation ?? {}),
      mb(med((b) => b.peakRssMb)),
      backups.map((b) => `${b.phase ?? b.state} ${b.csiSnapshotsCompleted}/${b.csiSnapshotsAttempted}`).join(', '),
    ]);
  }
  return markdownTable(
    ['workload', 'create', 'bare LIST', 'backup', 'waiting on API / S3', 'objects/s', 'items', 'API requests', 'S3 requests', 'backup peak RSS', 'phases'],
    rows,
  );
}

function formatOps(ops: Record<string, number>): string {
  const total = Object.values(ops).reduce((a, b) => a + b, 0);
  return `${total} (${Object.entries(ops).map(([op, n]) => `${op} ${n}`).join(', ')})`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
