import { createGzip, type Gzip } from 'node:zlib';
import { ValidationError, type FieldIssue } from '../core/errors';
import { MIN_PART_SIZE } from '../store/limits';
import { END_OF_ARCHIVE, TAR_BLOCK_SIZE, encodeFileHeader, fitsUstar, paddingSize, writeUstarFileHeader } from './tar-header';

/**
 * Writes a gzipped tarball as a sequence of parts for a multipart upload. Each part is
 * one complete gzip member holding whole tar entries; the parts concatenated are one
 * valid .tar.gz, since gzip readers read members one after another (Go's gzip.Reader,
 * which Velero uses, does so by default, as do GNU tar and zlib).
 *
 * Because a part never splits an entry and carries its own gzip state, a writer can
 * stop after any part (see flush) and a later invocation can continue the same tarball
 * with the next entry into the next part, without the compressor state of the first.
 *
 * Memory: the member being compressed (about partSize), at most two finished parts
 * being uploaded, and the input batch: about 3 x partSize, whatever the tarball's size,
 * as long as entries are small next to partSize (Kubernetes objects are at most ~1.5 MiB).
 */

/** Part size when none is given: large enough for 80 GB in 10,000 parts, small for Lambda memory. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/** zlib level when none is given: the one Go's gzip (and so Velero) uses. */
const DEFAULT_GZIP_LEVEL = 6;

/**
 * Mode of every file entry, as Velero writes them: its extractor
 * creates each parent directory with the file's mode, so 0644 would make directories it
 * cannot enter.
 */
const FILE_MODE = 0o755;

/** Parts being uploaded at once: one uploads while the next compresses. */
const MAX_PARTS_IN_FLIGHT = 2;

/**
 * Most tar bytes gathered before one write to zlib: every write is a trip to the thread
 * pool, too costly per small entry. Member size is checked after each batch, so a batch
 * is also kept to an eighth of partSize, which bounds how far a part overshoots it.
 */
const MAX_INPUT_BATCH = 256 * 1024;

/** Input batches handed to zlib and not yet compressed, beyond which ready() waits. */
const MAX_BATCHES_COMPRESSING = 2;

/**
 * Room a batch keeps beyond MAX_INPUT_BATCH, so that an ordinary object (both of its
 * entries) still fits before the batch is handed over; larger ones get a batch of their own.
 */
const MAX_ENTRY_OVERSHOOT = 64 * 1024;

/** zlib output buffer size: fewer, larger chunks per part. */
const GZIP_CHUNK_SIZE = 128 * 1024;

export interface TarPartsOptions {
  /**
   * Receives each finished part, with its index (0 for the first part of the tarball).
   * Up to two calls run at once; the writer waits for one to settle before handing over
   * a third, which is the backpressure. A rejection fails the writer.
   */
  onPart: (bytes: Buffer, partIndex: number) => Promise<void>;
  /** A member is closed as a part once its compressed size reaches this, after an entry. */
  partSize?: number;
  /** Least size of a part that is not the last (S3's 5 MiB); flush refuses smaller ones. */
  minPartSize?: number;
  /** zlib compression level, 0 (none) to 9 (smallest). */
  gzipLevel?: number;
  /** Clock for entry modification times. */
  now?: () => Date;
  /** Index of the first part this writer emits: the next part of a resumed tarball. */
  firstPartIndex?: number;
}

/** One gzip member being written, collecting its compressed bytes. */
class Member {
  private readonly gzip: Gzip;
  private chunks: Buffer[] = [];
  private readonly ended: Promise<void>;
  /** Compressed bytes so far; a lower bound of the member's final size. */
  size = 0;

  constructor(level: number) {
    this.gzip = createGzip({ level, chunkSize: GZIP_CHUNK_SIZE });
    this.gzip.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.size += chunk.byteLength;
    });
    this.ended = new Promise((resolve, reject) => {
      this.gzip.once('end', resolve);
      this.gzip.once('error', reject);
    });
    // Failures surface through write() and end(); this only keeps them from being unhandled.
    this.ended.catch(() => undefined);
  }

  /** Resolves once zlib has compressed `input`, so `size` counts it. */
  write(input: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.gzip.write(input, (error) => (error ? reject(error) : resolve()));
      this.ended.catch(reject);
    });
  }

  /** Ends the member; resolves once all its compressed bytes are collected. */
  async end(): Promise<void> {
    this.gzip.end();
    await this.ended;
  }

  /** The member's bytes as one buffer, releasing the chunks. */
  take(): Buffer {
    const bytes = Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    return bytes;
  }
}

