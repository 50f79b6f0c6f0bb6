import { describe, expect, it } from 'vitest';
import { ValidationError, type FieldIssue } from '../../../lib/core/errors';
import { includesExcludesIssues, isExpired, namespaceIncludesExcludesIssues, newBackup, parseBackupSpec, parseStoredBackup, scopedIncludesExcludesIssues, serializeBackup } from '../../../lib/velero/backup';
import { STORAGE_LOCATION_LABEL, SCHEDULE_NAME_LABEL } from '../../../lib/velero/labels';
import { forBackup } from '../../builders';

function issuesOf(input: unknown): FieldIssue[] {
  try {
    parseBackupSpec(input);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('Module: velero/backup', () => {
  describe('parseBackupSpec', () => {
    it('fills in what the Velero server fills in', () => {
      expect(parseBackupSpec({})).toEqual({
        metadata: {},
        includedNamespaces: ['*'],
        ttl: '720h0m0s',
        hooks: {},
        storageLocation: 'default',
        defaultVolumesToFsBackup: false,
        csiSnapshotTimeout: '10m0s',
        itemOperationTimeout: '4h0m0s',
        snapshotMoveData: false,
      });
    });

    it.each([
      [{ ttl: '24h' }, { ttl: '24h0m0s' }],
      [{ ttl: '0s' }, { ttl: '720h0m0s' }],
      [{ csiSnapshotTimeout: '90s' }, { csiSnapshotTimeout: '1m30s' }],
      [{ itemOperationTimeout: '0' }, { itemOperationTimeout: '4h0m0s' }],
      [{ includedNamespaces: [] }, { includedNamespaces: ['*'] }],
      [{ includedNamespaces: null }, { includedNamespaces: ['*'] }],
      [{ storageLocation: '' }, { storageLocation: 'default' }],
      [{ storageLocation: 'aws-east' }, { storageLocation: 'aws-east' }],
      [{ includeClusterResources: null }, { includeClusterResources: undefined }],
      [{ snapshotVolumes: false }, { snapshotVolumes: false }],
    ])('reads %j as %j', (input, expected) => {
      expect(parseBackupSpec(input)).toMatchObject(expected);
    });

    it('uses the server defaults it is given', () => {
      const spec = parseBackupSpec(
        {},
        { defaults: { ttl: '168h', csiSnapshotTimeout: '5m', itemOperationTimeout: '1h', storageLocation: 'minio' } },
      );
      expect(spec).toMatchObject({
        ttl: '168h0m0s',
        csiSnapshotTimeout: '5m0s',
        itemOperationTimeout: '1h0m0s',
        storageLocation: 'minio',
      });
    });

    it('accepts every field of Velero’s BackupSpec that Skiff applies, and the zero values of the others', () => {
      const spec = {
        metadata: { labels: { team: 'a' } },
        includedNamespaces: ['app'],
        excludedNamespaces: ['app-tmp'],
        includedClusterScopedResources: ['storageclasses'],
        excludedClusterScopedResources: ['nodes'],
        includedNamespaceScopedResources: ['*'],
        excludedNamespaceScopedResources: ['events'],
        labelSelector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
        snapshotVolumes: true,
        ttl: '72h',
        volumeGroupSnapshotLabelKey: '',
        hooks: { resources: [] },
        storageLocation: 'default',
        volumeSnapshotLocations: [],
        defaultVolumesToRestic: false,
        defaultVolumesToFsBackup: false,
        orderedResources: { pods: 'app/a,app/b' },
        csiSnapshotTimeout: '10m',
        itemOperationTimeout: '4h',
        resourcePolicy: { kind: 'configmap', name: 'policy' },
        snapshotMoveData: false,
        datamover: '',
        uploaderConfig: { parallelFilesUpload: 0 },
      };
      const parsed = parseBackupSpec(spec);
      expect(parsed).toMatchObject({ orderedResources: { pods: 'app/a,app/b' }, resourcePolicy: { kind: 'configmap', name: 'policy' } });
      // Only what is applied is stored.
      for (const field of ['volumeSnapshotLocations', 'datamover', 'uploaderConfig', 'volumeGroupSnapshotLabelKey']) {
        expect(parsed).not.toHaveProperty(field);
      }
      expect(parsed).toMatchObject({ snapshotMoveData: false, defaultVolumesToFsBackup: false });
      expect(parsed.hooks).toEqual({});
    });

    const freezeHook = {
      resources: [
        {
          name: 'freeze',
          includedNamespaces: ['app'],
          pre: [{ exec: { container: 'db', command: ['fsfreeze', '-f', '/data'], onError: 'Fail', timeout: '30s' } }],
        },
      ],
    };
    it.each([
      [{ hooks: freezeHook }, 'hooks.resources', 'Skiff does not run backup hooks'],
      [{ snapshotMoveData: true }, 'snapshotMoveData', "Velero's node agent"],
      [{ defaultVolumesToFsBackup: true }, 'defaultVolumesToFsBackup', 'file-system backup'],
      [{ defaultVolumesToRestic: true }, 'defaultVolumesToRestic', 'file-system backup'],
      [{ datamover: 'velero' }, 'datamover', 'data mover'],
      [{ uploaderConfig: { parallelFilesUpload: 4 } }, 'uploaderConfig.parallelFilesUpload', 'uploader'],
      [{ volumeSnapshotLocations: ['aws-default'] }, 'volumeSnapshotLocations', 'native (non-CSI) snapshots'],
      [{ volumeGroupSnapshotLabelKey: 'velero.io/volume-group' }, 'volumeGroupSnapshotLabelKey', 'VolumeGroupSnapshots'],
      [{ resourcePolicy: { kind: 'Secret', name: 'p' } }, 'resourcePolicy.kind', 'use kind "configmap"'],
      [{ resourcePolicy: { apiGroup: 'v1', kind: 'configmap', name: 'p' } }, 'resourcePolicy.apiGroup', 'core API group'],
      [{ backupType: 'Incremental' }, 'backupType', 'unknown field "backupType"'],
    ])('refuses %j at %s, saying why (%s)', (input, path, reason) => {
      const issues = issuesOf(input);
      expect(issues).toEqual([{ path, message: expect.stringContaining(reason) }]);
    });

    it('names every refused field at once', () => {
      const paths = issuesOf({ snapshotMoveData: true, defaultVolumesToFsBackup: true, hooks: freezeHook }).map((i) => i.path);
      expect(paths.sort()).toEqual(['defaultVolumesToFsBackup', 'hooks.resources', 'snapshotMoveData']);
    });

    it('checks the structure of hooks before refusing them', () => {
      expect(issuesOf({ hooks: { resources: [{ name: 'h', pre: [{ exec: { command: ['x'], timeOut: '1s' } }] }] } })).toEqual([
        { path: 'hooks.resources.0.pre.0.exec.timeOut', message: expect.stringContaining('did you mean "timeout"?') },
      ]);
    });

    it.each([
      [{ includeNamespaces: ['app'] }, 'includeNamespaces', 'unknown field "includeNamespaces" (did you mean "includedNamespaces"?)'],
      [{ TTL: '1h' }, 'TTL', 'did you mean "ttl"?'],
      [{ labelSelector: { matchLabel: { a: 'b' } } }, 'labelSelector.matchLabel', 'did you mean "matchLabels"?'],
      [
        { hooks: { resources: [{ name: 'h', pre: [{ exec: { command: ['x'], timeOut: '1s' } }] }] } },
        'hooks.resources.0.pre.0.exec.timeOut',
        'did you mean "timeout"?',
      ],
    ])('rejects unknown field in %j at %s, saying %j', (input, path, message) => {
      const issues = issuesOf(input);
      expect(issues).toEqual([{ path, message: expect.stringContaining(message) }]);
      expect(issues[0]!.message).toContain('allowed fields here are:');
    });

    it('lists the allowed fields when it rejects an unknown one', () => {
      const [issue] = issuesOf({ bogus: true });
      for (const field of ['includedNamespaces', 'orLabelSelectors', 'csiSnapshotTimeout', 'snapshotMoveData']) {
        expect(issue!.message).toContain(field);
      }
    });

    it.each([
      [{ includedNamespaces: 'app' }, 'includedNamespaces', 'expected array'],
      [{ ttl: '30d' }, 'ttl', 'unknown unit "d"'],
      [{ ttl: 3600 }, 'ttl', 'expected string'],
      [{ ttl: '-1h' }, 'ttl', 'must not be negative'],
      [{ csiSnapshotTimeout: 'soon' }, 'csiSnapshotTimeout', 'invalid duration "soon"'],
      [{ snapshotVolumes: 'yes' }, 'snapshotVolumes', 'expected boolean'],
      [{ labelSelector: { matchExpressions: [{ key: 'a', operator: 'in', values: ['x'] }] } }, 'labelSelector.matchExpressions.0.operator', '"In"|"NotIn"|"Exists"|"DoesNotExist"'],
      [{ labelSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }, 'labelSelector.matchExpressions.0.values', 'needs at least one value'],
      [{ labelSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } }, 'labelSelector.matchExpressions.0.values', 'takes no values'],
      [{ labelSelector: { matchLabels: { 'bad key!': 'x' } } }, 'labelSelector.matchLabels.bad key!', 'label key'],
      [{ labelSelector: { matchLabels: { app: 'not valid' } } }, 'labelSelector.matchLabels.app', 'label value "not valid"'],
      [{ hooks: { resources: [{ name: 'h', pre: [{ exec: { command: [] } }] }] } }, 'hooks.resources.0.pre.0.exec.command', 'at least one element'],
    ])('rejects %j at %s, saying %j', (input, path, message) => {
      expect(issuesOf(input)).toContainEqual({ path, message: expect.stringContaining(message) });
    });

    it.each([
      [{ includedResources: ['pods'], includedClusterScopedResources: ['storageclasses'] }, 'includedClusterScopedResources'],
      [{ includeClusterResources: false, excludedNamespaceScopedResources: ['events'] }, 'excludedNamespaceScopedResources'],
      [{ excludedResources: ['secrets'], excludedClusterScopedResources: ['nodes'] }, 'excludedClusterScopedResources'],
    ])('rejects old-style filters mixed with new-style ones in %j', (input, path) => {
      const issues = issuesOf(input);
      expect(issues).toContainEqual({ path, message: expect.stringContaining('cannot be combined with new-style ones') });
    });

    it('accepts includeClusterResources with empty new-style lists, as Velero does', () => {
      expect(() => parseBackupSpec({ includeClusterResources: true, includedClusterScopedResources: [] })).not.toThrow();
    });

    it('rejects labelSelector together with orLabelSelectors, even an empty list, like Velero', () => {
      expect(issuesOf({ labelSelector: { matchLabels: { a: 'b' } }, orLabelSelectors: [] })).toEqual([
        { path: 'orLabelSelectors', message: expect.stringContaining('cannot both be set') },
      ]);
    });

    it.each([
      [{ includedResources: ['*', 'pods'] }, 'includedResources', "must be the only item"],
      [{ excludedResources: ['*'] }, 'excludedResources', "'*' is not allowed here"],
      [{ includedResources: ['pods', 'secrets'], excludedResources: ['secrets'] }, 'excludedResources', '"secrets" is also in the includes list'],
      [{ includedClusterScopedResources: ['nodes'], excludedClusterScopedResources: ['*'] }, 'excludedClusterScopedResources', 'includes list must be empty'],
      [{ excludedNamespaceScopedResources: ['*', 'pods'] }, 'excludedNamespaceScopedResources', 'must be the only item'],
      [{ includedNamespaces: ['Prod'] }, 'includedNamespaces', '"Prod" is not a namespace name or pattern'],
      [{ excludedNamespaces: ['*'] }, 'excludedNamespaces', "'*' is not allowed here"],
      [{ includedNamespaces: ['team|ops'] }, 'includedNamespaces', 'character namespace patterns do not support'],
    ])('applies Velero’s list rules to %j', (input, path, message) => {
      expect(issuesOf(input)).toContainEqual({ path, message: expect.stringContaining(message) });
    });

    it('reports every problem at once', () => {
      const issues = issuesOf({ ttl: 'x', includedNamespaces: 3, extra: 1 });
      expect(issues.map((i) => i.path).sort()).toEqual(['extra', 'includedNamespaces', 'ttl']);
    });
  });

  // Velero's TestValidateIncludesExcludes.
  it.each([
    ['empty includes (everything) is allowed', [], [], []],
    ['include everything', ['*'], [], []],
    ['include everything not allowed with other includes', ['*', 'foo'], [], ['includes']],
    ['exclude everything not allowed', ['foo'], ['*'], ['excludes']],
    ['excludes cannot contain items in includes', ['foo', 'bar'], ['bar'], ['excludes']],
  ])('includesExcludesIssues: %s', (_name, includes, excludes, lists) => {
    expect(includesExcludesIssues(includes, excludes).map((i) => i.list)).toEqual(lists);
  });

  // Velero's TestValidateScopedIncludesExcludes.
  it.each([
    ['empty includes is valid', [], [], 0],
    ['asterisk includes is valid', ['*'], [], 0],
    ['include everything not allowed with other includes', ['*', 'foo'], [], 1],
    ['empty excludes is valid', [], [], 0],
    ['asterisk excludes is valid', [], ['*'], 0],
    ['exclude everything not allowed with other excludes', [], ['*', 'foo'], 1],
    ["asterisk excludes doesn't work with non-empty includes", ['foo'], ['*'], 1],
    ['excludes cannot contain items in includes', ['foo', 'bar'], ['bar'], 1],
  ])('scopedIncludesExcludesIssues: %s', (_name, includes, excludes, count) => {
    expect(scopedIncludesExcludesIssues(includes, excludes)).toHaveLength(count);
  });

  // Velero's TestValidateNamespaceIncludesExcludes.
  it.each([
    ['empty slice', [], [], false],
    ['asterisk by itself', ['*'], [], false],
    ['alphanumeric names with optional dash inside', ['foobar', 'bar-321', 'foo123bar'], ['123bar', 'barfoo', 'foo-321', 'bar123foo'], false],
    ['not starting or ending with an alphanumeric character', ['-123foo'], ['foo321-', 'foo321-'], true],
    ['special characters in name', ['foo?', 'foo.bar', 'bar_321'], ['$foo', 'foo>bar', 'bar=321'], true],
    ['empty string includes (includes nothing)', [''], [], false],
    ['empty string excludes (excludes nothing)', [], [''], false],
    ['excludes can contain wildcard', ['foo', 'bar'], ['nginx-ingress-*', '*-bar', '*-ingress-*'], false],
    ['includes can contain wildcard', ['*-foo', 'kube-*', '*kube*'], ['bar'], false],
    ['include everything not allowed with other includes', ['*', 'foo'], [], true],
    ['exclude everything not allowed', ['foo'], ['*'], true],
    ['excludes cannot contain items in includes', ['foo', 'bar'], ['bar'], true],
    ['glob characters in includes', ['kube-*', 'test-?', 'ns-[0-9]'], [], false],
    ['glob characters in excludes', ['default'], ['test-*', 'app-?', 'ns-[1-5]'], false],
    ['character class in includes', ['ns-[abc]', 'test-[0-9]'], [], false],
    ['mixed glob patterns', ['kube-*', 'test-?'], ['*-test', 'debug-[0-9]'], false],
    ['pipe character in includes', ['namespace|other'], [], true],
    ['parentheses in includes', ['namespace(prod)', 'test-(dev)'], [], true],
    ['exclamation mark in includes', ['!namespace', 'test!'], [], true],
    ['unsupported characters in excludes', ['default'], ['test|prod', 'app(staging)'], true],
    ['consecutive asterisks', ['kube-**'], [], true],
    ['empty brackets', ['ns-[]'], [], true],
    ['unclosed bracket', ['ns-[a'], [], true],
    ['stray closing bracket', ['ns-a]'], [], true],
  ])('namespaceIncludesExcludesIssues: %s (error: %s)', (_name, includes, excludes, wantError) => {
    expect(namespaceIncludesExcludesIssues(includes, excludes).length > 0).toBe(wantError);
  });

  describe('newBackup', () => {
    const now = new Date('2024-05-01T10:20:30.456Z');

    it('builds the Backup as Velero prepares one', () => {
      const backup = newBackup({
        name: 'nightly-20240501102030',
        spec: { includedNamespaces: ['app'], ttl: '24h' },
        labels: { team: 'a' },
        annotations: { 'velero.io/source-cluster-k8s-gitversion': 'v1.30.0' },
        scheduleName: 'nightly',
        now,
      });
      expect(backup).toEqual({
        apiVersion: 'velero.io/v1',
        kind: 'Backup',
        metadata: {
          name: 'nightly-20240501102030',
          namespace: 'velero',
          creationTimestamp: '2024-05-01T10:20:30Z',
          labels: { team: 'a', [STORAGE_LOCATION_LABEL]: 'default', [SCHEDULE_NAME_LABEL]: 'nightly' },
          annotations: { 'velero.io/source-cluster-k8s-gitversion': 'v1.30.0' },
        },
        spec: parseBackupSpec({ includedNamespaces: ['app'], ttl: '24h' }),
        status: {
          version: 1,
          formatVersion: '1.1.0',
          expiration: '2024-05-02T10:20:30Z',
          phase: 'InProgress',
          startTimestamp: '2024-05-01T10:20:30Z',
        },
      });
    });

    it('shortens a long storage location in its label, as Velero does', () => {
      const location = `location-${'x'.repeat(60)}`;
      const backup = newBackup({ name: 'b', spec: { storageLocation: location }, now });
      expect(backup.metadata.labels?.[STORAGE_LOCATION_LABEL]).toHaveLength(63);
      expect(backup.spec.storageLocation).toBe(location);
    });

    it.each([
      ['Nightly', 'metadata.name'],
      ['a'.repeat(254), 'metadata.name'],
    ])('refuses the name %j', (name, path) => {
      expect(() => newBackup({ name, now })).toThrow(ValidationError);
      try {
        newBackup({ name, now });
      } catch (error) {
        expect((error as ValidationError).issues[0]?.path).toBe(path);
      }
    });

    it('names the backup in spec errors', () => {
      expect(() => newBackup({ name: 'b1', spec: { ttl: 'forever' }, now })).toThrow(/backup "b1" spec is invalid/);
    });
  });

  it.each([
    ['expired yesterday', '2024-04-30T00:00:00Z', true],
    ['expires this very second', '2024-05-01T00:00:00Z', true],
    ['expires in a second', '2024-05-01T00:00:01Z', false],
    ['never expires', undefined, false],
  ])('isExpired: a backup that %s', (_name, expiration, expected) => {
    const builder = forBackup('velero', 'b');
    const backup = expiration ? builder.expiration(new Date(expiration)).result() : builder.result();
    expect(isExpired(backup, new Date('2024-05-01T00:00:00Z'))).toBe(expected);
  });

  describe('serialisation', () => {
    // A velero-backup.json written by Velero 1.11 (from a user's report), unchanged.
    const writtenByVelero = {
      kind: 'Backup',
      apiVersion: 'velero.io/v1',
      metadata: {
        name: 'argo-system-2023-07-25-053437',
        namespace: 'velero',
        uid: '894752a0-3166-4185-a7e1-ed2847c56b0d',
        resourceVersion: '136544158',
        generation: 4,
        creationTimestamp: '2023-07-25T05:34:38Z',
        labels: { ns: 'argo-system', 'velero.backup.period': 'weekly', 'velero.io/storage-location': 'default' },
        annotations: {
          'velero.io/source-cluster-k8s-gitversion': 'v1.24.10',
          'velero.io/source-cluster-k8s-major-version': '1',
          'velero.io/source-cluster-k8s-minor-version': '24',
        },
      },
      spec: {
        metadata: {},
        includedNamespaces: [''],
        ttl: '720h0m0s',
        hooks: {},
        storageLocation: 'default',
        defaultVolumesToFsBackup: false,
        csiSnapshotTimeout: '10m0s',
        itemOperationTimeout: '1h0m0s',
      },
      status: {
        version: 1,
        formatVersion: '1.1.0',
        expiration: '2023-08-24T05:34:38Z',
        phase: 'Completed',
        startTimestamp: '2023-07-25T05:34:38Z',
        completionTimestamp: '2023-07-25T05:35:01Z',
      },
    };

    it('reads a velero-backup.json written by Velero and writes it back identically', () => {
      const backup = parseStoredBackup(writtenByVelero);
      expect(serializeBackup(backup)).toBe(JSON.stringify(writtenByVelero, null, 2));
    });

    it('writes fields in Go’s order, maps sorted, empty values left out', () => {
      const backup = newBackup({
        name: 'b',
        spec: {
          orLabelSelectors: [{ matchExpressions: [{ key: 'k', operator: 'Exists' }], matchLabels: { z: '1', a: '2' } }],
          snapshotVolumes: false,
          includedNamespaces: ['app'],
        },
        labels: { z: '1', a: '2' },
        now: new Date('2024-01-01T00:00:00Z'),
      });
      const json = JSON.parse(serializeBackup(backup));
      expect(Object.keys(json)).toEqual(['kind', 'apiVersion', 'metadata', 'spec', 'status']);
      expect(Object.keys(json.metadata)).toEqual(['name', 'namespace', 'creationTimestamp', 'labels']);
      expect(Object.keys(json.metadata.labels)).toEqual(['a', STORAGE_LOCATION_LABEL, 'z']);
      expect(Object.keys(json.spec)).toEqual([
        'metadata',
        'includedNamespaces',
        'orLabelSelectors',
        'snapshotVolumes',
        'ttl',
        'hooks',
        'storageLocation',
        'defaultVolumesToFsBackup',
        'csiSnapshotTimeout',
        'itemOperationTimeout',
        'snapshotMoveData',
      ]);
      expect(json.spec.orLabelSelectors).toEqual([
        { matchLabels: { a: '2', z: '1' }, matchExpressions: [{ key: 'k', operator: 'Exists' }] },
      ]);
      expect(Object.keys(json.spec.orLabelSelectors[0])).toEqual(['matchLabels', 'matchExpressions']);
      expect(Object.keys(json.status)).toEqual(['version', 'formatVersion', 'expiration', 'phase', 'startTimestamp']);
    });

    it('keeps fields a newer Velero added when it reads and writes a backup', () => {
      const future = structuredClone(writtenByVelero) as Record<string, any>;
      future.spec.futureField = { x: 1 };
      future.status.futureCount = 3;
      const json = JSON.parse(serializeBackup(parseStoredBackup(future)));
      expect(json.spec.futureField).toEqual({ x: 1 });
      expect(json.status.futureCount).toBe(3);
    });

    it.each([
      [{ ...writtenByVelero, kind: 'Restore' }, 'kind'],
      [{ ...writtenByVelero, metadata: { namespace: 'velero' } }, 'metadata.name'],
      [{ ...writtenByVelero, status: { phase: 'Done' } }, 'status.phase'],
    ])('refuses a stored document that is not a Backup (%#)', (document, path) => {
      expect(() => parseStoredBackup(document)).toThrow(ValidationError);
      try {
        parseStoredBackup(document);
      } catch (error) {
        expect((error as ValidationError).issues.map((i) => i.path)).toContain(path);
      }
    });
  });
});
