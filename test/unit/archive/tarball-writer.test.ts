import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { createTarballWriter } from '../../../lib/archive/tarball-writer';
import { ValidationError } from '../../../lib/core/errors';

interface ReadEntry {
  name: string;
  mode: number | undefined;
  type: string | null | undefined;
  mtime: Date | undefined;
  body: Buffer;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function readTarball(gzipped: Buffer): Promise<ReadEntry[]> {
  const entries: ReadEntry[] = [];
  const reader = extract();
  const done = (async () => {
    for await (const entry of reader) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const { name, mode, type, mtime } = entry.header;
      entries.push({ name, mode, type, mtime, body: Buffer.concat(chunks) });
    }
  })();
  reader.end(gunzipSync(gzipped));
  await done;
  return entries;
}

describe('Module: archive/tarball-writer', () => {
  it('writes entries that read back unchanged, as Velero writes them', async () => {
    const at = new Date('2024-05-01T10:20:30Z');
    const writer = createTarballWriter({ now: () => at });
    const bytes = collect(writer.stream);
    const pod = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'app' } });
    await writer.addEntry('metadata/version', '1.1.0\n');
    await writer.addEntry('resources/pods/namespaces/app/web-0.json', pod);
    await writer.addEntry('resources/binary/cluster/x.json', new Uint8Array([0, 1, 2, 255]));
    await writer.finish();

    const entries = await readTarball(await bytes);
    expect(entries.map((e) => [e.name, e.body.toString('latin1')])).toEqual([
      ['metadata/version', '1.1.0\n'],
      ['resources/pods/namespaces/app/web-0.json', pod],
      ['resources/binary/cluster/x.json', '\u0000\u0001\u0002\u00ff'],
    ]);
    for (const entry of entries) {
      expect(entry.type).toBe('file');
      // Velero's extractor makes parent directories with the file's mode: they must be enterable.
      expect(entry.mode).toBe(0o755);
      expect(entry.mtime).toEqual(at);
    }
  });

  it('keeps paths longer than a plain tar header holds', async () => {
    const writer = createTarballWriter();
    const bytes = collect(writer.stream);
    const path = `resources/${'x'.repeat(120)}.example.com/namespaces/${'n'.repeat(63)}/${'o'.repeat(200)}.json`;
    await writer.addEntry(path, '{}');
    await writer.finish();
    expect((await readTarball(await bytes)).map((e) => e.name)).toEqual([path]);
  });

  it('keeps the order of entries added without waiting', async () => {
    const writer = createTarballWriter();
    const bytes = collect(writer.stream);
    await Promise.all(Array.from({ length: 20 }, (_, i) => writer.addEntry(`e/${i}.json`, `${i}`)));
    await writer.finish();
    expect((await readTarball(await bytes)).map((e) => e.name)).toEqual(Array.from({ length: 20 }, (_, i) => `e/${i}.json`));
  });

  it('compresses at the level it is given (6 by default, as Go and so Velero do)', async () => {
    const gzipped = async (gzipLevel?: number) => {
      const writer = createTarballWriter(gzipLevel === undefined ? {} : { gzipLevel });
      const bytes = collect(writer.stream);
      await writer.addEntry('a.json', JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ i, name: `item-${i}` }))));
      await writer.finish();
      return bytes;
    };
    // Byte 8 of a gzip header (XFL) says 2 for the slowest level, 4 for the fastest, 0 otherwise.
    expect((await gzipped(9))[8]).toBe(2);
    expect((await gzipped(1))[8]).toBe(4);
    expect((await gzipped())[8]).toBe(0);
    expect((await gzipped(0)).length).toBeGreaterThan(5 * (await gzipped()).length);
  });

  it.each([-1, 10, 1.5])('refuses gzip level %d', (gzipLevel) => {
    expect(() => createTarballWriter({ gzipLevel })).toThrow(ValidationError);
  });

  it.each(['', '/abs.json', '../up.json', 'a/../b.json', 'a//b.json', 'a\\b.json', './a.json'])(
    'refuses entry path %j',
    async (path) => {
      const writer = createTarballWriter();
      await expect(writer.addEntry(path, '{}')).rejects.toThrow(ValidationError);
    },
  );

  it('refuses entries after finish', async () => {
    const writer = createTarballWriter();
    const bytes = collect(writer.stream);
    await writer.finish();
    await bytes;
    await expect(writer.addEntry('late.json', '{}')).rejects.toThrow(/already finished/);
  });

  it('waits for a slow consumer, keeping memory bounded', async () => {
    const entrySize = 64 * 1024;
    const entryCount = 64;
    // Level 0 keeps gzip output as large as its input, so the numbers below are exact enough.
    const writer = createTarballWriter({ gzipLevel: 0 });
    let accepted = 0;
    let consumed = 0;
    let worstBacklog = 0;
    const writing = (async () => {
      for (let i = 0; i < entryCount; i++) {
        await writer.addEntry(`resources/blobs/cluster/${i}.json`, randomBytes(entrySize));
        accepted++;
        worstBacklog = Math.max(worstBacklog, accepted * entrySize - consumed);
      }
      await writer.finish();
    })();

    // Nobody reads yet: the writer must stop after a few entries instead of buffering all 4 MiB.
    await sleep(100);
    const acceptedWhileStalled = accepted;
    expect(acceptedWhileStalled).toBeLessThan(8);
    expect(accepted).toBeLessThan(entryCount);

    // A slow reader: everything arrives, and the writer never gets far ahead of it.
    const chunks: Buffer[] = [];
    for await (const chunk of writer.stream) {
      chunks.push(chunk as Buffer);
      consumed += (chunk as Buffer).length;
      await sleep(1);
    }
    await writing;
    expect(accepted).toBe(entryCount);
    expect(worstBacklog).toBeLessThan(8 * entrySize);
    const entries = await readTarball(Buffer.concat(chunks));
    expect(entries).toHaveLength(entryCount);
    expect(entries.every((e) => e.body.length === entrySize)).toBe(true);
  });

  it('fails pending and later entries when the consumer gives up, instead of hanging', async () => {
    const writer = createTarballWriter({ gzipLevel: 0 });
    const pending = (async () => {
      for (let i = 0; i < 64; i++) await writer.addEntry(`e/${i}.json`, randomBytes(64 * 1024));
    })();
    await sleep(50);
    writer.stream.destroy(new Error('upload aborted'));
    await expect(pending).rejects.toThrow(/upload aborted/);
    await expect(writer.addEntry('after.json', '{}')).rejects.toThrow(/upload aborted/);
    await expect(writer.finish()).rejects.toThrow(/upload aborted/);
  });
});