function optionIssues(options: TarPartsOptions): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const minPartSize = options.minPartSize ?? MIN_PART_SIZE;
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  const level = options.gzipLevel ?? DEFAULT_GZIP_LEVEL;
  const first = options.firstPartIndex ?? 0;
  if (!Number.isInteger(minPartSize) || minPartSize < 1) {
    issues.push({ path: 'minPartSize', message: `must be a positive integer, got ${minPartSize}` });
  }
  if (!Number.isInteger(partSize) || partSize < minPartSize) {
    issues.push({ path: 'partSize', message: `must be an integer of at least ${minPartSize} bytes (minPartSize), got ${partSize}` });
  }
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    issues.push({ path: 'gzipLevel', message: `must be an integer from 0 (no compression) to 9 (smallest), got ${level}` });
  }
  if (!Number.isInteger(first) || first < 0) {
    issues.push({ path: 'firstPartIndex', message: `must be an integer of at least 0, got ${first}` });
  }
  return issues;
}

/** A tarball writer whose output is a sequence of gzip-member parts; see the module comment. */
export class TarParts {
  private readonly onPart: TarPartsOptions['onPart'];
  private readonly partSize: number;
  private readonly minPartSize: number;
  private readonly level: number;
  private readonly inputBatch: number;
  private readonly now: () => Date;
  private partIndex: number;

  private member: Member | undefined;
  /** Tar bytes not yet handed to zlib: entries are written straight into it. */
  private batch: Buffer = EMPTY;
  private batchUsed = 0;
  /** Batches handed to the current member's zlib, oldest first, some perhaps done. */
  private compressions: Promise<void>[] = [];
  private readonly uploads = new Set<Promise<void>>();
  private failure: unknown;
  private finishing = false;
  /** Set while flush or finish runs: entries added then could land on either side of the part boundary. */
  private closingPart = false;
  /** Operations run one after another, so callers that do not await still keep order. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: TarPartsOptions) {
    const issues = optionIssues(options);
    if (issues.length > 0) throw new ValidationError('tarball parts writer', issues);
    this.onPart = options.onPart;
    this.minPartSize = options.minPartSize ?? MIN_PART_SIZE;
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.level = options.gzipLevel ?? DEFAULT_GZIP_LEVEL;
    this.inputBatch = Math.min(MAX_INPUT_BATCH, Math.ceil(this.partSize / 8));
    this.now = options.now ?? (() => new Date());
    this.partIndex = options.firstPartIndex ?? 0;
  }

  /**
   * Compressed bytes of the part being written, so far: a lower bound of its size (up to
   * three input batches may still wait for compression), for callers that choose part
   * boundaries themselves with flush.
   */
  get openMemberBytes(): number {
    return this.member?.size ?? 0;
  }

  /** Index the next part will have; after finish, the number of parts of the whole tarball. */
  get nextPartIndex(): number {
    return this.partIndex;
  }

