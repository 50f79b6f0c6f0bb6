import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { ValidationError } from '../core/errors';
import { parseArchivePath, type ArchiveEntry } from './paths';

/**
 * Reads a backup tarball (gzip tar, Velero format 1.1.0, written by Velero or Skiff) as
 * a stream: each entry is parsed and handed on as it arrives, nothing is staged on disk,
 * and only one entry's bytes are held at a time.
 *
 * A tarball is input from a bucket that others can write, so it is read defensively,
 * as Velero's extractor does (pkg/archive/extractor.go refuses paths that leave the
 * restore directory):
 * - an entry whose name is absolute or has a `..` segment refuses the whole tarball
 *   (ValidationError naming the entry): such a tarball was not written by a backup;
 * - links and devices, and names outside the layout (lib/archive/paths.ts), are
 *   skipped and reported;
 * - an entry larger than `maxEntryBytes` is an error for that item only, and its bytes
 *   are drained without being kept;
 * - more than `maxTotalBytes` of decompressed tar refuses the tarball (a gzip bomb);
 * - an item whose JSON does not parse is an error for that item only.
 */

/** Bounds on what a tarball may make the reader do. */
export interface ArchiveLimits {
  /** Largest entry kept, in bytes (an object in etcd is at most ~1.5 MiB). */
  maxEntryBytes: number;
  /** Largest decompressed tar stream, in bytes, headers included. */
  maxTotalBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxEntryBytes: 8 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024 * 1024,
};

/** An object entry of the tarball. */
export type ArchiveItemEntry = Extract<ArchiveEntry, { kind: 'item' }>;

/** What the reader found in one tar entry. */
export type ArchiveRecord =
  | { kind: 'version'; version: string }
  /** An object; `bytes` is its JSON text, `object` the parsed form. */
  | { kind: 'item'; path: string; entry: ArchiveItemEntry; object: Record<string, unknown>; bytes: Buffer }
  /** An object entry that cannot be used: too large, not JSON, not an object. */
  | { kind: 'bad-item'; path: string; entry: ArchiveItemEntry; error: string }
  /** An entry outside the layout, or of a type a backup never writes. */
  | { kind: 'skipped'; path: string; reason: string };

const TAR_HEADER_BYTES = 512;

/** Why a tar entry name is unsafe, or undefined when it is not. */
export function unsafeEntryName(name: string): string | undefined {
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name) || name.startsWith('\\')) return 'it is an absolute path';
  if (name.split(/[\\/]/).includes('..')) return 'it has a ".." segment';
  if (name.includes('\0')) return 'it has a NUL character';
  return undefined;
}

function refuse(path: string, message: string): ValidationError {
  return new ValidationError('backup tarball', [
    { path, message: `${message}; the tarball was not written by a Velero or Skiff backup and is not restored` },
  ]);
}

/**
 * Reads every entry of a gzip tarball stream. See the module comment for what is
 * refused, skipped or reported.
 *
 * @param gzipped the tarball's bytes, gzip-compressed (BackupStore.openBackupContents).
 * @throws ValidationError naming the entry, for unsafe names and for a stream past
 *   `maxTotalBytes`; the stream's own errors (a broken gzip, a broken connection) as they are.
 */
export async function* readBackupArchive(
  gzipped: Readable,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): AsyncGenerator<ArchiveRecord> {
  const extractor = extract();
  let streamError: unknown;
  pipeline(gzipped, createGunzip(), extractor, (error) => {
    if (error) streamError = error;
  });
  let total = 0;
  try {
    for await (const entry of extractor) {
      const header = entry.header;
      const size = header.size ?? 0;
      total += TAR_HEADER_BYTES + size;
      if (total > limits.maxTotalBytes) {
        throw refuse(header.name, `the decompressed tarball exceeds ${limits.maxTotalBytes} bytes`);
      }
      const unsafe = unsafeEntryName(header.name);
      if (unsafe) throw refuse(header.name, `entry name ${JSON.stringify(header.name)} is refused: ${unsafe}`);
      const record = await readEntry(header, entry, size, limits);
      if (record) yield record;
    }
  } finally {
    extractor.destroy();
    gzipped.destroy();
  }
  if (streamError) throw streamError;
}

async function readEntry(header: Header, body: AsyncIterable<unknown>, size: number, limits: ArchiveLimits): Promise<ArchiveRecord | undefined> {
  const path = header.name;
  if (header.type === 'directory') {
    await drain(body);
    return undefined;
  }
  if (header.type !== 'file' && header.type !== 'contiguous-file') {
    await drain(body);
    return { kind: 'skipped', path, reason: `a ${header.type ?? 'special'} entry; a backup holds only files` };
  }
  const parsed = parseArchivePath(path);
  if (!parsed) {
    await drain(body);
    return { kind: 'skipped', path, reason: 'its name is outside the backup layout (resources/<group-resource>/...)' };
  }
  if (size > limits.maxEntryBytes) {
    await drain(body);
    if (parsed.kind === 'version-file') throw refuse(path, `metadata/version is ${size} bytes long`);
    return { kind: 'bad-item', path, entry: parsed, error: `the entry is ${size} bytes, more than the ${limits.maxEntryBytes} allowed` };
  }
  const bytes = await collect(body);
  if (parsed.kind === 'version-file') return { kind: 'version', version: bytes.toString('utf8').trim() };
  try {
    const object: unknown = JSON.parse(bytes.toString('utf8'));
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      return { kind: 'bad-item', path, entry: parsed, error: 'the entry is JSON but not an object' };
    }
    return { kind: 'item', path, entry: parsed, object: object as Record<string, unknown>, bytes };
  } catch (error) {
    return { kind: 'bad-item', path, entry: parsed, error: `the entry is not valid JSON (${(error as Error).message})` };
  }
}

async function collect(body: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function drain(body: AsyncIterable<unknown>): Promise<void> {
  for await (const _chunk of body) {
    // Discarded: the extractor moves on only once the entry's bytes are read.
  }
}
