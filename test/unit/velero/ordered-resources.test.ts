import { describe, expect, it } from 'vitest';
import { orderedNamesFor, splitOrderedName } from '../../../lib/velero/ordered-resources';

describe('Module: velero/ordered-resources', () => {
  const deployments = { resource: 'deployments', groupResource: 'deployments.apps' };
  const pods = { resource: 'pods', groupResource: 'pods' };

  it.each<[Record<string, string> | undefined, { resource: string; groupResource: string }, string[]]>([
    [undefined, pods, []],
    [{ pods: 'shop/b,shop/a' }, pods, ['shop/b', 'shop/a']],
    [{ pods: 'shop/b,shop/a' }, deployments, []],
    // Velero's key is the plain resource name; the group-qualified one is taken too.
    [{ deployments: 'shop/web' }, deployments, ['shop/web']],
    [{ 'deployments.apps': 'shop/web' }, deployments, ['shop/web']],
    [{ deployments: 'shop/a', 'deployments.apps': 'shop/b' }, deployments, ['shop/a']],
    [{ pods: ' shop/a , ,shop/b,shop/a' }, pods, ['shop/a', 'shop/b']],
    [{ pods: '' }, pods, []],
    [{ persistentvolumes: 'pv-2,pv-1' }, { resource: 'persistentvolumes', groupResource: 'persistentvolumes' }, ['pv-2', 'pv-1']],
  ])('orderedResources %j gives %j the order %j', (ordered, type, names) => {
    expect(orderedNamesFor(ordered, type)).toEqual(names);
  });

  it.each([
    ['shop/db-0', { namespace: 'shop', name: 'db-0' }],
    ['pv-1', { name: 'pv-1' }],
  ])('splits %s', (entry, parts) => {
    expect(splitOrderedName(entry)).toEqual(parts);
  });
});
