import { randomBytes } from 'node:crypto';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupProgressRecord } from '../../lib/backup/progress-record';
import { runBackup, type BackupRunnerDeps } from '../../lib/backup/run-backup';
import { getBackup } from '../../lib/backup/service';
import { backupServiceDeps } from '../../lib/backup/service';
import { storeResolver } from '../../lib/store/resolver';
import type { SkiffConfig } from '../../lib/config';
import type { KubeClient } from '../../lib/kube/client';
import type { BackupStore } from '../../lib/store/backup-store';
import { freshNamespace, s3Client } from '../bed/context';
import {
  bedConfig,
  clusterClient,
  exists,
  getBytes,
  getGzipJson,
  inParallel,
  namespacePaths,
  objectOf,
  observedDeps,
  requestBackup,
  tarEntries,
} from './backup-helpers';

/**
 * A backup larger than one invocation: stopped before the function's time limit (or
 * cut off without warning) and carried on by another invocation, it must end up with
 * every object exactly once.
 */

const PART_SIZE = 5 * 1024 * 1024;
const CONFIGMAPS_PER_NAMESPACE = 40;

let config: SkiffConfig;
let bucket: string;
let client: KubeClient;
/** `<x>` and `<x>-b`: the second sorts before the first in the API server's key order. */
let namespaces: [string, string];
let expectedPaths: Set<string>;

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('backup-resume'));
  client = await clusterClient(config);
  const first = await freshNamespace('alpha', 'resume');
  const second = `${first}-b`;
  await client.create('/api/v1/namespaces', { metadata: { name: second } });
  namespaces = [first, second];
  // ~200 KiB of incompressible data each: 80 objects, written twice, make ~24 MiB of gzip.
  const work = namespaces.flatMap((ns) => Array.from({ length: CONFIGMAPS_PER_NAMESPACE }, (_, i) => ({ ns, i })));
  await inParallel(work, 8, ({ ns, i }) =>
    client.create(`/api/v1/namespaces/${ns}/configmaps`, {
      metadata: { name: `blob-${String(i).padStart(3, '0')}` },
      binaryData: { blob: randomBytes(150 * 1024).toString('base64') },
    }),
  );
  expectedPaths = new Set();
  for (const ns of namespaces) {
    for (const path of await namespacePaths(client, ns, (gr) => gr.startsWith('events'))) expectedPaths.add(path);
  }
  expectedPaths.add(`resources/namespaces/cluster/${first}.json`).add(`resources/namespaces/v1-preferredversion/cluster/${first}.json`);
  expectedPaths.add(`resources/namespaces/cluster/${second}.json`).add(`resources/namespaces/v1-preferredversion/cluster/${second}.json`);
}, 180_000);

afterAll(async () => {
  // 16 MiB of ConfigMaps would slow every later all-namespaces backup on the shared bed.
  for (const ns of namespaces ?? []) await client.delete(`/api/v1/namespaces/${ns}`).catch(() => undefined);
  client?.close();
});

function backupRequest() {
  return { cluster: 'alpha', includedNamespaces: [...namespaces], excludedResources: ['events'], snapshotVolumes: false };
}

/** What a user checks of a finished backup: each object once, none missing, the counts agree. */
async function expectWholeBackup(name: string): Promise<number> {
  const backup = await getBackup(backupServiceDeps(config), name);
  expect(backup.status.phase).toBe('Completed');
  const entries = await tarEntries(await getBytes(bucket, `backups/${name}/${name}.tar.gz`));
  const paths = entries.map((e) => e.name);
  const duplicates = paths.filter((p, i) => paths.indexOf(p) !== i);
  expect(duplicates).toEqual([]);
  expect(new Set(paths.filter((p) => p !== 'metadata/version'))).toEqual(expectedPaths);
  const objects = expectedPaths.size / 2;
  expect(backup.status.progress).toEqual({ totalItems: objects, itemsBackedUp: objects });
  const list = await getGzipJson<Record<string, string[]>>(bucket, `backups/${name}/${name}-resource-list.json.gz`);
  expect(Object.values(list).reduce((n, names) => n + names.length, 0)).toBe(objects);
  expect(list['v1/ConfigMap']).toHaveLength(2 * CONFIGMAPS_PER_NAMESPACE + 2);
  // The bodies are the objects, not some other object's bytes.
  for (const entry of entries.filter((e) => e.name.includes('/blob-'))) {
    expect(entry.name.endsWith(`/${objectOf(entry).metadata.name}.json`)).toBe(true);
  }
  // Nothing of the run's bookkeeping is left once the backup is written.
  const leftovers = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'metadata/skiff/' }));
  expect((leftovers.Contents ?? []).map((o) => o.Key).filter((key) => key?.includes(name))).toEqual([]);
  const head = await s3Client().send(new HeadObjectCommand({ Bucket: bucket, Key: `backups/${name}/${name}.tar.gz`, PartNumber: 1 }));
  expect(head.PartsCount).toBeGreaterThanOrEqual(3);
  return head.PartsCount!;
}

/** Runner dependencies with 5 MiB parts. */
async function depsFor(name: string, remainingMs: () => number, overrides: Partial<BackupRunnerDeps> = {}) {
  const observed = await observedDeps(config, name, remainingMs, { partSize: PART_SIZE, ...overrides });
  return observed;
}

