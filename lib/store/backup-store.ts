import { gunzipSync, gzipSync } from 'node:zlib';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type DeleteObjectsCommandOutput,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { StorageLocationConfig } from '../config';
import type { VolumeSnapshot, VolumeSnapshotContent } from '../csi/snapshot-api';
import { ValidationError } from '../core/errors';
import { fieldIssuesFromZod } from '../core/zod-issues';
import { ConflictError, RemoteError } from '../core/errors';
import { parseStoredBackup, type Backup } from '../velero/backup';
import { objectStoreLayout, type ObjectStoreLayout } from './layout';
import { MAX_KEYS_PER_REQUEST } from './limits';
import { MultipartUploads } from './multipart';
import { isNotFound, isPreconditionFailed, readOnlyError, storeError, unexpectedAnswer, type StoreTarget } from './s3-errors';

/**
 * The backups of one storage location, as Velero's persistence.BackupStore sees them.
 * Keys come from the location's ObjectStoreLayout; every write is checked and every
 * failure names the location, the key and what to check.
 */

export interface PutObjectOptions {
  /** Create only: ConflictError when the key already exists (`If-None-Match: *`). */
  ifNoneMatch?: boolean;
  /** Replace only this version: ConflictError when the object's ETag differs (`If-Match`). */
  ifMatch?: string;
  contentType?: string;
  contentEncoding?: string;
}

export interface ObjectInfo {
  size: number;
  etag: string | undefined;
  lastModified: Date | undefined;
}

/** A progress record as stored, with the ETag a later put must match to replace it. */
export interface ProgressSnapshot {
  record: unknown;
  etag: string;
}

export interface BackupStore {
  /** The location's name, as configured. */
  readonly location: string;
  readonly layout: ObjectStoreLayout;
  /** Resumable uploads of large objects (the tarball) to this location. */
  readonly multipart: MultipartUploads;

  /** Writes `key`; returns the new ETag when the store reports one. */
  putObject(key: string, body: Uint8Array | string, options?: PutObjectOptions): Promise<{ etag: string | undefined }>;
  /** The object's bytes, or undefined when the key does not exist. */
  getObject(key: string): Promise<Buffer | undefined>;
  /** The object parsed as JSON (gunzipped first if it is gzip), or undefined when missing. */
  getJson(key: string): Promise<unknown>;
  /**
   * Size, ETag and modification time of the key, or undefined when missing. A HEAD answer
   * has no body to name its error, so a missing bucket reads as a missing key here.
   */
  headObject(key: string): Promise<ObjectInfo | undefined>;

  /** Names of every backup folder under backups/: one LIST per 1,000 backups, no GETs. */
  listBackupNames(): Promise<string[]>;
  /** The backup's velero-backup.json, or undefined when the backup does not exist. */
  getBackupMetadata(name: string): Promise<Backup | undefined>;
  /**
   * The VolumeSnapshotContents stored with a backup (`<b>-csi-volumesnapshotcontents.json.gz`,
   * as Velero writes it); [] when the backup has none. A list that does not parse is a
   * ValidationError naming the key and the wrong fields.
   */
  getCsiVolumeSnapshotContents(name: string): Promise<VolumeSnapshotContent[]>;
  /** The VolumeSnapshots stored with a backup (`<b>-csi-volumesnapshots.json.gz`); [] when none. */
  getCsiVolumeSnapshots(name: string): Promise<VolumeSnapshot[]>;
  /** The backup's tarball as a stream of gzip bytes, not read into memory; undefined when missing. */
  openBackupContents(name: string): Promise<Readable | undefined>;
  /**
   * A presigned GET URL of the backup's tarball, valid `expiresInSeconds`, like the URL
   * Velero's DownloadRequest answers: the caller downloads from S3 directly, with no
   * credentials of its own. Signing makes no request.
   */
  backupContentsUrl(name: string, expiresInSeconds: number): Promise<string>;
  /** A JSON document with its ETag, for a later conditional replace (`ifMatch`); undefined when missing. */
  getJsonVersion(key: string): Promise<{ document: unknown; etag: string | undefined } | undefined>;
  /** Names of the backups marked as being deleted (one LIST per 1,000 markers). */
  listDeletionMarkers(): Promise<string[]>;
  /** Names of the clusters that have a sync report in this location (one LIST per 1,000). */
  listClusterSyncReports(): Promise<string[]>;
  /** Names of the restores that have a record (one LIST per 1,000 restores, no GETs). */
  listRestoreNames(): Promise<string[]>;
  /** Deletes every object of the backup; returns how many keys were deleted (0: none left). */
  deleteBackup(name: string): Promise<number>;
  /** Removes the deletion markers of these backups: one DeleteObjects per 1,000. */
  deleteDeletionMarkers(names: readonly string[]): Promise<void>;

