import { Readable } from 'node:stream';
import { extract, type Header } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { END_OF_ARCHIVE, encodeFileHeader, paddingSize } from '../../../lib/archive/tar-header';
import { ValidationError } from '../../../lib/core/errors';

const MTIME = new Date('2026-03-01T12:00:00Z');

/** One file as a complete tar, decoded by tar-stream as an independent reader. */
async function decode(path: string, body: string): Promise<{ header: Header; body: string }> {
  const bytes = Buffer.from(body);
  const tar = Buffer.concat([
    encodeFileHeader({ path, size: bytes.byteLength, mode: 0o755, mtime: MTIME }),
    bytes,
    Buffer.alloc(paddingSize(bytes.byteLength)),
    END_OF_ARCHIVE,
  ]);
  return new Promise((resolve, reject) => {
    const extractor = extract();
    extractor.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        resolve({ header, body: Buffer.concat(chunks).toString('utf8') });
        next();
      });
    });
    extractor.on('error', reject);
    Readable.from([tar]).pipe(extractor);
  });
}

describe('Function: encodeFileHeader', () => {
  it.each([
    ['a short path in one ustar block', 'metadata/version', 1],
    ['a path of exactly 100 bytes in one ustar block', `resources/${'x'.repeat(90)}`, 1],
    ['a path of 101 bytes behind a PAX header', `resources/${'x'.repeat(91)}`, 3],
    [
      'a long CRD path behind a PAX header',
      `resources/customresourcedefinitions.apiextensions.k8s.io/v1-preferredversion/cluster/${'long-name.'.repeat(12)}example.com.json`,
      3,
    ],
    ['a non-ASCII path behind a PAX header', 'resources/configmaps/namespaces/café/ünïcode.json', 3],
  ])('encodes %s', async (_, path, blocks) => {
    // Act
    const header = encodeFileHeader({ path, size: 17, mode: 0o755, mtime: MTIME });
    const decoded = await decode(path, '{"kind":"Secret"}');

    // Assess
    expect(header.byteLength).toBe(blocks * 512);
    expect(decoded.header).toMatchObject({ name: path, type: 'file', mode: 0o755, size: 17, mtime: MTIME, uid: 0, gid: 0 });
    expect(decoded.body).toBe('{"kind":"Secret"}');
  });

  it('writes PAX record lengths that count their own digits', async () => {
    // A record of 99 bytes without its length needs a 3-digit length: 98 + 2 would be 100.
    for (let n = 80; n < 120; n++) {
      const path = `p/${'y'.repeat(n)}`;
      expect((await decode(path, 'x')).header.name).toBe(path);
    }
  });

  it('keeps a backslash in a name as Velero writes it (a Role may be named a\\b)', async () => {
    const path = 'resources/roles.rbac.authorization.k8s.io/namespaces/shop/a\\b.json';
    expect((await decode(path, '{}')).header.name).toBe(path);
  });

  it.each(['', '/etc/passwd', '../up', 'a/../b', 'a//b', 'a/./b', 'a\0b'])('throws on the unsafe path %j', (path) => {
    expect(() => encodeFileHeader({ path, size: 0, mode: 0o755, mtime: MTIME })).toThrow(ValidationError);
  });

  it.each([
    [0, 0],
    [1, 511],
    [511, 1],
    [512, 0],
    [513, 511],
  ])('pads a body of %i bytes with %i zero bytes', (size, padding) => {
    expect(paddingSize(size)).toBe(padding);
  });
});