describe('a backup that outlives its invocation', () => {
  it('pauses before the time limit with nothing visible, and a second invocation completes it', async () => {
    const name = await requestBackup(config, backupRequest());
    // Plenty of time until two parts are uploaded, then below the 60 s margin.
    let uploadedParts = () => 0;
    const first = await depsFor(name, () => (uploadedParts() >= 2 ? 30_000 : 600_000));
    uploadedParts = () => first.s3.count('UploadPart');

    expect(await runBackup(first.deps, name)).toEqual({ state: 'paused' });

    expect(await exists(bucket, `backups/${name}/velero-backup.json`)).toBe(false);
    expect(await exists(bucket, `backups/${name}/${name}.tar.gz`)).toBe(false);
    const paused = await getBackup(backupServiceDeps(config), name);
    expect(paused.status.phase).toBe('InProgress');
    expect(paused.status.progress?.itemsBackedUp).toBeGreaterThan(0);
    expect(paused.status.progress!.itemsBackedUp).toBeLessThan(expectedPaths.size / 2);
    const record = (await storeResolver(config)('default').getProgress(name))!.record as BackupProgressRecord;
    expect(record.tarball!.parts.length).toBeGreaterThanOrEqual(1);
    // The names of the uploaded parts are stored beside the record, not in it: the
    // record stays small however large the backup grows.
    expect(record.tarball!.resourceListParts).toBe(record.tarball!.parts.length);
    expect(Object.values(record.tarball!.resourceList).flat()).toEqual([]);
    // Handed on at once: the lease is given back, so the next invocation is not kept waiting.
    expect(record.lease).toBeUndefined();

    const second = await depsFor(name, () => 600_000);
    expect(await runBackup(second.deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
    const parts = await expectWholeBackup(name);
    // The second invocation uploaded only the parts after the first one's checkpoint.
    expect(second.s3.count('UploadPart')).toBe(parts - record.tarball!.parts.length);
  });

  it('keeps the orderedResources order when paused in the middle of the ordered objects, each once', async () => {
    const [first, second] = namespaces;
    const blob = (i: number) => `blob-${String(i).padStart(3, '0')}`;
    // Against the API server's key order: the second namespace's blobs backwards, then one of the first's.
    const ordered = [...Array.from({ length: CONFIGMAPS_PER_NAMESPACE }, (_, i) => `${second}/${blob(CONFIGMAPS_PER_NAMESPACE - 1 - i)}`), `${first}/${blob(0)}`];
    const name = await requestBackup(config, { ...backupRequest(), orderedResources: { configmaps: ordered.join(',') } });
    let uploadedParts = () => 0;
    // The first part holds about a third of the ordered objects.
    const firstRun = await depsFor(name, () => (uploadedParts() >= 1 ? 30_000 : 600_000));
    uploadedParts = () => firstRun.s3.count('UploadPart');

    expect(await runBackup(firstRun.deps, name)).toEqual({ state: 'paused' });
    const record = (await storeResolver(config)('default').getProgress(name))!.record as BackupProgressRecord;
    const cursor = record.tarball!.cursors['configmaps']!;
    expect(cursor.ordered).toBeGreaterThan(0);
    expect(cursor.ordered).toBeLessThan(ordered.length);
    expect(cursor.lastKey).toBeUndefined();

    const secondRun = await depsFor(name, () => 600_000);
    expect(await runBackup(secondRun.deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
    await expectWholeBackup(name);
    const entries = await tarEntries(await getBytes(bucket, `backups/${name}/${name}.tar.gz`));
    const configMaps = entries
      .map((e) => /^resources\/configmaps\/namespaces\/([^/]+)\/([^/]+)\.json$/.exec(e.name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => `${m[1]}/${m[2]}`);
    expect(configMaps.slice(0, ordered.length)).toEqual(ordered);
    expect(configMaps).toHaveLength(2 * CONFIGMAPS_PER_NAMESPACE + 2);
  });

  it('answers busy to a second invocation while the first holds the lease', async () => {
    const name = await requestBackup(config, backupRequest());
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let claimed!: () => void;
    const claimedSignal = new Promise<void>((resolve) => (claimed = resolve));
    const first = await depsFor(name, () => 600_000);
    const connect = first.deps.connect;
    // The first invocation has its lease once it connects; hold it there.
    first.deps.connect = async (cluster) => {
      claimed();
      await gate;
      return connect(cluster);
    };
    const running = runBackup(first.deps, name);
    await claimedSignal;

    const second = await depsFor(name, () => 600_000);
    const outcome = await runBackup(second.deps, name);
    expect(outcome.state).toBe('busy');
    expect(second.s3.count('UploadPart') + second.s3.count('CreateMultipartUpload')).toBe(0);

    openGate();
    expect(await running).toEqual({ state: 'completed', phase: 'Completed' });
    await expectWholeBackup(name);
  });

  it('is taken over after a crash once the lease has run out, and completes without duplicates', async () => {
    const name = await requestBackup(config, backupRequest());
    const crashed = await depsFor(name, () => 3_000, { safetyMarginMs: 1_000 });
    // The invocation dies right after uploading its second part, before it checkpoints it.
    const store = crashed.deps.store;
    let died = false;
    const dying: BackupStore = Object.create(store) as BackupStore;
    dying.putProgress = (backup, record, etag) => {
      if (((record as BackupProgressRecord).tarball?.parts.length ?? 0) >= 2) {
        died = true;
        return new Promise<string>(() => undefined);
      }
      return store.putProgress(backup, record, etag);
    };
    crashed.deps.store = dying;
    void runBackup(crashed.deps, name);
    await waitUntil(() => died);

    const early = await depsFor(name, () => 600_000);
    expect((await runBackup(early.deps, name)).state).toBe('busy');
    await new Promise((resolve) => setTimeout(resolve, 3_500));

    const takeover = await depsFor(name, () => 600_000);
    expect(await runBackup(takeover.deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
    for (const c of crashed.clients) c.close();
    await expectWholeBackup(name);
    const record = await storeResolver(config)('default').getProgress(name);
    expect(record).toBeUndefined();
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
