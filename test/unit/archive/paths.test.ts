import { describe, expect, it } from 'vitest';
import {
  VERSION_FILE_CONTENT,
  VERSION_FILE_PATH,
  groupResourceString,
  itemPath,
  itemPaths,
  parseArchivePath,
  parseGroupResource,
} from '../../../lib/archive/paths';
import { ValidationError } from '../../../lib/core/errors';

describe('Module: archive/paths', () => {
  it('writes the format version file Velero expects', () => {
    expect(VERSION_FILE_PATH).toBe('metadata/version');
    expect(VERSION_FILE_CONTENT).toBe('1.1.0\n');
  });

  it.each([
    ['', 'pods', 'pods'],
    ['apps', 'deployments', 'deployments.apps'],
    ['snapshot.storage.k8s.io', 'volumesnapshots', 'volumesnapshots.snapshot.storage.k8s.io'],
  ])('group %j resource %j is %j', (group, resource, expected) => {
    expect(groupResourceString(group, resource)).toBe(expected);
    expect(parseGroupResource(expected)).toEqual({ group, resource });
  });

  // Velero's TestGetItemFilePath, without its root directory.
  it.each([
    [{ groupResource: 'resource', name: 'item' }, '', 'resources/resource/cluster/item.json'],
    [{ groupResource: 'resource', namespace: 'namespace', name: 'item' }, '', 'resources/resource/namespaces/namespace/item.json'],
    [{ groupResource: 'deployments.apps', namespace: 'app', name: 'web' }, 'v1-preferredversion', 'resources/deployments.apps/v1-preferredversion/namespaces/app/web.json'],
    [{ groupResource: 'clusterroles.rbac.authorization.k8s.io', namespace: '', name: 'system:controller:x' }, '', 'resources/clusterroles.rbac.authorization.k8s.io/cluster/system:controller:x.json'],
  ])('places %j (version dir %j) at %s', (location, versionDir, expected) => {
    expect(itemPath(location, versionDir)).toBe(expected);
  });

  it('writes an object in its preferred version twice, as Velero does', () => {
    expect(itemPaths({ groupResource: 'deployments.apps', namespace: 'app', name: 'web' }, 'v1', 'v1')).toEqual([
      'resources/deployments.apps/namespaces/app/web.json',
      'resources/deployments.apps/v1-preferredversion/namespaces/app/web.json',
    ]);
  });

  it('writes an object in another version once, under that version', () => {
    expect(itemPaths({ groupResource: 'horizontalpodautoscalers.autoscaling', namespace: 'app', name: 'web' }, 'v1', 'v2')).toEqual([
      'resources/horizontalpodautoscalers.autoscaling/v1/namespaces/app/web.json',
    ]);
  });

  it.each([
    [{ groupResource: 'pods', namespace: 'app', name: '../../etc' }, 'name'],
    [{ groupResource: 'pods', namespace: 'a/b', name: 'x' }, 'namespace'],
    [{ groupResource: '', name: 'x' }, 'groupResource'],
    [{ groupResource: 'pods', name: '..' }, 'name'],
  ])('refuses %j, naming %s', (location, field) => {
    expect(() => itemPath(location)).toThrow(ValidationError);
    try {
      itemPath(location);
    } catch (error) {
      expect((error as ValidationError).issues[0]?.path).toBe(field);
    }
  });

  it.each([
    ['metadata/version', { kind: 'version-file' }],
    ['./metadata/version', { kind: 'version-file' }],
    ['resources/pods/namespaces/app/web-0.json', { kind: 'item', groupResource: 'pods', group: '', resource: 'pods', preferredVersion: false, namespace: 'app', name: 'web-0' }],
    ['resources/persistentvolumes/cluster/pv-1.json', { kind: 'item', groupResource: 'persistentvolumes', group: '', resource: 'persistentvolumes', preferredVersion: false, name: 'pv-1' }],
    ['resources/deployments.apps/v1-preferredversion/namespaces/app/web.json', { kind: 'item', groupResource: 'deployments.apps', group: 'apps', resource: 'deployments', version: 'v1', preferredVersion: true, namespace: 'app', name: 'web' }],
    ['resources/horizontalpodautoscalers.autoscaling/v2beta2/namespaces/app/web.json', { kind: 'item', groupResource: 'horizontalpodautoscalers.autoscaling', group: 'autoscaling', resource: 'horizontalpodautoscalers', version: 'v2beta2', preferredVersion: false, namespace: 'app', name: 'web' }],
    ['resources/storageclasses.storage.k8s.io/v1-preferredversion/cluster/fast.json', { kind: 'item', groupResource: 'storageclasses.storage.k8s.io', group: 'storage.k8s.io', resource: 'storageclasses', version: 'v1', preferredVersion: true, name: 'fast' }],
  ])('reads %s', (path, expected) => {
    expect(parseArchivePath(path)).toEqual(expected);
  });

  it.each([
    'metadata/other',
    'resources/pods',
    'resources/pods/namespaces/app',
    'resources/pods/namespaces/app/web.yaml',
    'resources/pods/namespaces/app/sub/web.json',
    'resources/pods/cluster/a/b.json',
    'resources/pods/v1/v2/cluster/a.json',
    'resources/pods/cluster/.json',
    'other/pods/cluster/a.json',
  ])('ignores %s', (path) => {
    expect(parseArchivePath(path)).toBeUndefined();
  });

  it('reads back every path it writes', () => {
    for (const path of itemPaths({ groupResource: 'deployments.apps', namespace: 'app', name: 'web' }, 'v1', 'v1')) {
      expect(parseArchivePath(path)).toMatchObject({ groupResource: 'deployments.apps', namespace: 'app', name: 'web' });
    }
  });
});
