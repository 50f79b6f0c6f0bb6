import { describe, expect, it } from 'vitest';
import { createRestoreFilters, isCompleted } from '../../../lib/restore/filters';
import type { RestoreSpec } from '../../../lib/velero/restore';

const spec = (fields: Partial<RestoreSpec>): RestoreSpec => ({ backupName: 'b', ...fields });

describe('Function: createRestoreFilters', () => {
  it.each([
    ['everything by default', {}, { groupResource: 'configmaps', namespace: 'a' }, true],
    ['an excluded namespace', { excludedNamespaces: ['a'] }, { groupResource: 'configmaps', namespace: 'a' }, false],
    ['a namespace glob', { includedNamespaces: ['sho*'] }, { groupResource: 'configmaps', namespace: 'shop' }, true],
    ['a short resource name matches its group', { includedResources: ['deployments'] }, { groupResource: 'deployments.apps', namespace: 'a' }, true],
    ['an excluded resource', { excludedResources: ['secrets'] }, { groupResource: 'secrets', namespace: 'a' }, false],
    ['nodes are never restored', {}, { groupResource: 'nodes' }, false],
    ['cluster-scoped objects when restoring all namespaces', {}, { groupResource: 'storageclasses.storage.k8s.io' }, true],
    ['no cluster-scoped objects when restoring some namespaces', { includedNamespaces: ['a'] }, { groupResource: 'storageclasses.storage.k8s.io' }, false],
    ['cluster-scoped objects asked for', { includedNamespaces: ['a'], includeClusterResources: true }, { groupResource: 'storageclasses.storage.k8s.io' }, true],
    ['cluster-scoped objects refused', { includeClusterResources: false }, { groupResource: 'persistentvolumes' }, false],
    ['a label selector', { labelSelector: { matchLabels: { app: 'web' } } }, { groupResource: 'configmaps', namespace: 'a', labels: { app: 'db' } }, false],
    ['or label selectors', { orLabelSelectors: [{ matchLabels: { app: 'db' } }, { matchLabels: { app: 'web' } }] }, { groupResource: 'configmaps', namespace: 'a', labels: { app: 'web' } }, true],
  ])('%s', (_case, fields, candidate, expected) => {
    const decision = createRestoreFilters(spec(fields as Partial<RestoreSpec>)).decide({ labels: undefined, ...candidate });
    expect(decision.restore).toBe(expected);
  });
});

describe('Function: isCompleted', () => {
  it.each([
    ['pods', { status: { phase: 'Succeeded' } }, true],
    ['pods', { status: { phase: 'Running' } }, false],
    ['jobs.batch', { status: { completionTime: 't' } }, true],
    ['configmaps', {}, false],
  ])('%s %j', (gr, object, expected) => {
    expect(isCompleted(gr, object)).toBe(expected);
  });
});
