import type { Readable, Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { pack as createPack } from 'tar-stream';
import { ValidationError } from '../core/errors';

/**
 * Streams a backup tarball: entries go into a tar (tar-stream) that is gzipped on the way
 * out, so a backup of any size is uploaded while it is written, with bounded memory.
 *
 * Backpressure: `addEntry` resolves once its bytes are accepted by the tar stream, which
 * stops accepting while the gzip stream's buffers are full, which they are while the
 * consumer of `stream` (an upload) is slower than the writer. So a writer that awaits
 * each `addEntry` never holds more than a few buffers of data besides its own entry.
 */

/** Default zlib level: the one Go's gzip (and so Velero) uses. */
export const DEFAULT_GZIP_LEVEL = 6;

/**
 * Mode of every file entry, as Velero writes them: its extractor creates each parent
 * directory with the file's mode, so 0644 would make directories it cannot enter.
 */
const FILE_MODE = 0o755;

/** Compression level and clock of a tarball writer. */
export interface TarballWriterOptions {
  /** zlib compression level, 0 (none) to 9 (smallest). */
  gzipLevel?: number;
  /** Clock for entry modification times. */
  now?: () => Date;
}

/** A tarball being written; see createTarballWriter. */
export interface TarballWriter {
  /** The gzip bytes; read it concurrently with writing, or writing will wait forever. */
  readonly stream: Readable;
  /** Adds a file; resolves when the tar stream has taken it (slower when `stream` is not read). */
  addEntry(path: string, bytes: Uint8Array | string): Promise<void>;
  /** Ends the tarball; resolves when every byte has been handed to the gzip stream. */
  finish(): Promise<void>;
}

function assertEntryPath(path: string): void {
  const segments = path.split('/');
  const bad =
    path === '' ||
    path.startsWith('/') ||
    path.includes('\\') ||
    segments.some((segment) => segment === '' || segment === '.' || segment === '..');
  if (bad) {
    throw new ValidationError('tarball entry', [
      {
        path: 'path',
        message: `${JSON.stringify(path)} must be a relative path of non-empty segments, without "." or ".." segments or backslashes`,
      },
    ]);
  }
}

/** Resolves when `writable` can take more data; rejects if it fails or is closed first. */
function drained(writable: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      writable.off('drain', onDrain);
      writable.off('close', onClose);
      writable.off('error', onError);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the tarball stream was closed before the tarball was complete'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    writable.on('drain', onDrain);
    writable.on('close', onClose);
    writable.on('error', onError);
  });
}

/** Ends `writable`; resolves once it has processed everything written to it. */
function ended(writable: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    writable.once('error', reject);
    writable.once('close', () => reject(new Error('the tarball stream was closed before the tarball was complete')));
    writable.end((error?: Error | null) => (error ? reject(error) : resolve()));
  });
}

/** Creates a streaming gzip tarball writer; see the module comment for its memory bound. */
export function createTarballWriter(options: TarballWriterOptions = {}): TarballWriter {
  const level = options.gzipLevel ?? DEFAULT_GZIP_LEVEL;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new ValidationError('tarball writer', [
      { path: 'gzipLevel', message: `must be an integer from 0 (no compression) to 9 (smallest), got ${level}` },
    ]);
  }
  const now = options.now ?? (() => new Date());
  const tar = createPack();
  const gzip = createGzip({ level });

  let failure: Error | undefined;
  let finishing = false;
  const inFlight = new Set<(error: Error) => void>();
  const fail = (error: Error) => {
    if (failure) return;
    failure = error;
    for (const reject of inFlight) reject(error);
    inFlight.clear();
    // Without an error: the failure is reported through the promises, not as an event nobody hears.
    tar.destroy();
  };
  // Without a listener an 'error' event would crash the process; the consumer sees it too.
  gzip.on('error', fail);
  gzip.on('close', () => {
    if (!gzip.writableFinished) fail(new Error('the tarball stream was closed before the tarball was complete'));
  });

  const pump = (async () => {
    for await (const chunk of tar) {
      if (!gzip.write(chunk)) await drained(gzip);
    }
    await ended(gzip);
  })();
  pump.catch(fail);

  // Entries are written one after another, so callers that do not await still keep order.
  let tail: Promise<void> = Promise.resolve();

  const writeEntry = (path: string, body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure);
      inFlight.add(reject);
      const header = { name: path, size: body.byteLength, mode: FILE_MODE, type: 'file' as const, mtime: now() };
      try {
        tar.entry(header, body, (error) => {
          inFlight.delete(reject);
          if (error) reject(error);
          else resolve();
        });
      } catch (error) {
        inFlight.delete(reject);
        reject(error as Error);
      }
    });

  return {
    stream: gzip,

    addEntry(path, bytes) {
      if (finishing) return Promise.reject(new Error(`cannot add ${path}: the tarball is already finished`));
      try {
        assertEntryPath(path);
      } catch (error) {
        return Promise.reject(error);
      }
      // A view, not a copy: the caller's bytes are held only until the tar stream takes them.
      const body =
        typeof bytes === 'string'
          ? Buffer.from(bytes, 'utf8')
          : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const written = tail.then(() => writeEntry(path, body));
      tail = written.catch(() => undefined);
      return written;
    },

    async finish() {
      finishing = true;
      await tail;
      if (failure) throw failure;
      tar.finalize();
      await pump;
      if (failure) throw failure;
    },
  };
}
