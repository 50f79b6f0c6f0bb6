import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { systemClock } from '../lib/core/clock';
import { connectCluster } from '../lib/kube/connect';
import { expiryServiceDeps, runExpiry } from '../lib/expiry/service';
import { createBackupStore } from '../lib/store/backup-store';
import { catalogEntryFor, emptyCatalog } from '../lib/store/catalog';
import { objectStoreLayout } from '../lib/store/layout';
import { createS3Client } from '../lib/store/s3-client';
import { formatTime, newBackup, type Backup } from '../lib/velero/backup';
import { CLUSTER_LABEL } from '../lib/velero/labels';
import { benchConfig } from './bed-config';
import { count, met, ms, ratio, type Row } from './table';

/**
 * Expiry's object-store cost: a location holding `total` small backups (velero-backup.json,
 * a tarball and a log each, written straight to MinIO, no snapshots) and a catalog of
 * them, `expired` of which have expired. One expiry run, with the real wiring, against
 * the baseline of deleting the same number of backups by hand in the cheapest way S3
 * allows: per backup one LIST of its folder and one DeleteObjects.
 */

export interface ExpiryBenchResult {
  total: number;
  expired: number;
  runMs: number;
  baselineMs: number;
  requests: Record<string, number>;
  baselineRequests: number;
  deleted: number;
}

const KEYS_PER_BACKUP = 3;

/** Writes `count` backups named `<prefix>-<i>` to `bucket`, expired ones first; returns their Backups. */
async function writeBackups(s3: S3Client, bucket: string, prefix: string, total: number, expired: number): Promise<Backup[]> {
  const layout = objectStoreLayout('');
  const now = Date.now();
  const backups: Backup[] = [];
  for (let i = 0; i < total; i++) {
    const name = `${prefix}-${String(i).padStart(4, '0')}`;
    const started = new Date(now - 3_600_000);
    const backup = newBackup({ name, spec: { ttl: i < expired ? '1s' : '720h' }, labels: { [CLUSTER_LABEL]: 'alpha' }, now: started });
    backup.status.phase = 'Completed';
    backup.status.completionTimestamp = formatTime(started);
    backups.push(backup);
  }
  const tiny = gzipSync('x');
  let next = 0;
  const worker = async () => {
    while (next < backups.length) {
      const backup = backups[next++]!;
      const name = backup.metadata.name;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: layout.backupContentsKey(name), Body: tiny }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: layout.backupLogKey(name), Body: tiny }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: layout.backupMetadataKey(name), Body: JSON.stringify(backup) }));
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return backups;
}

/** Per backup one LIST of its folder and one DeleteObjects of what it lists: the floor. */
async function deleteByHand(s3: S3Client, bucket: string, names: string[]): Promise<number> {
  const layout = objectStoreLayout('');
  let requests = 0;
  for (const name of names) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: layout.backupDir(name) }));
    const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    requests += 2;
  }
  return requests;
}

export async function measureExpiry(statePath: string, makeBucket: (name: string) => Promise<void>, total = 1000, expired = 100): Promise<ExpiryBenchResult> {
  const runId = Date.now().toString(36);
  const bucket = `skiff-bench-expiry-${runId}`;
  const baselineBucket = `skiff-bench-expiry-base-${runId}`;
  await makeBucket(bucket);
  await makeBucket(baselineBucket);
  const config = benchConfig(statePath, bucket);
  config.defaults.maxDeletionsPerRun = total;
  config.clusters = config.clusters.filter((c) => c.name === 'alpha');
  const location = config.storageLocations[0]!;
  const { s3, requests } = createS3Client(location);
  const backups = await writeBackups(s3, bucket, 'b', total, expired);
  await writeBackups(s3, baselineBucket, 'b', expired, expired);
  const catalog = emptyCatalog();
  for (const backup of backups) catalog.backups[backup.metadata.name] = catalogEntryFor(backup, [], location.name);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: objectStoreLayout('').catalogKey(), Body: JSON.stringify(catalog) }));

  const baselineStart = performance.now();
  const baselineRequests = await deleteByHand(s3, baselineBucket, backups.slice(0, expired).map((b) => b.metadata.name));
  const baselineMs = performance.now() - baselineStart;

  const store = createBackupStore(s3, location);
  const deps = { ...expiryServiceDeps(config), storeFor: () => store, connect: (name: string) => connectCluster(config.clusters.find((c) => c.name === name)!), clock: systemClock };
  requests.reset();
  const start = performance.now();
  const result = await runExpiry(deps, { location: location.name });
  const runMs = performance.now() - start;
  return { total, expired, runMs, baselineMs, requests: requests.byOperation(), baselineRequests, deleted: result.deleted.length };
}

/** The bench table's rows for expiry. */
export function expiryRows(r: ExpiryBenchResult): Row[] {
  const total = Object.values(r.requests).reduce((a, b) => a + b, 0);
  const lists = r.requests.ListObjectsV2 ?? 0;
  const deletes = r.requests.DeleteObjects ?? 0;
  return [
    {
      measurement: `expiry: ${r.expired} of ${r.total} stored backups (${KEYS_PER_BACKUP} keys each, no snapshots; ${r.deleted} deleted), wall time`,
      baseline: `${ms(r.baselineMs)} (LIST + DeleteObjects per backup, by hand)`,
      skiff: ms(r.runMs),
      ratio: ratio(r.runMs / r.baselineMs),
      goal: 'informative',
      met: '',
    },
    {
      measurement: 'expiry: S3 requests of the run',
      baseline: `${r.baselineRequests} by hand`,
      skiff: `${count(total)}: ${Object.entries(r.requests).map(([op, n]) => `${op} ${n}`).join(', ')}`,
      ratio: ratio(total / r.baselineRequests),
      goal: 'per backup 1 LIST + 1 DeleteObjects',
      met: '',
    },
    {
      measurement: 'expiry: LIST / DeleteObjects per deleted backup (whole run, incl. its fixed LISTs and the markers\' batch)',
      baseline: '1 / 1',
      skiff: `${(lists / r.expired).toFixed(2)} / ${(deletes / r.expired).toFixed(2)}`,
      ratio: '',
      goal: '1 / 1 + fixed',
      met: met(lists <= r.expired + 5 && deletes <= r.expired + 1),
    },
    {
      measurement: 'expiry: GETs (catalog, and velero-backup.json + CSI list of the expired only)',
      baseline: `${1 + 2 * r.expired}`,
      skiff: String(r.requests.GetObject ?? 0),
      ratio: '',
      goal: 'no GET of a backup that did not expire',
      met: met((r.requests.GetObject ?? 0) <= 2 + 2 * r.expired),
    },
  ];
}
