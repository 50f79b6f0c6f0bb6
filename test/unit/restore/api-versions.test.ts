import { describe, expect, it } from 'vitest';
import type { ApiResource } from '../../../lib/kube/discovery';
import { byKubeVersionPriority, chooseRestoreVersion, chooseRestoreVersions, targetVersionsOf } from '../../../lib/restore/api-versions';

describe('Function: byKubeVersionPriority', () => {
  it('orders as Kubernetes does (apimachinery version helpers)', () => {
    const shuffled = ['foo10', 'v11alpha2', 'v1', 'v3beta1', 'foo1', 'v12alpha1', 'v10beta3', 'v11beta2', 'v2'];

    expect([...shuffled].sort(byKubeVersionPriority)).toEqual(['v2', 'v1', 'v11beta2', 'v10beta3', 'v3beta1', 'v12alpha1', 'v11alpha2', 'foo1', 'foo10']);
  });
});

describe('Function: chooseRestoreVersion', () => {
  it.each([
    // backup versions, backup preferred, target versions, target preferred, chosen, rule
    [['v1', 'v2'], 'v2', ['v1', 'v2'], 'v2', 'v2', "the target cluster's preferred version"],
    [['v1', 'v2'], 'v2', ['v1'], 'v1', 'v1', "the target cluster's preferred version"],
    [['v1', 'v2'], 'v1', ['v1', 'v2', 'v3'], 'v3', 'v1', "the backup's preferred version, which the target cluster serves"],
    [['v1beta1', 'v1', 'v2beta1'], 'v2beta1', ['v1beta1', 'v1', 'v3'], 'v3', 'v1', 'the highest version both the backup and the target cluster have'],
    [['v1', 'v2'], 'v2', ['v3'], 'v3', 'v2', "no version in the backup is served by the target cluster: the backup's preferred version"],
    [['v1', 'v2'], 'v2', [], '', 'v2', "the target cluster does not serve it yet: the backup's preferred version"],
    [['v1'], undefined, ['v1'], 'v1', 'v1', "the target cluster's preferred version"],
  ])('backup %j (preferred %s), target %j (preferred %s) → %s', (versions, preferred, targetVersions, targetPreferred, version, reason) => {
    const source = preferred === undefined ? { versions } : { versions, preferred };
    const target = targetVersions.length === 0 ? undefined : { versions: targetVersions, preferred: targetPreferred };

    expect(chooseRestoreVersion(source, target)).toEqual({ version, reason });
  });

  it('chooses nothing for a backup without version folders (the copy without one is restored)', () => {
    expect(chooseRestoreVersion({ versions: [] }, { versions: ['v1'], preferred: 'v1' })).toBeUndefined();
  });
});

describe('Function: chooseRestoreVersions', () => {
  const resource = (group: string, resource: string, version: string, preferredVersion: string): ApiResource => ({
    group,
    resource,
    version,
    preferredVersion,
    kind: 'K',
    namespaced: true,
    verbs: ['create'],
  });

  it('answers only the choices that differ from the preferred copy, and logs each multi-version choice', () => {
    const target = targetVersionsOf([
      resource('example.com', 'widgets', 'v1', 'v1'),
      resource('example.com', 'gizmos', 'v2', 'v2'),
      resource('example.com', 'gizmos', 'v1', 'v2'),
      resource('', 'configmaps', 'v1', 'v1'),
    ]);
    const logged: string[] = [];
    const sources = new Map([
      ['widgets.example.com', { versions: ['v1', 'v2'], preferred: 'v2' }],
      ['gizmos.example.com', { versions: ['v1', 'v2'], preferred: 'v2' }],
      ['configmaps', { versions: ['v1'], preferred: 'v1' }],
    ]);

    const chosen = chooseRestoreVersions(sources, target, (gr, choice) => logged.push(`${gr}=${choice.version}`));

    expect([...chosen]).toEqual([['widgets.example.com', 'v1']]);
    expect(logged).toEqual(['widgets.example.com=v1', 'gizmos.example.com=v2']);
  });

  it('takes the versions of the resource itself, not of its whole group', () => {
    const target = targetVersionsOf([resource('example.com', 'widgets', 'v1', 'v2'), resource('example.com', 'gizmos', 'v2', 'v2')]);

    expect(target.get('widgets.example.com')).toEqual({ versions: ['v1'], preferred: 'v2' });
    expect(chooseRestoreVersion({ versions: ['v1', 'v2'], preferred: 'v2' }, target.get('widgets.example.com'))?.version).toBe('v1');
  });
});
