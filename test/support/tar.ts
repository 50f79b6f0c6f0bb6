import { Readable } from 'node:stream';
import { extract, type Header } from 'tar-stream';

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