  /**
   * Adds a file. Resolves once its bytes are compressed (so openMemberBytes counts
   * them), which also waits while two parts are being uploaded. An invalid path rejects
   * without harming the writer; any other failure (compression, a rejected onPart)
   * fails every later call. append and ready do the same for many entries at less cost.
   */
  addEntry(path: string, bytes: Uint8Array | string): Promise<void> {
    try {
      this.append([path], bytes);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.takeUpTo(0);
  }

  /**
   * Adds one file under each of `paths`, the body encoded once and copied (Velero writes
   * every object twice: under its version and under `<version>-preferredversion`).
   * Synchronous, so a page of objects costs no trip through the event loop per entry;
   * the caller awaits ready() every so often, which is the backpressure. Throws without
   * writing anything when a path is unsafe, and throws once the writer has failed.
   * Not to be called while flush or finish is pending.
   */
  append(paths: readonly string[], body: Uint8Array | string): void {
    if (this.finishing) throw new Error(`cannot add ${paths[0]}: the tarball is already finished`);
    if (this.closingPart) throw new Error(`cannot add ${paths[0]} while a part is being closed; await flush() first`);
    this.throwIfFailed();
    const ustar = paths.map(fitsUstar);
    const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
    const padded = size + paddingSize(size);
    const mtime = this.now();
    const longHeaders = paths.map((path, i) => (ustar[i] ? undefined : encodeFileHeader({ path, size, mode: FILE_MODE, mtime })));
    const needed = longHeaders.reduce((total, header) => total + (header?.byteLength ?? TAR_BLOCK_SIZE) + padded, 0);
    this.reserve(needed);

    const batch = this.batch;
    let bodyAt = -1;
    for (const [i, path] of paths.entries()) {
      const header = longHeaders[i];
      if (header) header.copy(batch, this.batchUsed);
      else writeUstarFileHeader(batch, this.batchUsed, { path, size, mode: FILE_MODE, mtime });
      const start = this.batchUsed + (header?.byteLength ?? TAR_BLOCK_SIZE);
      if (bodyAt >= 0) batch.copyWithin(start, bodyAt, bodyAt + size);
      // All-ASCII text (byte length = length) is copied as latin1, the same bytes without UTF-8 encoding work.
      else if (typeof body === 'string') batch.write(body, start, size, size === body.length ? 'latin1' : 'utf8');
      else batch.set(body, start);
      bodyAt = start;
      batch.fill(0, start + size, start + padded);
      this.batchUsed = start + padded;
    }
    if (this.batchUsed >= this.inputBatch) this.dispatchBatch();
  }

  /**
   * Resolves once the writer can take more: at most a few batches wait for zlib, and a
   * member that reached partSize has been handed over as a part. Rejects once the writer
   * has failed.
   */
  ready(): Promise<void> {
    return this.takeUpTo(MAX_BATCHES_COMPRESSING);
  }

  /** Waits until at most `batches` handed-over batches are still compressing; closes a full part. */
  private takeUpTo(batches: number): Promise<void> {
    return this.serialize(async () => {
      while (this.compressions.length > batches) await this.compressions.shift();
      if ((this.member?.size ?? 0) >= this.partSize) await this.emitMember();
    });
  }

  /**
   * A checkpoint: closes the current member as a part and waits until every part handed
   * over so far is uploaded, then resolves true: every entry added so far is stored.
   * A member below minPartSize cannot be closed (only the last part of an upload may be
   * smaller), so then nothing happens and it resolves false; add entries and try again.
   */
  flush(): Promise<boolean> {
    this.closingPart = true;
    return this.serialize(async () => {
      try {
        this.dispatchBatch();
        await this.compressed();
        if (this.member !== undefined && this.member.size < this.minPartSize) return false;
        await this.emitMember();
        await this.settleUploads();
        return true;
      } finally {
        this.closingPart = false;
      }
    });
  }

  /**
   * Ends the tarball: the end-of-archive blocks go into the last member, which is
   * emitted as the final part however small. Resolves once every part is uploaded.
   */
  finish(): Promise<void> {
    this.finishing = true;
    return this.serialize(async () => {
      this.reserve(END_OF_ARCHIVE.byteLength);
      END_OF_ARCHIVE.copy(this.batch, this.batchUsed);
      this.batchUsed += END_OF_ARCHIVE.byteLength;
      this.dispatchBatch();
      await this.emitMember();
      await this.settleUploads();
    });
  }

  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(async () => {
      this.throwIfFailed();
      try {
        return await operation();
      } catch (error) {
        this.failure ??= error;
        throw error;
      }
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Makes room for `bytes` more in the batch, handing the batch to zlib first if it is too full. */
  private reserve(bytes: number): void {
    if (this.batchUsed + bytes <= this.batch.byteLength) return;
    this.dispatchBatch();
    // A fresh buffer each time: zlib reads the one handed over until it is compressed.
    this.batch = Buffer.allocUnsafe(Math.max(this.inputBatch + MAX_ENTRY_OVERSHOOT, bytes));
  }

  /** Hands the batch's bytes to the current member's zlib without waiting for them. */
  private dispatchBatch(): void {
    if (this.batchUsed === 0) return;
    const input = this.batch.subarray(0, this.batchUsed);
    this.batch = this.batch.subarray(this.batchUsed);
    this.batchUsed = 0;
    this.member ??= new Member(this.level);
    const written = this.member.write(input);
    // Failures surface through ready, flush and finish; this only keeps them handled.
    written.catch((error: unknown) => {
      this.failure ??= error;
    });
    this.compressions.push(written);
  }

  /** Waits until zlib has taken every batch handed over, so `member.size` counts them. */
  private async compressed(): Promise<void> {
    while (this.compressions.length > 0) await this.compressions.shift();
  }

  /**
   * Ends the current member and hands it to onPart. Waits for an upload slot before
   * joining the member's chunks into one buffer, so at most three parts' worth of
   * bytes exist at once.
   */
  private async emitMember(): Promise<void> {
    const member = this.member;
    if (member === undefined) return;
    this.member = undefined;
    // Batches handed to this member are finished by end(); later ones go to the next member.
    this.compressions = [];
    await member.end();
    while (this.uploads.size >= MAX_PARTS_IN_FLIGHT) await Promise.race(this.uploads);
    this.throwIfFailed();
    const bytes = member.take();
    const index = this.partIndex++;
    const upload: Promise<void> = Promise.resolve()
      .then(() => this.onPart(bytes, index))
      .then(
        () => {
          this.uploads.delete(upload);
        },
        (error: unknown) => {
          this.uploads.delete(upload);
          this.failure ??= error;
        },
      );
    this.uploads.add(upload);
  }

  private async settleUploads(): Promise<void> {
    while (this.uploads.size > 0) await Promise.all(this.uploads);
    this.throwIfFailed();
  }
}

const EMPTY = Buffer.alloc(0);
