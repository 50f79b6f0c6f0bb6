import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TarParts } from '../../lib/archive/tar-parts';
import { storageLocationSchema } from '../../lib/config/schema';
import { ConflictError, NotFoundError, RemoteError } from '../../lib/core/errors';
import { createBackupStore, type BackupStore } from '../../lib/store/backup-store';
import { type MultipartState, type UploadedPart } from '../../lib/store/multipart';
import { createS3Client, type S3RequestCounter } from '../../lib/store/s3-client';
import { serializeBackup } from '../../lib/velero/backup';
import { forBackup } from '../builders';
import { bedState, freshBucket } from '../bed/context';
import { readTar } from '../support/tar';

// The BackupStore against the bed's MinIO: conditional writes, listing and deleting by
// request count, read-only locations, progress records and resumable uploads. Each test
// works in a bucket of its own.

const MiB = 1024 * 1024;
const KEY_ENV = 'SKIFF_TEST_S3_ACCESS_KEY';
const SECRET_ENV = 'SKIFF_TEST_S3_SECRET_KEY';

interface Options {
  accessMode?: 'ReadWrite' | 'ReadOnly';
  secretAccessKey?: string;
  prefix?: string;
}

/**
 * A store for `bucket` built the way Skiff builds one from its configuration: a parsed
 * location whose credentials name environment variables, resolved on first use. Each
 * call is a separate client, as a separate Lambda invocation would have.
 */
function storeFor(bucket: string, options: Options = {}): { store: BackupStore; requests: S3RequestCounter } {
  const { minio } = bedState();
  const location = storageLocationSchema.parse({
    name: 'primary',
    bucket,
    region: minio.region,
    endpoint: minio.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: { fromEnv: KEY_ENV }, secretAccessKey: { fromEnv: SECRET_ENV } },
    accessMode: options.accessMode ?? 'ReadWrite',
    ...(options.prefix ? { prefix: options.prefix } : {}),
  });
  const env = { [KEY_ENV]: minio.accessKey, [SECRET_ENV]: options.secretAccessKey ?? minio.secretKey };
  const { s3, requests } = createS3Client(location, { env });
  return { store: createBackupStore(s3, location), requests };
}

function backupJson(name: string): string {
  return serializeBackup(forBackup('velero', name).storageLocation('primary').phase('Completed').formatVersion().result());
}

