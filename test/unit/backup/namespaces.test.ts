import { describe, expect, it } from 'vitest';
import { BackupLog } from '../../../lib/backup/backup-log';
import { createBackupFilters } from '../../../lib/velero/filters';
import {
  clusterNamespacesOf,
  missingNamedNamespaces,
  namedNamespaces,
  NamespaceListForbiddenError,
  readableNamespaceObjects,
  readNamespaces,
} from '../../../lib/backup/namespaces';
import type { BackupProgressRecord } from '../../../lib/backup/progress-record';
import { emptyResults } from '../../../lib/velero/results';
import type { KubeClient } from '../../../lib/kube/client';
import { KubeApiError } from '../../../lib/kube/errors';
import type { KubeObject } from '../../../lib/kube/list-all';
import type { BackupSpec } from '../../../lib/velero/backup';
import { forNamespace } from '../../builders';

const LIST = '/api/v1/namespaces';

/**
 * An API server that holds `existing` namespaces and answers 403 to the paths in
 * `forbidden`; records every path asked for.
 */
function fakeCluster(existing: KubeObject[], forbidden: string[]) {
  const asked: string[] = [];
  const client = {
    cluster: 'test',
    get: async (path: string) => {
      asked.push(path);
      if (forbidden.includes(path)) throw new KubeApiError('test', 403, 'Forbidden', `GET ${path}: forbidden`);
      if (path === LIST) return { apiVersion: 'v1', kind: 'NamespaceList', metadata: {}, items: existing };
      const found = existing.find((ns) => `${LIST}/${ns.metadata.name}` === path);
      if (!found) throw new KubeApiError('test', 404, 'NotFound', `GET ${path}: not found`);
      return found;
    },
  } as unknown as KubeClient;
  return { client, asked };
}

/** A Namespace as the API server returns it. */
const namespace = (builder: ReturnType<typeof forNamespace>) => builder.result() as unknown as KubeObject;
const shop = namespace(forNamespace('shop').labels({ team: 'a' }));
const web = namespace(forNamespace('web'));
const ops = namespace(forNamespace('ops'));

describe('Module: backup/namespaces', () => {
  it.each([
    ['no includedNamespaces: every namespace', {}, undefined],
    ['an empty list: every namespace', { includedNamespaces: [] }, undefined],
    ['"*"', { includedNamespaces: ['*'] }, undefined],
    ['a glob among names', { includedNamespaces: ['shop', 'team-*'] }, undefined],
    ['a ? pattern', { includedNamespaces: ['shop-?'] }, undefined],
    ['a bracket pattern', { includedNamespaces: ['shop-[ab]'] }, undefined],
    ['plain names, sorted and once each', { includedNamespaces: ['web', 'shop', 'web'] }, ['shop', 'web']],
  ])('namedNamespaces: %s', (_name, spec, want) => {
    expect(namedNamespaces(spec as BackupSpec)).toEqual(want);
  });

  it('reads every namespace by one list when the credentials may', async () => {
    const { client, asked } = fakeCluster([shop, web, ops], []);
    const reading = await readNamespaces(client, ['shop']);
    expect(reading).toEqual({ objects: [shop, web, ops], unreadable: [] });
    expect(asked).toEqual([LIST]);
  });

  it('falls back to each named namespace when the list is forbidden; a missing one is absent, a forbidden one unreadable', async () => {
    const { client, asked } = fakeCluster([shop, web], [LIST, `${LIST}/web`]);
    const reading = await readNamespaces(client, ['gone', 'shop', 'web']);
    expect(reading).toEqual({ objects: [shop], unreadable: ['web'] });
    expect(asked).toEqual([LIST, `${LIST}/gone`, `${LIST}/shop`, `${LIST}/web`]);
  });

  it('fails with its own error when the list is forbidden and the backup names no namespaces', async () => {
    const { client } = fakeCluster([shop], [LIST]);
    const failure = await readNamespaces(client, undefined).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(NamespaceListForbiddenError);
    expect((failure as Error).message).toContain('the credentials cannot list namespaces');
    expect((failure as Error).message).toContain('HTTP 403');
  });

  it.each([
    ['a server error', 500],
    ['refused credentials', 401],
  ])('passes %s on the list through unchanged', async (_name, code) => {
    const client = {
      cluster: 'test',
      get: async () => {
        throw new KubeApiError('test', code, '', 'GET /api/v1/namespaces: no');
      },
    } as unknown as KubeClient;
    await expect(readNamespaces(client, ['shop'])).rejects.toMatchObject({ code });
  });

  it('clusterNamespacesOf: an unreadable namespace counts as Active without labels', () => {
    const terminating = namespace(forNamespace('old').phase('Terminating'));
    expect(clusterNamespacesOf({ objects: [shop, terminating], unreadable: ['web'] })).toEqual([
      { name: 'shop', labels: { team: 'a' }, phase: 'Active' },
      { name: 'old', labels: undefined, phase: 'Terminating' },
      { name: 'web', phase: 'Active' },
    ]);
  });

  describe('readableNamespaceObjects', () => {
    function backupOf(spec: BackupSpec, reading: { objects: KubeObject[]; unreadable: string[] }) {
      const record = { backup: { spec }, results: emptyResults() } as unknown as BackupProgressRecord;
      const filters = createBackupFilters(spec, { namespaces: clusterNamespacesOf(reading), resolveResource: () => undefined });
      return { record, filters, log: new BackupLog() };
    }

    it('returns what it can read and warns, for its namespace, about a wanted one it cannot', async () => {
      const spec: BackupSpec = { includedNamespaces: ['shop', 'web'] };
      const { client } = fakeCluster([shop, web], [LIST, `${LIST}/web`]);
      const { record, filters, log } = backupOf(spec, { objects: [shop], unreadable: ['web'] });
      expect(await readableNamespaceObjects(client, filters, record, log)).toEqual([shop]);
      expect(record.results.warnings.namespaces).toEqual({ web: [expect.stringContaining('could not read the Namespace object of web')] });
      expect(record.results.warnings.cluster).toEqual([]);
      expect(log.snapshot()).toEqual([expect.stringMatching(/level=warning msg=".*Namespace object of web/)]);
    });

    it('says nothing about an unreadable namespace the backup would not write anyway', async () => {
      const spec: BackupSpec = { includedNamespaces: ['shop', 'web'], excludedNamespaces: ['web'] };
      const { client } = fakeCluster([shop, web], [LIST, `${LIST}/web`]);
      const { record, filters, log } = backupOf(spec, { objects: [shop], unreadable: ['web'] });
      expect(await readableNamespaceObjects(client, filters, record, log)).toEqual([shop]);
      expect(record.results.warnings.namespaces).toEqual({});
      expect(log.snapshot()).toEqual([]);
    });
  });

  describe('missingNamedNamespaces', () => {
    it.each<[string[] | undefined, string[], string[]]>([
      [['shop', 'typo'], ['shop', 'default'], ['typo']],
      [['shop'], ['shop'], []],
      [['b', 'a', 'a'], [], ['a', 'b']],
      [['*'], [], []],
      [['shop-*', 'gone', 'x?', '[ab]c'], ['shop-1'], ['gone']],
      [[''], [], []],
      [undefined, [], []],
    ])('of includedNamespaces %j in a cluster with %j: %j', (included, existing, missing) => {
      expect(missingNamedNamespaces({ includedNamespaces: included }, existing)).toEqual(missing);
    });
  });
});
