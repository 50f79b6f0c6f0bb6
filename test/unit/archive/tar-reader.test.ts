import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readBackupArchive, unsafeEntryName, type ArchiveRecord } from '../../../lib/archive/tar-reader';
import { ValidationError } from '../../../lib/core/errors';
import { packTarball } from '../../support/tar';

interface TestEntry {
  name: string;
  body?: string;
  type?: 'file' | 'directory' | 'symlink';
}

const tarball = (entries: TestEntry[]) => packTarball(entries);

async function readAll(bytes: Buffer, limits?: { maxEntryBytes: number; maxTotalBytes: number }): Promise<ArchiveRecord[]> {
  const records: ArchiveRecord[] = [];
  for await (const record of readBackupArchive(Readable.from([bytes]), limits)) records.push(record);
  return records;
}

const CM = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns' } });

describe('Function: readBackupArchive', () => {
  it('yields the version, items with their location, and skips directories', async () => {
    // Prepare
    const bytes = await tarball([
      { name: 'metadata/version', body: '1.1.0\n' },
      { name: 'resources/', type: 'directory' },
      { name: 'resources/configmaps/namespaces/ns/a.json', body: CM },
      { name: 'resources/configmaps/v1-preferredversion/namespaces/ns/a.json', body: CM },
    ]);
    // Act
    const records = await readAll(bytes);
    // Assess
    expect(records.map((r) => r.kind)).toEqual(['version', 'item', 'item']);
    expect(records[0]).toEqual({ kind: 'version', version: '1.1.0' });
    const item = records[1] as Extract<ArchiveRecord, { kind: 'item' }>;
    expect(item.entry).toMatchObject({ groupResource: 'configmaps', namespace: 'ns', name: 'a', preferredVersion: false });
    expect(item.object).toMatchObject({ kind: 'ConfigMap' });
    expect((records[2] as Extract<ArchiveRecord, { kind: 'item' }>).entry).toMatchObject({ version: 'v1', preferredVersion: true });
  });

  it.each([
    ['../../etc/passwd.json'],
    ['resources/configmaps/namespaces/../../../x.json'],
    ['/resources/configmaps/namespaces/ns/a.json'],
  ])('refuses the whole tarball for the entry %s', async (name) => {
    // Prepare
    const bytes = await tarball([
      { name: 'resources/configmaps/namespaces/ns/a.json', body: CM },
      { name, body: CM },
    ]);
    // Act
    const reading = readAll(bytes);
    // Assess
    await expect(reading).rejects.toBeInstanceOf(ValidationError);
    await expect(reading).rejects.toThrow(/is refused/);
  });

  it('skips and reports names outside the layout and links', async () => {
    // Prepare
    const bytes = await tarball([
      { name: 'README.txt', body: 'hello' },
      { name: 'resources/configmaps/namespaces/ns/link.json', type: 'symlink' },
      { name: 'resources/configmaps/namespaces/ns/a.json', body: CM },
    ]);
    // Act
    const records = await readAll(bytes);
    // Assess
    expect(records.map((r) => [r.kind, 'path' in r ? r.path : ''])).toEqual([
      ['skipped', 'README.txt'],
      ['skipped', 'resources/configmaps/namespaces/ns/link.json'],
      ['item', 'resources/configmaps/namespaces/ns/a.json'],
    ]);
  });

  it('makes a bad JSON entry and an oversized entry errors of their items only', async () => {
    // Prepare
    const bytes = await tarball([
      { name: 'resources/configmaps/namespaces/ns/broken.json', body: '{"kind": ' },
      { name: 'resources/configmaps/namespaces/ns/big.json', body: JSON.stringify({ data: 'x'.repeat(5000) }) },
      { name: 'resources/configmaps/namespaces/ns/a.json', body: CM },
    ]);
    // Act
    const records = await readAll(bytes, { maxEntryBytes: 4096, maxTotalBytes: 1 << 20 });
    // Assess
    expect(records.map((r) => r.kind)).toEqual(['bad-item', 'bad-item', 'item']);
    expect((records[0] as { error: string }).error).toMatch(/not valid JSON/);
    expect((records[1] as { error: string }).error).toMatch(/more than the 4096 allowed/);
  });

  it('refuses a tarball that decompresses past the total cap', async () => {
    // Prepare
    const entries = Array.from({ length: 20 }, (_, i) => ({ name: `resources/configmaps/namespaces/ns/c${i}.json`, body: CM.padEnd(3000) }));
    const bytes = await tarball(entries);
    // Act + Assess
    await expect(readAll(bytes, { maxEntryBytes: 1 << 20, maxTotalBytes: 20_000 })).rejects.toThrow(/exceeds 20000 bytes/);
  });

  it.each([
    ['resources/pods/namespaces/ns/a.json', undefined],
    ['/abs.json', 'it is an absolute path'],
    ['C:\\x.json', 'it is an absolute path'],
    ['a/../b.json', 'it has a ".." segment'],
    ['a\\..\\b.json', 'it has a ".." segment'],
  ])('unsafeEntryName(%s) = %s', (name, expected) => {
    expect(unsafeEntryName(name)).toBe(expected);
  });
});