/** Runs `task` over `items` with `concurrency` at a time. */
async function inParallel<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function untar(tar: Buffer): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  for (const { header, body } of await readTar(tar)) {
    expect(entries.has(header.name), `${header.name} appears twice`).toBe(false);
    entries.set(header.name, body);
  }
  return entries;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('BackupStore on MinIO', () => {
  it('creates an object only once with ifNoneMatch, and replaces it only at the ETag it read', async () => {
    // Prepare
    const { store } = storeFor(await freshBucket('store-conditional'));
    const key = store.layout.backupMetadataKey('b1');
    const first = await store.putObject(key, '{"first":true}', { ifNoneMatch: true, contentType: 'application/json' });

    // Act
    const again = await rejection(store.putObject(key, '{"second":true}', { ifNoneMatch: true }));
    const stale = await rejection(store.putObject(key, '{"third":true}', { ifMatch: '"0123456789abcdef0123456789abcdef"' }));
    const replaced = await store.putObject(key, '{"fourth":true}', { ifMatch: first.etag as string });

    // Assess
    expect(again).toBeInstanceOf(ConflictError);
    expect((again as Error).message).toContain('already exists in storage location "primary"');
    expect(stale).toBeInstanceOf(ConflictError);
    expect(replaced.etag).not.toBe(first.etag);
    expect(await store.getJson(key)).toEqual({ fourth: true });
  });

  it('reads objects, JSON and gzipped JSON, and answers undefined for missing keys', async () => {
    // Prepare
    const { store } = storeFor(await freshBucket('store-read'), { prefix: 'cluster/prod' });
    const resultsKey = store.layout.backupResultsKey('b1');
    await store.putObject(resultsKey, gzipSync(JSON.stringify({ errors: {}, warnings: {} })));
    await store.putObject(store.layout.backupMetadataKey('b1'), backupJson('b1'));

    // Act
    const results = await store.getJson(resultsKey);
    const backup = await store.getBackupMetadata('b1');
    const head = await store.headObject(resultsKey);

    // Assess
    expect(resultsKey).toBe('cluster/prod/backups/b1/b1-results.gz');
    expect(results).toEqual({ errors: {}, warnings: {} });
    expect(backup?.metadata.name).toBe('b1');
    expect(backup?.status.phase).toBe('Completed');
    expect(head?.size).toBeGreaterThan(0);
    expect(await store.getObject(store.layout.backupLogKey('b1'))).toBeUndefined();
    expect(await store.getJson(store.layout.backupLogKey('b1'))).toBeUndefined();
    expect(await store.headObject(store.layout.backupLogKey('b1'))).toBeUndefined();
    expect(await store.getBackupMetadata('missing')).toBeUndefined();
  });

  it('lists 1,001 backups with exactly 2 LISTs and no GETs', async () => {
    // Prepare
    const { store, requests } = storeFor(await freshBucket('store-list'));
    const names = Array.from({ length: 1001 }, (_, i) => `backup-${String(i).padStart(4, '0')}`);
    await inParallel(names, 32, (name) => store.putObject(store.layout.backupMetadataKey(name), backupJson(name)));
    // A stray object directly under backups/ is no backup.
    await store.putObject(`${store.layout.dirPrefix('backups')}stray.txt`, 'not a backup');
    requests.reset();

    // Act
    const listed = await store.listBackupNames();

    // Assess
    expect(listed).toEqual(names);
    expect(requests.byOperation()).toEqual({ ListObjectsV2: 2 });
  });

  it('deletes a backup with exactly 1 LIST and 1 DeleteObjects, leaving its neighbours', async () => {
    // Prepare
    const { store, requests } = storeFor(await freshBucket('store-delete'));
    const { layout } = store;
    const keysOf = (b: string) => [
      layout.backupContentsKey(b),
      layout.backupLogKey(b),
      layout.backupResourceListKey(b),
      layout.backupResultsKey(b),
      layout.backupVolumeInfoKey(b),
      layout.backupItemOperationsKey(b),
      layout.csiVolumeSnapshotsKey(b),
      layout.csiVolumeSnapshotContentsKey(b),
      layout.csiVolumeSnapshotClassesKey(b),
      layout.backupMetadataKey(b),
    ];
    // "daily" and "daily-2" share a key prefix without the folder's slash.
    await inParallel([...keysOf('daily'), ...keysOf('daily-2')], 16, (key) => store.putObject(key, `content of ${key}`));
    requests.reset();

    // Act
    const deleted = await store.deleteBackup('daily');
    const counted = requests.byOperation();
    const again = await store.deleteBackup('daily');

    // Assess
    expect(deleted).toBe(10);
    expect(counted).toEqual({ ListObjectsV2: 1, DeleteObjects: 1 });
    expect(again).toBe(0);
    expect(await store.listBackupNames()).toEqual(['daily-2']);
    expect(await store.headObject(layout.backupContentsKey('daily-2'))).toBeDefined();
  });

  it('refuses every write to a ReadOnly location without sending it, and still reads', async () => {
    // Prepare
    const bucket = await freshBucket('store-readonly');
    const { store: writer } = storeFor(bucket);
    await writer.putObject(writer.layout.backupMetadataKey('b1'), backupJson('b1'));
    const { store, requests } = storeFor(bucket, { accessMode: 'ReadOnly' });

    // Act
    const refusals = await Promise.all([
      rejection(store.putObject(store.layout.backupMetadataKey('b2'), '{}')),
      rejection(store.deleteBackup('b1')),
      rejection(store.putProgress('b2', { step: 1 }, undefined)),
      rejection(store.deleteProgress('b2')),
      rejection(store.multipart.startMultipart(store.layout.backupContentsKey('b2'))),
      rejection(store.multipart.uploadPart(store.layout.backupContentsKey('b2'), 'upload-id', 1, Buffer.from('x'))),
    ]);
    const writes = requests.total();

    // Assess
    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(ConflictError);
      expect((refusal as Error).message).toMatch(/storage location "primary" is ReadOnly.*set its accessMode to ReadWrite/);
    }
    expect(writes).toBe(0);
    expect(await store.listBackupNames()).toEqual(['b1']);
  });

  it('lets only one of two writers own a backup through its progress record', async () => {
    // Prepare
    const bucket = await freshBucket('store-progress');
    const [a, b] = [storeFor(bucket).store, storeFor(bucket).store] as const;

    // Act: both start the same backup.
    const created = await Promise.allSettled([a.putProgress('b1', { owner: 'a' }, undefined), b.putProgress('b1', { owner: 'b' }, undefined)]);
    // Both read the record, then both try to move it on from what they read.
    const [seenByA, seenByB] = await Promise.all([a.getProgress('b1'), b.getProgress('b1')]);
    const updated = await Promise.allSettled([
      a.putProgress('b1', { owner: 'a', step: 2 }, seenByA?.etag),
      b.putProgress('b1', { owner: 'b', step: 2 }, seenByB?.etag),
    ]);
    const final = await a.getProgress('b1');
    await a.putProgress('b2', { owner: 'a' }, undefined);
    const running = await a.listProgressNames();
    await b.deleteProgress('b1');

    // Assess
    expect(created.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lostCreate = created.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lostCreate.reason).toBeInstanceOf(ConflictError);
    expect(lostCreate.reason.message).toContain('backup "b1" is already being written');
    expect(seenByA?.etag).toBe(seenByB?.etag);
    expect(updated.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lostUpdate = updated.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lostUpdate.reason).toBeInstanceOf(ConflictError);
    expect(lostUpdate.reason.message).toContain('taken over by another writer');
    const winner = updated[0]?.status === 'fulfilled' ? 'a' : 'b';
    expect(final?.record).toEqual({ owner: winner, step: 2 });
    expect(running).toEqual(['b1', 'b2']);
    expect(await a.getProgress('b1')).toBeUndefined();
  });

  it('resumes a multipart tarball after an invocation stopped, completing it to the whole tar', { timeout: 240_000 }, async () => {
    // Prepare: entries of random bytes, so that every part is about the part size.
    const bucket = await freshBucket('store-resume');
    const entries = Array.from({ length: 72 }, (_, i) => ({
      path: `resources/configmaps/namespaces/default/${'long-name-'.repeat(10)}${i}.json`,
      body: randomBytes(256 * 1024),
    }));
    const partSize = 5 * MiB;
    const key = (store: BackupStore) => store.layout.backupContentsKey('big');
    interface Checkpoint {
      upload: MultipartState;
      entriesDone: number;
    }

    // Act, first invocation: upload until two parts are stored and recorded, then
    // upload a third part nobody records, and stop as a timed-out Lambda would.
    await (async () => {
      const { store } = storeFor(bucket);
      const upload: MultipartState = { key: key(store), uploadId: await store.multipart.startMultipart(key(store)), parts: [] };
      const writer = new TarParts({
        partSize,
        gzipLevel: 1,
        onPart: async (bytes, index) => {
          upload.parts.push(await store.multipart.uploadPart(upload.key, upload.uploadId, index + 1, bytes));
        },
      });
      let done = 0;
      do {
        const entry = entries[done++] as (typeof entries)[number];
        await writer.addEntry(entry.path, entry.body);
      } while (!(writer.nextPartIndex >= 2 && (await writer.flush())));
      const checkpoint: Checkpoint = { upload: { ...upload, parts: [...upload.parts] }, entriesDone: done };
      await store.putProgress('big', checkpoint, undefined);
      while (writer.nextPartIndex < 3) {
        const entry = entries[done++] as (typeof entries)[number];
        await writer.addEntry(entry.path, entry.body);
      }
      await writer.flush();
    })();

    // Act, second invocation: only the stored state is known.
    const { store, requests } = storeFor(bucket);
    const progress = await store.getProgress('big');
    const recorded = progress?.record as Checkpoint;
    const upload = recorded.upload;
    const listedBeforeResume = await store.multipart.listParts(upload.key, upload.uploadId);
    const parts: UploadedPart[] = [...upload.parts];
    const writer = new TarParts({
      partSize,
      gzipLevel: 1,
      firstPartIndex: parts.length,
      onPart: async (bytes, index) => {
        parts.push(await store.multipart.uploadPart(upload.key, upload.uploadId, index + 1, bytes));
      },
    });
    for (const entry of entries.slice(recorded.entriesDone)) await writer.addEntry(entry.path, entry.body);
    await writer.finish();
    const completed = await store.multipart.complete(upload.key, upload.uploadId, parts, { ifNoneMatch: true });
    await store.deleteProgress('big');
    const counted = requests.byOperation();

    // Assess
    expect(recorded.upload.parts.map((p) => p.partNumber)).toEqual([1, 2]);
    expect(listedBeforeResume.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    expect(completed.etag).toMatch(new RegExp(`-${parts.length}"?$`));
    const tarball = await store.getObject(upload.key);
    const files = await untar(gunzipSync(tarball as Buffer));
    expect([...files.keys()]).toEqual(entries.map((e) => e.path));
    for (const entry of entries) expect(files.get(entry.path)?.equals(entry.body)).toBe(true);
    expect(counted).toMatchObject({ GetObject: 1, ListParts: 1, CompleteMultipartUpload: 1, UploadPart: parts.length - 2 });
  });

  it('refuses to complete an upload over an existing object when asked to create only', async () => {
    // Prepare
    const { store } = storeFor(await freshBucket('store-complete-exists'));
    const key = store.layout.backupContentsKey('b1');
    await store.putObject(key, 'already here');
    const uploadId = await store.multipart.startMultipart(key);
    const part = await store.multipart.uploadPart(key, uploadId, 1, Buffer.from('new content'));

    // Act
    const refused = await rejection(store.multipart.complete(key, uploadId, [part], { ifNoneMatch: true }));
    await store.multipart.abort(key, uploadId);

    // Assess
    expect(refused).toBeInstanceOf(ConflictError);
    expect((await store.getObject(key))?.toString()).toBe('already here');
  });

  it('aborts an upload so that no object appears, and aborting again is harmless', async () => {
    // Prepare
    const { store } = storeFor(await freshBucket('store-abort'));
    const key = store.layout.backupContentsKey('b1');
    const uploadId = await store.multipart.startMultipart(key);
    await store.multipart.uploadPart(key, uploadId, 1, randomBytes(5 * MiB));

    // Act
    await store.multipart.abort(key, uploadId);
    await store.multipart.abort(key, uploadId);

    // Assess
    expect(await store.headObject(key)).toBeUndefined();
    expect(await store.listBackupNames()).toEqual([]);
    await expect(store.multipart.listParts(key, uploadId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('explains refused credentials without revealing them', async () => {
    // Prepare
    const wrongSecret = 'wrong-secret-do-not-print-0123456789';
    const { store } = storeFor(await freshBucket('store-credentials'), { secretAccessKey: wrongSecret });

    // Act
    const error = await rejection(store.listBackupNames());

    // Assess
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as Error).message).toMatch(/object store location "primary": ListObjectsV2 .* failed with SignatureDoesNotMatch/);
    expect((error as Error).message).toContain('refused the credentials of location "primary"');
    expect(JSON.stringify([(error as Error).message, { ...(error as object) }])).not.toContain(wrongSecret);
    expect(JSON.stringify(error)).not.toContain(bedState().minio.accessKey);
  });
});
