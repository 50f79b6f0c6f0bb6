import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { systemClock } from '../lib/core/clock';
import { inParallel } from '../lib/core/parallel';
import type { KubeClient } from '../lib/kube/client';
import { connectCluster } from '../lib/kube/connect';
import { createBackupStore } from '../lib/store/backup-store';
import { createS3Client } from '../lib/store/s3-client';
import { runSync } from '../lib/sync/service';
import type { Bed } from '../test/bed/bed';
import { minioClient } from '../test/bed/minio-client';
import { benchConfig } from './bed-config';
import { count, median, met, ms, ratio, type Row } from './table';

/**
 * Rediscovery over a location of many stored backups (BENCH_ONLY=sync): S3 requests by
 * operation, Kubernetes requests and wall time of a sync run with nothing new and with
 * a few new backups, against a bare paginated LIST of backups/ measured in the same
 * run. The backups are small test-made ones written straight to MinIO
 * (velero-backup.json and an empty CSI VolumeSnapshotContent list each), which is what
 * discovery reads; their tarballs do not matter to it.
 */

/** Stored backups before the measured runs. */
const BACKUPS = Math.max(1, Number(process.env.BENCH_SYNC_BACKUPS ?? 1000));
/** New backups in the "with new" runs. */
const NEW = Math.max(1, Number(process.env.BENCH_SYNC_NEW ?? 10));
const REPEAT = 3;
const CLUSTER = 'alpha';

export interface SyncRun {
  label: string;
  ms: number;
  s3: Record<string, number>;
  kubeRequests: number;
  newBackups: number;
  created: number;
}

export interface SyncBenchResult {
  backups: number;
  newPerRun: number;
  writeMs: number;
  bareListMs: number[];
  first: SyncRun;
  nothingNew: SyncRun[];
  withNew: SyncRun[];
}

function backupDocument(name: string, now: Date) {
  return {
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name, namespace: 'velero', labels: { 'skiff.io/cluster': CLUSTER, 'velero.io/storage-location': 'default' } },
    spec: { includedNamespaces: ['bench'], storageLocation: 'default', ttl: '720h0m0s' },
    status: {
      phase: 'Completed',
      formatVersion: '1.1.0',
      startTimestamp: now.toISOString(),
      completionTimestamp: now.toISOString(),
      expiration: new Date(now.getTime() + 720 * 3600_000).toISOString(),
    },
  };
}

/** Writes `names` as small backups: the empty CSI list first, velero-backup.json last, as a backup does. */
async function writeBackups(s3: S3Client, bucket: string, names: readonly string[]): Promise<void> {
  const now = new Date();
  const emptyList = gzipSync('[]');
  await inParallel(names, 32, async (name) => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `backups/${name}/${name}-csi-volumesnapshotcontents.json.gz`, Body: emptyList }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `backups/${name}/velero-backup.json`, Body: JSON.stringify(backupDocument(name, now)) }));
  });
}

/** The baseline: one paginated LIST of backups/ by common prefix, nothing else. */
async function bareList(s3: S3Client, bucket: string): Promise<number> {
  const started = performance.now();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'backups/', Delimiter: '/', ContinuationToken: token }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return performance.now() - started;
}

