import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TarParts, type TarPartsOptions } from '../../../lib/archive/tar-parts';
import { ValidationError } from '../../../lib/core/errors';
import { readTar } from '../../support/tar';

const KiB = 1024;
const MiB = 1024 * KiB;
const NOW = new Date('2026-03-01T12:00:00Z');

/** Collects parts by index, with the options a test gives. */
function collectingWriter(options: Omit<TarPartsOptions, 'onPart'> = {}) {
  const parts: Buffer[] = [];
  const writer = new TarParts({
    now: () => NOW,
    ...options,
    onPart: async (bytes, index) => {
      parts[index] = bytes;
    },
  });
  return { writer, parts };
}

/** JSON that compresses like Kubernetes objects do: some structure, some entropy. */
function objectJson(i: number, padding = 40): string {
  const annotations = Object.fromEntries(
    Array.from({ length: padding }, (_, f) => [`example.com/field-${f}`, `${randomBytes(8).toString('hex')}-${i}`]),
  );
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'default', annotations } });
}

/**
 * Walks the tar headers of one part's decompressed bytes and checks they hold whole
 * entries: each header is followed by its full padded body, ending exactly at the end.
 * Returns the paths (PAX paths where present).
 */
function wholeEntries(fragment: Buffer): string[] {
  const paths: string[] = [];
  let offset = 0;
  let paxPath: string | undefined;
  while (offset < fragment.length) {
    const block = fragment.subarray(offset, offset + 512);
    if (block.every((byte) => byte === 0)) {
      offset += 512;
      continue;
    }
    const size = parseInt(block.subarray(124, 136).toString('ascii').replace(/\0.*$/, ''), 8);
    const type = String.fromCharCode(block[156] ?? 0);
    const bodyStart = offset + 512;
    const padded = Math.ceil(size / 512) * 512;
    expect(bodyStart + padded, `entry at ${offset} runs past the end of its part`).toBeLessThanOrEqual(fragment.length);
    if (type === 'x') {
      paxPath = /\d+ path=(.*)\n/.exec(fragment.subarray(bodyStart, bodyStart + size).toString('utf8'))?.[1];
    } else {
      paths.push(paxPath ?? block.subarray(0, 100).toString('utf8').replace(/\0.*$/s, ''));
      paxPath = undefined;
    }
    offset = bodyStart + padded;
  }
  expect(offset).toBe(fragment.length);
  return paths;
}

