import { runBackup, type SnapshotTaker } from '../lib/backup/run-backup';
import { backupRunnerDeps } from '../lib/backup/runner-deps';
import { createBackup, getBackup } from '../lib/backup/service';
import { backupServiceDeps } from '../lib/backup/service';
import type { KubeClient } from '../lib/kube/client';
import { createBackupStore } from '../lib/store/backup-store';
import { createS3Client } from '../lib/store/s3-client';
import { benchConfig } from './bed-config';
import { BusyTimer } from './busy-timer';
import { childArgs, cpuMillis, peakRssMb, runChild } from './child-common';
import { trackRequests, type KubeRequestBreakdown } from './kube-requests';

/**
 * One backup, in a process of its own: creates it (not timed), then times runBackup
 * with the real runner wiring, except that the store's S3 client and the cluster
 * client are the bench's own, so their requests can be counted.
 *
 *   BENCH_ARGS='{"statePath":..., "bucket":..., "request":{"cluster":"alpha",...}}' \
 *     node --import tsx bench/backup-once.ts
 */

export interface BackupOnceArgs {
  statePath: string;
  bucket: string;
  /** The body of POST /backups. */
  request: { cluster: string; name: string; [field: string]: unknown };
}

export interface BackupOnceResult {
  /** Wall time of runBackup, ms. */
  ms: number;
  /** CPU time (user + system) of this process during runBackup, ms: less noisy than wall time on a busy machine. */
  cpuMs: number;
  /** Wall time of the snapshot stage alone (takeSnapshots), ms; 0 when it did not run. */
  snapshotStageMs: number;
  state: string;
  phase: string | undefined;
  items: number;
  csiSnapshotsAttempted: number;
  csiSnapshotsCompleted: number;
  kubeRequests: number;
  kubeBreakdown: KubeRequestBreakdown | undefined;
  s3Requests: number;
  s3ByOperation: Record<string, number>;
  /** Milliseconds with at least one S3 request in flight. */
  s3BusyMs: number;
  /** Each S3 request: start (ms since runBackup began), duration, operation. Capped at 300. */
  s3Timeline: { at: number; ms: number; what: string }[];
  /** Peak RSS before runBackup (modules loaded, backup created), MiB. */
  startRssMb: number;
  /** Peak RSS of the whole process, MiB. */
  peakRssMb: number;
}

async function main(): Promise<BackupOnceResult> {
  const args = childArgs<BackupOnceArgs>();
  const config = benchConfig(args.statePath, args.bucket);
  const service = backupServiceDeps(config);
  const created = await createBackup(service, args.request);

  const deps = await backupRunnerDeps(config, () => 14 * 60_000, created.name);
  const location = config.storageLocations.find((l) => l.name === created.storageLocation)!;
  const s3 = createS3Client(location);
  deps.store = createBackupStore(s3.s3, location);
  const s3Busy = new BusyTimer();
  const s3Timeline: BackupOnceResult['s3Timeline'] = [];
  let origin = performance.now();
  s3.s3.middlewareStack.add(
    (next, context) => async (input) => {
      const at = performance.now();
      try {
        return await s3Busy.time(() => next(input));
      } finally {
        if (s3Timeline.length < 300) {
          const what = `${(context.commandName ?? 'Unknown').replace(/Command$/, '')} ${(input.input as { Key?: string }).Key ?? ''}`.trim();
          s3Timeline.push({ at: Math.round(at - origin), ms: Math.round(performance.now() - at), what });
        }
      }
    },
    { step: 'initialize', name: 'benchS3Timer' },
  );

  let client: KubeClient | undefined;
  let breakdown: (() => KubeRequestBreakdown) | undefined;
  const connect = deps.connect;
  deps.connect = async (cluster) => {
    client = await connect(cluster);
    breakdown = trackRequests(client, origin);
    return client;
  };
  let snapshotStageMs = 0;
  const takeSnapshots: SnapshotTaker = deps.takeSnapshots;
  deps.takeSnapshots = async (input) => {
    const start = performance.now();
    try {
      return await takeSnapshots(input);
    } finally {
      snapshotStageMs += performance.now() - start;
    }
  };

  const startRssMb = peakRssMb();
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  origin = start;
  const outcome = await runBackup(deps, created.name);
  const ms = performance.now() - start;
  const cpuMs = cpuMillis(process.cpuUsage(cpuStart));
  const rss = peakRssMb();

  const backup = await getBackup(service, created.name);
  return {
    ms,
    cpuMs,
    snapshotStageMs,
    state: outcome.state,
    phase: backup.status.phase,
    items: backup.status.progress?.itemsBackedUp ?? 0,
    csiSnapshotsAttempted: backup.status.csiVolumeSnapshotsAttempted ?? 0,
    csiSnapshotsCompleted: backup.status.csiVolumeSnapshotsCompleted ?? 0,
    kubeRequests: client?.requestCount ?? 0,
    kubeBreakdown: breakdown?.(),
    s3Requests: s3.requests.total(),
    s3ByOperation: s3.requests.byOperation(),
    s3BusyMs: s3Busy.busyMs,
    s3Timeline,
    startRssMb,
    peakRssMb: rss,
  };
}

runChild(main);