export async function measureSync(bed: Bed, progress: (message: string) => void): Promise<SyncBenchResult> {
  const bucket = `skiff-bench-sync-${Date.now().toString(36)}`;
  const admin = minioClient(bed.state.minio);
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  const config = benchConfig(bed.statePath, bucket);
  config.clusters = config.clusters.filter((c) => c.name === CLUSTER);
  const location = config.storageLocations[0]!;
  const { s3, requests } = createS3Client(location);
  const store = createBackupStore(s3, location);

  progress(`writing ${BACKUPS} small backups to bucket ${bucket}`);
  const writeStart = performance.now();
  const names = Array.from({ length: BACKUPS }, (_, i) => `bench-${String(i).padStart(6, '0')}`);
  await writeBackups(admin, bucket, names);
  const writeMs = performance.now() - writeStart;

  let batch = 0;
  const run = async (label: string): Promise<SyncRun> => {
    let client: KubeClient | undefined;
    requests.reset();
    const started = performance.now();
    const result = await runSync(
      {
        config,
        storeFor: () => store,
        connect: async (name) => (client = await connectCluster(config.clusters.find((c) => c.name === name)!)),
        clock: systemClock,
      },
      { location: 'default', cluster: CLUSTER },
    );
    const elapsed = performance.now() - started;
    const kubeRequests = client?.requestCount ?? 0;
    client?.close();
    const location = result.locations[0]!;
    const outcome: SyncRun = {
      label,
      ms: elapsed,
      s3: requests.byOperation(),
      kubeRequests,
      newBackups: location.report.new.length,
      created: location.clusters.reduce((n, c) => n + c.created.length, 0),
    };
    progress(`${label}: ${ms(elapsed)}, S3 ${JSON.stringify(outcome.s3)}, Kubernetes ${kubeRequests}, new ${outcome.newBackups}`);
    return outcome;
  };

  const first = await run(`first sync of ${count(BACKUPS)} backups (all new)`);
  const bareListMs: number[] = [];
  const nothingNew: SyncRun[] = [];
  for (let i = 0; i < REPEAT; i++) {
    bareListMs.push(await bareList(admin, bucket));
    nothingNew.push(await run(`${count(BACKUPS)} stored, 0 new (run ${i + 1})`));
  }
  const withNew: SyncRun[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const fresh = Array.from({ length: NEW }, (_, j) => `bench-new-${++batch}-${j}`);
    await writeBackups(admin, bucket, fresh);
    withNew.push(await run(`${count(BACKUPS)} stored, ${NEW} new (run ${i + 1})`));
  }
  return { backups: BACKUPS, newPerRun: NEW, writeMs, bareListMs, first, nothingNew, withNew };
}

const reads = (r: SyncRun) => (r.s3.GetObject ?? 0) + (r.s3.HeadObject ?? 0);
const describeS3 = (r: SyncRun) => Object.entries(r.s3).map(([op, n]) => `${op} ${n}`).join(', ');

/** The summary rows of the sync bench. */
export function syncRows(result: SyncBenchResult): Row[] {
  const bare = median(result.bareListMs);
  const lists = Math.ceil(result.backups / 1000);
  const idle = result.nothingNew[result.nothingNew.length - 1]!;
  const idleMs = median(result.nothingNew.map((r) => r.ms));
  const busy = result.withNew[result.withNew.length - 1]!;
  const busyMs = median(result.withNew.map((r) => r.ms));
  // Every run reads the catalog once; the rest are the new backups' reads.
  const extraReads = reads(busy) - 1;
  return [
    {
      measurement: `sync, ${count(result.backups)} stored backups, 0 new: wall time / bare LIST of backups/ (median of ${result.nothingNew.length})`,
      baseline: ms(bare),
      skiff: ms(idleMs),
      ratio: ratio(idleMs / bare),
      goal: '(informative)',
      met: '',
    },
    {
      measurement: `sync, ${count(result.backups)} stored, 0 new: S3 requests (${describeS3(idle)}); Kubernetes requests ${idle.kubeRequests}`,
      baseline: `${lists} LIST + 1 GET`,
      skiff: `${idle.s3.ListObjectsV2 ?? 0} LIST + ${reads(idle)} GET`,
      ratio: '',
      goal: `${lists} LIST + 1 GET, no Kubernetes write`,
      met: met((idle.s3.ListObjectsV2 ?? 0) === lists && reads(idle) === 1 && idle.created === 0),
    },
    {
      measurement:
        `sync, ${count(result.backups)} stored, ${result.newPerRun} new: S3 requests (${describeS3(busy)}: LISTs of backups/ and the deletion markers); ` +
        `Kubernetes requests ${busy.kubeRequests}; wall time`,
      baseline: ms(idleMs),
      skiff: ms(busyMs),
      ratio: `${ratio(extraReads / result.newPerRun)} GET per new backup`,
      goal: '<= 2 GETs per new backup',
      met: met(extraReads / result.newPerRun <= 2 && busy.newBackups === result.newPerRun),
    },
    {
      measurement: `first sync of ${count(result.backups)} backups (all new; ${ms(result.writeMs)} to write them): S3 requests (${describeS3(result.first)})`,
      baseline: ms(bare),
      skiff: ms(result.first.ms),
      ratio: `${ratio((reads(result.first) - 1) / result.backups)} GET per backup`,
      goal: '<= 2 GETs per new backup',
      met: met((reads(result.first) - 1) / result.backups <= 2),
    },
  ];
}