describe('Class: TarParts', () => {
  it('writes a tarball whose concatenated parts gunzip and untar to every entry, long paths included', async () => {
    // Prepare
    const { writer, parts } = collectingWriter({ partSize: 16 * KiB, minPartSize: 16 * KiB });
    const longName = `${'a-very-long-custom-resource-definition-name'.repeat(3)}.example.com`;
    const files = new Map<string, string>([
      ['metadata/version', '1.1.0\n'],
      [`resources/customresourcedefinitions.apiextensions.k8s.io/v1-preferredversion/cluster/${longName}.json`, '{"kind":"CustomResourceDefinition"}'],
      ['resources/configmaps/namespaces/café/ünïcode.json', '{"data":{}}'],
      ['resources/secrets/namespaces/default/empty.json', ''],
    ]);
    for (let i = 0; i < 300; i++) files.set(`resources/configmaps/namespaces/default/cm-${i}.json`, objectJson(i));

    // Act
    for (const [path, body] of files) await writer.addEntry(path, body);
    await writer.finish();

    // Assess
    expect(parts.length).toBeGreaterThan(2);
    const entries = await readTar(gunzipSync(Buffer.concat(parts)));
    expect(entries.map((e) => e.header.name)).toEqual([...files.keys()]);
    for (const { header, body } of entries) {
      expect(body.toString('utf8')).toBe(files.get(header.name));
      expect(header).toMatchObject({ type: 'file', mode: 0o755, mtime: NOW, size: body.byteLength });
    }
  });

  it('puts whole entries in every part, every part but the last at least partSize', async () => {
    // Prepare
    const partSize = 16 * KiB;
    const { writer, parts } = collectingWriter({ partSize, minPartSize: partSize });
    const paths = Array.from({ length: 400 }, (_, i) => `resources/pods/namespaces/ns-${i % 7}/${'p'.repeat(i % 120)}-${i}.json`);

    // Act
    for (const [i, path] of paths.entries()) await writer.addEntry(path, objectJson(i, 10 + (i % 30)));
    await writer.finish();

    // Assess
    expect(parts.length).toBeGreaterThan(3);
    parts.slice(0, -1).forEach((part) => expect(part.byteLength).toBeGreaterThanOrEqual(partSize));
    // Each part is a gzip member on its own, holding whole entries, in order.
    expect(parts.flatMap((part) => wholeEntries(gunzipSync(part)))).toEqual(paths);
    // Only the last part ends the archive.
    parts.slice(0, -1).forEach((part) => expect(gunzipSync(part).subarray(-1024).every((b) => b === 0)).toBe(false));
    expect(gunzipSync(parts.at(-1) as Buffer).subarray(-1024).every((b) => b === 0)).toBe(true);
  });

  it('is read by the system tar and by zlib as one multi-member .tar.gz', async () => {
    // Prepare
    const { writer, parts } = collectingWriter({ partSize: 16 * KiB, minPartSize: 16 * KiB });
    const paths = Array.from({ length: 120 }, (_, i) => `resources/configmaps/namespaces/default/${'x'.repeat(90)}-${i}.json`);
    for (const [i, path] of paths.entries()) await writer.addEntry(path, objectJson(i));
    await writer.finish();
    const dir = mkdtempSync(join(tmpdir(), 'tar-parts-'));
    const file = join(dir, 'backup.tar.gz');
    writeFileSync(file, Buffer.concat(parts));

    try {
      // Act
      const listed = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).trim().split('\n');
      const verbose = execFileSync('tar', ['-tzvf', file], { encoding: 'utf8' }).trim().split('\n');

      // Assess
      expect(parts.length).toBeGreaterThan(2);
      expect(listed).toEqual(paths);
      expect(verbose.every((line) => line.startsWith('-rwxr-xr-x'))).toBe(true);
      expect(wholeEntries(gunzipSync(Buffer.concat(parts)))).toEqual(paths);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends an empty tarball with a single part that tar reads as empty', async () => {
    // Prepare
    const { writer, parts } = collectingWriter();

    // Act
    await writer.finish();

    // Assess
    expect(parts).toHaveLength(1);
    expect(gunzipSync(parts[0] as Buffer)).toEqual(Buffer.alloc(1024));
    expect(await readTar(gunzipSync(parts[0] as Buffer))).toEqual([]);
  });

  it('flushes only a member of at least minPartSize, and resolves once its upload is done', async () => {
    // Prepare
    const minPartSize = 8 * KiB;
    const uploaded: number[] = [];
    const writer = new TarParts({
      partSize: 1 * MiB,
      minPartSize,
      now: () => NOW,
      onPart: async (bytes, index) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        uploaded.push(index);
      },
    });
    await writer.addEntry('metadata/version', '1.1.0\n');

    // Act
    const tooSmall = await writer.flush();
    let i = 0;
    while (i < 10_000) {
      await writer.addEntry(`resources/configmaps/namespaces/default/cm-${i}.json`, objectJson(i++));
      if (await writer.flush()) break;
    }

    // Assess
    expect(tooSmall).toBe(false);
    expect(uploaded).toEqual([0]);
    expect(writer.nextPartIndex).toBe(1);
  });

  it('flushes at once when every entry is already in a part, still waiting for the uploads', async () => {
    // Prepare
    let uploading = 0;
    const writer = new TarParts({
      partSize: 8 * KiB,
      minPartSize: 8 * KiB,
      gzipLevel: 0,
      onPart: async () => {
        uploading++;
        await new Promise((resolve) => setTimeout(resolve, 30));
        uploading--;
      },
    });
    // Larger than the input batch and the part size: it closes a part by itself.
    await writer.addEntry('a.bin', randomBytes(64 * KiB));

    // Act
    const partsBefore = writer.nextPartIndex;
    const flushed = await writer.flush();

    // Assess
    expect(partsBefore).toBe(1);
    expect(flushed).toBe(true);
    expect(writer.nextPartIndex).toBe(1);
    expect(uploading).toBe(0);
  });

  it('reports the compressed size of the open part, for callers that place part boundaries', async () => {
    // Prepare
    const { writer, parts } = collectingWriter({ partSize: 1 * MiB, minPartSize: 64 * KiB, gzipLevel: 0 });

    // Act
    const empty = writer.openMemberBytes;
    await writer.addEntry('a.bin', randomBytes(300 * KiB));
    const open = writer.openMemberBytes;
    await writer.flush();

    // Assess
    expect(empty).toBe(0);
    expect(open).toBeGreaterThan(300 * KiB);
    expect(parts[0]?.byteLength).toBeGreaterThanOrEqual(open);
    expect(writer.openMemberBytes).toBe(0);
  });

  it('continues a tarball in a second writer from firstPartIndex, as a resumed invocation does', async () => {
    // Prepare
    const minPartSize = 16 * KiB;
    const parts: Buffer[] = [];
    const onPart = async (bytes: Buffer, index: number) => {
      parts[index] = bytes;
    };
    const paths = Array.from({ length: 200 }, (_, i) => `resources/configmaps/namespaces/default/cm-${i}.json`);
    const first = new TarParts({ partSize: minPartSize, minPartSize, now: () => NOW, onPart });
    let done = 0;
    // A checkpoint once two parts are out: the first entry boundary where flush succeeds.
    do {
      await first.addEntry(paths[done] as string, objectJson(done));
      done++;
    } while (!(first.nextPartIndex >= 2 && (await first.flush())));
    const checkpoint = { entries: done, nextPartIndex: first.nextPartIndex };

    // Act
    const second = new TarParts({ partSize: minPartSize, minPartSize, now: () => NOW, onPart, firstPartIndex: checkpoint.nextPartIndex });
    for (let i = checkpoint.entries; i < paths.length; i++) await second.addEntry(paths[i] as string, objectJson(i));
    await second.finish();

    // Assess
    expect(checkpoint.nextPartIndex).toBe(2);
    expect(parts.every((part) => part !== undefined)).toBe(true);
    const entries = await readTar(gunzipSync(Buffer.concat(parts)));
    expect(entries.map((e) => e.header.name)).toEqual(paths);
  });

  it('has at most two parts uploading at once, and waits for them before taking more', async () => {
    // Prepare
    let inFlight = 0;
    let maxInFlight = 0;
    const release: Array<() => void> = [];
    const writer = new TarParts({
      partSize: 8 * KiB,
      minPartSize: 8 * KiB,
      gzipLevel: 0,
      onPart: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((resolve) => release.push(resolve));
        inFlight--;
      },
    });
    // Each entry is larger than the input batch, so each one closes a part.
    const body = randomBytes(300 * KiB);

    // Act
    await writer.addEntry('a.bin', body);
    await writer.addEntry('b.bin', body);
    let thirdTaken = false;
    const third = writer.addEntry('c.bin', body).then(() => {
      thirdTaken = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const blocked = !thirdTaken;
    release.shift()?.();
    await third;
    const finished = writer.finish();
    while (!(await Promise.race([finished.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5))]))) {
      release.shift()?.();
    }

    // Assess
    expect(blocked).toBe(true);
    expect(maxInFlight).toBe(2);
  });

  it('fails every later call once an upload fails', async () => {
    // Prepare
    const writer = new TarParts({
      partSize: 8 * KiB,
      minPartSize: 8 * KiB,
      gzipLevel: 0,
      onPart: async () => {
        throw new Error('upload refused');
      },
    });

    // Act
    await writer.addEntry('a.bin', randomBytes(300 * KiB));
    const finished = writer.finish();

    // Assess
    await expect(finished).rejects.toThrow('upload refused');
    await expect(writer.addEntry('b.bin', 'x')).rejects.toThrow();
  });

  it('refuses an unsafe path without harming the tarball', async () => {
    // Prepare
    const { writer, parts } = collectingWriter();

    // Act
    const refused = expect(writer.addEntry('../etc/passwd', 'x')).rejects.toBeInstanceOf(ValidationError);
    await writer.addEntry('metadata/version', '1.1.0\n');
    await writer.finish();

    // Assess
    await refused;
    expect((await readTar(gunzipSync(Buffer.concat(parts)))).map((e) => e.header.name)).toEqual(['metadata/version']);
  });

  it('refuses entries after finish', async () => {
    const { writer } = collectingWriter();
    await writer.finish();
    await expect(writer.addEntry('metadata/version', '1.1.0\n')).rejects.toThrow('already finished');
  });

  it.each([
    [{ partSize: 1 * MiB }, 'partSize'],
    [{ partSize: 1 * KiB, minPartSize: 2 * KiB }, 'partSize'],
    [{ gzipLevel: 10 }, 'gzipLevel'],
    [{ firstPartIndex: -1 }, 'firstPartIndex'],
  ])('throws when the options are %o', (options, field) => {
    expect(() => new TarParts({ ...options, onPart: async () => undefined })).toThrow(field);
  });

  it('keeps memory bounded by about three parts while writing 200 MB', { timeout: 30_000 }, async () => {
    // Prepare
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const partSize = 5 * MiB;
    // 64 different entries of ~8 KB, each with random fields: they compress like
    // Kubernetes objects, and repeat only far beyond deflate's 32 KB window.
    const pool = Array.from({ length: 64 }, (_, i) => Buffer.from(objectJson(i, 120)));
    const total = 200 * MiB;
    let written = 0;
    let compressed = 0;
    let peakArrayBuffers = 0;
    let peakRss = 0;
    // Measures what is alive, not garbage waiting for the collector: V8 frees buffers'
    // memory after a collection, in a later turn of the event loop.
    const settle = async () => {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    };
    await settle();
    const base = process.memoryUsage();
    const sample = async () => {
      await settle();
      const now = process.memoryUsage();
      peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers - base.arrayBuffers);
      peakRss = Math.max(peakRss, now.rss - base.rss);
    };
    const writer = new TarParts({
      partSize,
      gzipLevel: 1,
      onPart: async (bytes) => {
        compressed += bytes.byteLength;
        // Here this part and the one before it, still uploading, are alive: a writer
        // that kept parts, or did not wait for uploads, shows up as growth.
        await sample();
        // A slow upload, so that parts queue up if the writer does not wait.
        await new Promise((resolve) => setTimeout(resolve, 50));
      },
    });

    // Act
    for (let i = 0; written < total; i++) {
      const body = pool[i % pool.length] as Buffer;
      await writer.addEntry(`resources/configmaps/namespaces/ns-${i % 100}/cm-${i}.json`, body);
      written += body.byteLength;
    }
    await writer.finish();

    // Assess
    expect(compressed).toBeGreaterThan(10 * partSize);
    // One part compressing, two uploading, and the input batch.
    expect(peakArrayBuffers).toBeLessThan(3 * partSize + 2 * MiB);
    // The process as a whole: far below the tarball, let alone the input.
    expect(peakRss).toBeLessThan(3 * partSize + 32 * MiB);
  });
});