  /**
   * Writes the progress record of a backup being written. Pass the ETag the record had
   * when read (undefined to create it): if another writer changed or created it since,
   * ConflictError, so at most one invocation owns a backup. Returns the new ETag.
   */
  putProgress(name: string, record: unknown, previousEtag: string | undefined): Promise<string>;
  /** Names of the backups that have a progress record: one LIST per 1,000, no GETs. */
  listProgressNames(): Promise<string[]>;
  /** The progress record and its ETag, or undefined when there is none. */
  getProgress(name: string): Promise<ProgressSnapshot | undefined>;
  /**
   * Removes the progress record (once the backup is written, or abandoned) and the
   * first `resourceListParts` parts of its resource list, in one request.
   */
  deleteProgress(name: string, resourceListParts?: number): Promise<void>;
  /** Removes the first `parts` parts of a backup's resource list (a failed backup keeps its record). */
  deleteResourceListParts(name: string, parts: number): Promise<void>;
}

/**
 * The fields of stored CSI objects that sync, expiry and restore act on; the rest is
 * kept as it is. Checked so that a damaged or foreign list is reported, not acted on.
 */
const volumeSnapshotContentListSchema = z.array(
  z.looseObject({
    metadata: z.looseObject({ name: z.string().min(1) }),
    spec: z.looseObject({
      driver: z.string().min(1),
      deletionPolicy: z.enum(['Delete', 'Retain']).optional(),
      source: z.looseObject({}).optional(),
      volumeSnapshotRef: z.looseObject({}).optional(),
    }),
    status: z.looseObject({ snapshotHandle: z.string().min(1).optional() }).nullish(),
  }),
);
const volumeSnapshotListSchema = z.array(
  z.looseObject({
    metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().min(1) }),
    spec: z.looseObject({ source: z.looseObject({}) }),
  }),
);

/** A stored list: [] when the object is missing (a backup without snapshots), else checked. */
function parseStoredList(schema: z.ZodType<unknown[]>, document: unknown, source: string): unknown[] {
  if (document === undefined || document === null) return [];
  const parsed = schema.safeParse(document);
  if (!parsed.success) throw new ValidationError(source, fieldIssuesFromZod(parsed.error));
  return parsed.data;
}

const GZIP_MAGIC = [0x1f, 0x8b];

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/**
 * Order of keys in a backup's delete. Deletion is not atomic, and a crash part way
 * through must leave orphaned data rather than a backup whose velero-backup.json still
 * says it exists while its tarball is gone: Velero's sync knows nothing of Skiff's
 * deletion marker and would bring such a backup into every cluster as one that cannot
 * be restored. So velero-backup.json goes first: in the single DeleteObjects of an
 * ordinary backup (at most 1,000 keys: 1 LIST + 1 DeleteObjects, where the order within
 * the request does not matter), and in a request of its own before the other batches of
 * a larger one. What "velero-backup.json last" would have given (the backup stays known
 * until all of it is gone) comes from the deletion marker (deletion-marker.ts) instead:
 * expiry writes it before anything is deleted and removes it after this call, so Skiff
 * still shows the backup as Deleting, its rediscovery does not bring it back, and the
 * next run deletes what is left.
 */
export function deleteBatches(keys: readonly string[], metadataKey: string): string[][] {
  const rest = keys.filter((key) => key !== metadataKey);
  const metadata = keys.length === rest.length ? [] : [metadataKey];
  if (metadata.length + rest.length <= MAX_KEYS_PER_REQUEST) {
    const single = [...metadata, ...rest];
    return single.length === 0 ? [] : [single];
  }
  const batches: string[][] = metadata.length > 0 ? [metadata] : [];
  for (let i = 0; i < rest.length; i += MAX_KEYS_PER_REQUEST) batches.push(rest.slice(i, i + MAX_KEYS_PER_REQUEST));
  return batches;
}

