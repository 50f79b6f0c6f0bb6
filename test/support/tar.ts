import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { extract, pack, type Header } from 'tar-stream';

/** One entry of a tar as an independent reader (tar-stream) sees it. */
export interface ReadTarEntry {
  header: Header;
  body: Buffer;
}

/** Every entry of an uncompressed tar, in order, duplicates kept (a Map would hide them). */
export async function readTar(tar: Buffer): Promise<ReadTarEntry[]> {
  const entries: ReadTarEntry[] = [];
  const extractor = extract();
  const done = new Promise<void>((resolve, reject) => {
    extractor.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        entries.push({ header, body: Buffer.concat(chunks) });
        next();
      });
    });
    extractor.on('finish', resolve);
    extractor.on('error', reject);
  });
  Readable.from([tar]).pipe(extractor);
  await done;
  return entries;
}

/** One entry for packTarball: a file with `body`, or a directory or symlink (to /etc/passwd). */
export interface PackEntry {
  name: string;
  body?: string;
  type?: 'file' | 'directory' | 'symlink';
}

/** A gzip tarball made by tar-stream's packer, which writes whatever names it is given. */
export async function packTarball(entries: readonly PackEntry[]): Promise<Buffer> {
  const packer = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    packer.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    packer.on('end', resolve);
    packer.on('error', reject);
  });
  for (const entry of entries) {
    if (entry.type === 'symlink') packer.entry({ name: entry.name, type: 'symlink', linkname: '/etc/passwd' });
    else if (entry.type === 'directory') packer.entry({ name: entry.name, type: 'directory' });
    else packer.entry({ name: entry.name }, entry.body ?? '');
  }
  packer.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}