class S3BackupStore implements BackupStore {
  readonly location: string;
  readonly layout: ObjectStoreLayout;
  readonly multipart: MultipartUploads;
  private readonly target: StoreTarget;
  private readonly writable: boolean;

  constructor(
    private readonly s3: S3Client,
    config: StorageLocationConfig,
  ) {
    this.location = config.name;
    this.layout = objectStoreLayout(config.prefix ?? '');
    this.target = {
      location: config.name,
      bucket: config.bucket,
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    };
    this.writable = config.accessMode !== 'ReadOnly';
    this.multipart = new MultipartUploads(s3, this.target, this.writable);
  }

  private get bucket(): string {
    return this.target.bucket;
  }

  private assertWritable(what: string): void {
    if (!this.writable) throw readOnlyError(this.target, what);
  }

  async putObject(key: string, body: Uint8Array | string, options: PutObjectOptions = {}): Promise<{ etag: string | undefined }> {
    this.assertWritable(`write ${key}`);
    try {
      const answer = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: options.contentType,
          ContentEncoding: options.contentEncoding,
          ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
          ...(options.ifMatch !== undefined ? { IfMatch: options.ifMatch } : {}),
        }),
      );
      return { etag: answer.ETag };
    } catch (error) {
      if ((options.ifNoneMatch || options.ifMatch !== undefined) && isPreconditionFailed(error)) {
        throw new ConflictError(
          options.ifNoneMatch
            ? `"${key}" already exists in storage location "${this.location}" and is not replaced; choose another name or delete it first`
            : `"${key}" in storage location "${this.location}" changed since it was read (ETag ${options.ifMatch}); read it again before writing`,
        );
      }
      throw storeError(this.target, 'PutObject', key, error);
    }
  }

  /** Bytes and ETag of `key`, or undefined when it does not exist. */
  private async fetchObject(key: string): Promise<{ bytes: Buffer; etag: string | undefined } | undefined> {
    try {
      const answer = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const bytes = (await answer.Body?.transformToByteArray()) ?? new Uint8Array();
      return { bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), etag: answer.ETag };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw storeError(this.target, 'GetObject', key, error);
    }
  }

  /**
   * Parses JSON, gunzipping first when the bytes are gzip: Velero's .gz files carry no
   * Content-Encoding, and JSON text never starts with gzip's magic number.
   */
  private parseJson(key: string, bytes: Buffer, whatToDo: string): unknown {
    try {
      return JSON.parse((isGzip(bytes) ? gunzipSync(bytes) : bytes).toString('utf8'));
    } catch (error) {
      throw new RemoteError(
        `object store location "${this.location}"`,
        `"${key}" in bucket "${this.bucket}" is not valid JSON (${(error as Error).message}); ${whatToDo}`,
      );
    }
  }

  async getObject(key: string): Promise<Buffer | undefined> {
    return (await this.fetchObject(key))?.bytes;
  }

  async getJsonVersion(key: string): Promise<{ document: unknown; etag: string | undefined } | undefined> {
    const found = await this.fetchObject(key);
    if (found === undefined) return undefined;
    return { document: this.parseJson(key, found.bytes, 'it is damaged; delete it and it is rebuilt'), etag: found.etag };
  }

  async getCsiVolumeSnapshotContents(name: string): Promise<VolumeSnapshotContent[]> {
    const key = this.layout.csiVolumeSnapshotContentsKey(name);
    return parseStoredList(volumeSnapshotContentListSchema, await this.getJson(key), this.describeKey(key)) as VolumeSnapshotContent[];
  }

  async getCsiVolumeSnapshots(name: string): Promise<VolumeSnapshot[]> {
    const key = this.layout.csiVolumeSnapshotsKey(name);
    return parseStoredList(volumeSnapshotListSchema, await this.getJson(key), this.describeKey(key)) as VolumeSnapshot[];
  }

  async backupContentsUrl(name: string, expiresInSeconds: number): Promise<string> {
    // Loaded by the one call that signs; a CommonJS package, so its names may sit on `default` in a bundle.
    const presigner = (await import('@aws-sdk/s3-request-presigner')) as typeof import('@aws-sdk/s3-request-presigner') & { default?: typeof import('@aws-sdk/s3-request-presigner') };
    const { getSignedUrl } = presigner.default ?? presigner;
    const key = this.layout.backupContentsKey(name);
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
  }

  async openBackupContents(name: string): Promise<Readable | undefined> {
    const key = this.layout.backupContentsKey(name);
    try {
      const answer = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return answer.Body as Readable | undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw storeError(this.target, 'GetObject', key, error);
    }
  }

  async listDeletionMarkers(): Promise<string[]> {
    return this.listNames(this.layout.deletionMarkersPrefix(), (key) => this.layout.backupNameFromDeletionMarkerKey(key));
  }

  /** The backup names of the keys under `prefix`, by `nameOf`; keys it does not name are skipped. */
  private async listNames(prefix: string, nameOf: (key: string) => string | undefined): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.listPages(prefix)) {
      for (const { Key } of page.Contents ?? []) {
        const name = Key === undefined ? undefined : nameOf(Key);
        if (name !== undefined) names.push(name);
      }
    }
    return names;
  }

  async listClusterSyncReports(): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.listPages(this.layout.clusterSyncReportsPrefix())) {
      for (const { Key } of page.Contents ?? []) {
        const name = Key === undefined ? undefined : this.layout.clusterNameFromSyncReportKey(Key);
        if (name !== undefined) names.push(name);
      }
    }
    return names;
  }

  async listRestoreNames(): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.listPages(this.layout.restoreRecordsPrefix())) {
      for (const { Key } of page.Contents ?? []) {
        const name = Key === undefined ? undefined : this.layout.restoreNameFromRecordKey(Key);
        if (name !== undefined) names.push(name);
      }
    }
    return names;
  }

  private describeKey(key: string): string {
    return `${key} in storage location "${this.location}"`;
  }

  async getJson(key: string): Promise<unknown> {
    const found = await this.fetchObject(key);
    if (found === undefined) return undefined;
    return this.parseJson(key, found.bytes, 'it is damaged or was not written by Velero or Skiff');
  }

  async headObject(key: string): Promise<ObjectInfo | undefined> {
    try {
      const answer = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: answer.ContentLength ?? 0, etag: answer.ETag, lastModified: answer.LastModified };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw storeError(this.target, 'HeadObject', key, error);
    }
  }

  /** Pages of a listing of `prefix`, following continuation tokens to the end. */
  private async *listPages(prefix: string, delimiter?: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.s3.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }),
        );
      } catch (error) {
        throw storeError(this.target, 'ListObjectsV2', prefix, error);
      }
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && !token) {
        // Stopping here would silently drop the rest of the listing.
        throw unexpectedAnswer(this.target, 'ListObjectsV2', prefix, 'a continuation token for its truncated page');
      }
    } while (token);
  }

  async listBackupNames(): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.listPages(this.layout.dirPrefix('backups'), '/')) {
      for (const { Prefix } of page.CommonPrefixes ?? []) {
        const name = Prefix === undefined ? undefined : this.layout.backupNameFromPrefix(Prefix);
        if (name !== undefined) names.push(name);
      }
    }
    return names;
  }

  async getBackupMetadata(name: string): Promise<Backup | undefined> {
    const key = this.layout.backupMetadataKey(name);
    const document = await this.getJson(key);
    if (document === undefined) return undefined;
    return parseStoredBackup(document, `${key} in storage location "${this.location}"`);
  }

  async deleteBackup(name: string): Promise<number> {
    this.assertWritable(`delete backup "${name}"`);
    const dir = this.layout.backupDir(name);
    const keys: string[] = [];
    for await (const page of this.listPages(dir)) {
      for (const { Key } of page.Contents ?? []) if (Key !== undefined) keys.push(Key);
    }
    let deleted = 0;
    for (const batch of deleteBatches(keys, this.layout.backupMetadataKey(name))) {
      await this.deleteKeys(batch, dir, `deleting backup "${name}"`, 'then delete the backup again (it resumes with what is left)');
      deleted += batch.length;
    }
    return deleted;
  }

  async deleteDeletionMarkers(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    this.assertWritable('delete deletion markers');
    const keys = names.map((name) => this.layout.deletionMarkerKey(name));
    await this.deleteInBatches(keys, this.layout.deletionMarkersPrefix(), 'deleting the deletion markers of finished deletions');
  }

  /** One DeleteObjects of at most 1,000 keys; any key it could not delete fails the call. */
  private async deleteKeys(batch: string[], where: string, what: string, retry: string): Promise<void> {
    let answer: DeleteObjectsCommandOutput;
    try {
      answer = await this.s3.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
    } catch (error) {
      throw storeError(this.target, 'DeleteObjects', where, error);
    }
    const failed = answer.Errors ?? [];
    if (failed.length === 0) return;
    const shown = failed
      .slice(0, 5)
      .map((e) => `${e.Key} (${e.Code}${e.Message ? `: ${e.Message}` : ''})`)
      .join(', ');
    throw new RemoteError(
      `object store location "${this.location}"`,
      `${what} failed for ${failed.length} of ${batch.length} key(s): ${shown}${failed.length > 5 ? ', ...' : ''}; ` +
        `check that the credentials have s3:DeleteObject on bucket "${this.bucket}" and that no Object Lock retention holds the objects, ${retry}`,
    );
  }

  async putProgress(name: string, record: unknown, previousEtag: string | undefined): Promise<string> {
    const key = this.layout.backupInProgressKey(name);
    this.assertWritable(`write the progress record of backup "${name}"`);
    let etag: string | undefined;
    try {
      ({ etag } = await this.putObject(key, gzipSync(JSON.stringify(record)), {
        contentType: 'application/json',
        contentEncoding: 'gzip',
        ...(previousEtag === undefined ? { ifNoneMatch: true } : { ifMatch: previousEtag }),
      }));
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      throw new ConflictError(
        previousEtag === undefined
          ? `backup "${name}" is already being written: it has a progress record in storage location "${this.location}"; resume it from that record or choose another name`
          : `backup "${name}" was taken over by another writer: its progress record in storage location "${this.location}" changed since ETag ${previousEtag}; this writer must stop`,
      );
    }
    if (!etag) throw unexpectedAnswer(this.target, 'PutObject', key, 'the ETag progress records need for their concurrency check');
    return etag;
  }

  async listProgressNames(): Promise<string[]> {
    return this.listNames(this.layout.backupsInProgressPrefix(), (key) => this.layout.backupNameFromInProgressKey(key));
  }

  async getProgress(name: string): Promise<ProgressSnapshot | undefined> {
    const key = this.layout.backupInProgressKey(name);
    const found = await this.fetchObject(key);
    if (found === undefined) return undefined;
    if (!found.etag) throw unexpectedAnswer(this.target, 'GetObject', key, 'the ETag progress records need for their concurrency check');
    return { record: this.parseJson(key, found.bytes, `delete it to abandon backup "${name}"`), etag: found.etag };
  }

  async deleteProgress(name: string, resourceListParts = 0): Promise<void> {
    const key = this.layout.backupInProgressKey(name);
    this.assertWritable(`delete ${key}`);
    if (resourceListParts === 0) {
      try {
        await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
      } catch (error) {
        throw storeError(this.target, 'DeleteObject', key, error);
      }
      return;
    }
    // The record last: a run stopped part way still finds its parts through it.
    await this.deleteInBatches([...this.resourceListPartKeys(name, resourceListParts), key], key, `deleting the progress of backup "${name}"`);
  }

  async deleteResourceListParts(name: string, parts: number): Promise<void> {
    if (parts === 0) return;
    this.assertWritable(`delete the resource list parts of backup "${name}"`);
    const keys = this.resourceListPartKeys(name, parts);
    await this.deleteInBatches(keys, keys[0]!, `deleting the resource list parts of backup "${name}"`);
  }

  private resourceListPartKeys(name: string, parts: number): string[] {
    return Array.from({ length: parts }, (_, i) => this.layout.backupResourceListPartKey(name, i + 1));
  }

  private async deleteInBatches(keys: string[], where: string, what: string): Promise<void> {
    for (let start = 0; start < keys.length; start += MAX_KEYS_PER_REQUEST) {
      await this.deleteKeys(keys.slice(start, start + MAX_KEYS_PER_REQUEST), where, what, 'then delete the keys left under metadata/skiff/ that name this backup');
    }
  }
}

/**
 * The BackupStore of one configured location, sending its requests through `s3` (from
 * createS3Client). Writes, deletes and uploads are refused with ConflictError when the
 * location's accessMode is ReadOnly.
 */
export function createBackupStore(s3: S3Client, location: StorageLocationConfig): BackupStore {
  return new S3BackupStore(s3, location);
}
