import { describe, expect, it } from 'vitest';
import {
  IncludesExcludes,
  NamespaceFilter,
  createBackupFilters,
  matchesLabelSelector,
  usesOldResourceFilters,
  type ClusterNamespace,
  type ResolvedResource,
} from '../../../lib/velero/filters';
import { ValidationError } from '../../../lib/core/errors';
import { parseBackupSpec, type BackupSpec, type LabelSelector } from '../../../lib/velero/backup';
import { forBackup, forNamespace, type Namespace } from '../../builders';

/** A small discovery: plural, singular, kind and short names, like a RESTMapper. */
const DISCOVERY: Record<string, ResolvedResource> = {};
function api(groupResource: string, namespaced: boolean, ...aliases: string[]) {
  for (const name of [groupResource, groupResource.split('.')[0]!, ...aliases]) {
    DISCOVERY[name] = { groupResource, namespaced };
  }
}
api('pods', true, 'pod', 'Pod', 'po');
api('configmaps', true, 'configmap', 'cm');
api('secrets', true, 'secret');
api('serviceaccounts', true, 'sa');
api('persistentvolumeclaims', true, 'pvc');
api('deployments.apps', true, 'deployment', 'Deployment', 'deploy');
api('persistentvolumes', false, 'pv', 'PersistentVolume');
api('namespaces', false, 'namespace', 'ns');
api('storageclasses.storage.k8s.io', false, 'storageclass', 'sc');
api('customresourcedefinitions.apiextensions.k8s.io', false, 'crd', 'crds');
const resolveResource = (name: string) => DISCOVERY[name];

function clusterNamespaces(...namespaces: Namespace[]): ClusterNamespace[] {
  return namespaces.map((ns) => ({ name: ns.metadata.name, labels: ns.metadata.labels, phase: ns.status.phase }));
}

const NAMESPACES = clusterNamespaces(
  forNamespace('default').result(),
  forNamespace('app').labels({ team: 'web' }).result(),
  forNamespace('app-test').labels({ team: 'web', env: 'test' }).result(),
  forNamespace('db').labels({ team: 'data' }).result(),
  forNamespace('kube-system').result(),
  forNamespace('leaving').phase('Terminating').result(),
);

function filtersFor(spec: BackupSpec, namespaces = NAMESPACES) {
  return createBackupFilters(spec, { namespaces, resolveResource });
}

const spec = () => forBackup('velero', 'b');

describe('Module: backup/filters', () => {
  // Velero's TestShouldInclude.
  it.each([
    ['empty string should include every item', [], [], 'foo', true],
    ['include * should include every item', ['*'], [], 'foo', true],
    ['item in includes list should include item', ['foo', 'bar', 'baz'], [], 'foo', true],
    ['item not in includes list should not include item', ['foo', 'baz'], [], 'bar', false],
    ['include *, excluded item should not include item', ['*'], ['foo'], 'foo', false],
    ['include *, exclude foo, bar should be included', ['*'], ['foo'], 'bar', true],
    ['an item both included and excluded should not be included', ['foo'], ['foo'], 'foo', false],
    ['wildcard should include item', ['*.bar'], [], 'foo.bar', true],
    ['wildcard mismatch should not include item', ['*.bar'], [], 'bar.foo', false],
    ['wildcard exclude should not include item', ['*'], ['*.bar'], 'foo.bar', false],
    ['wildcard mismatch should include item', ['*'], ['*.bar'], 'bar.foo', true],
  ])('IncludesExcludes: %s', (_name, includes, excludes, item, want) => {
    expect(new IncludesExcludes(includes, excludes).shouldInclude(item)).toBe(want);
  });

  it('IncludesExcludes: a pattern that does not compile stops matching, as in Velero', () => {
    // Sorted, "[" comes before "pods": Velero gives up there and matches nothing.
    expect(new IncludesExcludes(['pods', '[']).shouldInclude('pods')).toBe(false);
  });

  it.each([
    [[], [], true],
    [['*'], [], true],
    [['*'], ['x'], false],
    [['a'], [], false],
  ])('IncludesExcludes(%j, %j).includesEverything() is %s', (includes, excludes, want) => {
    expect(new IncludesExcludes(includes, excludes).includesEverything()).toBe(want);
  });

  describe('namespaces', () => {
    // Velero's TestExpandIncludesExcludes.
    it.each([
      ['no wildcards - should not expand', ['default', 'kube-system'], ['kube-public'], ['default', 'kube-system', 'kube-public', 'test'], ['default', 'kube-system'], ['kube-public'], false],
      ['asterisk alone - should not expand', ['*'], [], ['default', 'kube-system', 'test'], ['*'], [], false],
      ['wildcard in includes - should expand', ['kube-*'], [], ['default', 'kube-system', 'kube-public', 'test'], ['kube-public', 'kube-system'], [], true],
      ['wildcard in excludes - should expand', ['default'], ['*-test'], ['default', 'kube-test', 'app-test', 'prod'], ['default'], ['app-test', 'kube-test'], true],
      ['wildcards in both includes and excludes', ['kube-*', 'app-*'], ['*-test'], ['kube-system', 'kube-test', 'app-prod', 'app-test', 'default'], ['app-prod', 'app-test', 'kube-system', 'kube-test'], ['app-test', 'kube-test'], true],
      ['wildcard pattern matches nothing', ['nonexistent-*'], [], ['default', 'kube-system'], [], [], true],
      ['mix of wildcards and non-wildcards in includes', ['default', 'kube-*'], [], ['default', 'kube-system', 'kube-public', 'test'], ['default', 'kube-public', 'kube-system'], [], true],
      ['question mark wildcard', ['test-?'], [], ['test-1', 'test-2', 'test-10', 'default'], ['test-1', 'test-2'], [], true],
      ['empty activeNamespaces with wildcards', ['kube-*'], [], [], [], [], true],
      ['empty includes with wildcard excludes - not expanded', [], ['kube-*'], ['kube-system'], [], ['kube-*'], false],
    ])('expansion: %s', (_name, includes, excludes, active, wantIncludes, wantExcludes, wantExpanded) => {
      const filter = new NamespaceFilter(includes, excludes, active);
      expect(filter.wildcardExpanded).toBe(wantExpanded);
      expect(filter.includes).toEqual(wantIncludes);
      expect(filter.excludes).toEqual(wantExcludes);
    });

    it.each([[['kube-**'], []], [['default'], ['test-**']]])('refuses invalid patterns %j / %j', (includes, excludes) => {
      expect(() => new NamespaceFilter(includes, excludes, ['default'])).toThrow(ValidationError);
    });

    // Velero's TestResolveNamespaceList and TestNamespaceIncludesExcludesShouldIncludeAfterWildcardExpansion.
    it.each([
      ['no includes/excludes - all active namespaces', [], [], ['default', 'kube-system', 'test'], ['default', 'kube-system', 'test']],
      ['asterisk includes - all active namespaces', ['*'], [], ['default', 'kube-system', 'test'], ['default', 'kube-system', 'test']],
      ['specific includes - only those namespaces', ['default', 'test'], [], ['default', 'kube-system', 'test'], ['default', 'test']],
      ['includes with excludes', ['*'], ['kube-system'], ['default', 'kube-system', 'test'], ['default', 'test']],
      ['wildcard includes - expands and filters', ['kube-*'], [], ['default', 'kube-system', 'kube-public', 'test'], ['kube-system', 'kube-public']],
      ['wildcard includes with wildcard excludes', ['app-*'], ['*-test'], ['app-prod', 'app-dev', 'app-test', 'default'], ['app-prod', 'app-dev']],
      ['wildcard matches nothing - empty result', ['nonexistent-*'], [], ['default', 'kube-system'], []],
      ['includes namespace not in active namespaces', ['default', 'nonexistent'], [], ['default', 'test'], ['default']],
      ['excludes all namespaces from includes', ['default', 'test'], ['default', 'test'], ['default', 'test', 'prod'], []],
      ['question mark wildcard pattern', ['ns-?'], [], ['ns-1', 'ns-2', 'ns-10', 'default'], ['ns-1', 'ns-2']],
    ])('resolution: %s', (_name, includes, excludes, active, want) => {
      const filter = new NamespaceFilter(includes, excludes, active);
      expect(active.filter((ns) => filter.shouldInclude(ns))).toEqual(want);
    });

    it.each([
      ['everything', [], [], { allNamespaces: true }],
      ['everything but some', ['*'], ['db'], { allNamespaces: true }],
      ['named namespaces, minus excluded ones', ['app', 'db'], ['db'], { allNamespaces: false, namespaces: ['app'] }],
      ['expanded patterns', ['app*'], [], { allNamespaces: false, namespaces: ['app', 'app-test'] }],
    ])('lists %s', (_name, includes, excludes, want) => {
      expect(new NamespaceFilter(includes, excludes, ['app', 'app-test', 'db']).listScope()).toEqual(want);
    });

    it('excludes namespaces labelled velero.io/exclude-from-backup=true, like excludedNamespaces', () => {
      const namespaces = [
        ...NAMESPACES,
        ...clusterNamespaces(forNamespace('velero').labels({ 'velero.io/exclude-from-backup': 'true' }).result()),
      ];
      const filters = filtersFor(spec().result().spec, namespaces);
      expect(filters.shouldIncludeNamespace('velero')).toBe(false);
      expect(filters.shouldIncludeNamespace('app')).toBe(true);
      // As in Velero, the backup is then no longer one of "all namespaces": cluster-scoped
      // resources are no longer taken by default.
      expect(filters.shouldIncludeResource('storageclasses.storage.k8s.io', false)).toBe(false);
      expect(filters.namespaceObjectsToBackUp([])).not.toContain('velero');
    });
  });

  describe('resource types, new-style filters', () => {
    // Velero's TestNamespaceScopedShouldInclude.
    it.each([
      ['empty string should include every item', [], [], true],
      ['include * should include every item', ['*'], [], true],
      ['item in includes list should include item', ['foo', 'bar', 'pods'], [], true],
      ['item not in includes list should not include item', ['foo', 'baz'], [], false],
      ['include *, excluded item should not include item', ['*'], ['pods'], false],
      ['include *, exclude foo, bar should be included', ['*'], ['foo'], true],
      ['an item both included and excluded should not be included', ['pods'], ['pods'], false],
      ['wildcard should include item', ['*s'], [], true],
      ['wildcard mismatch should not include item', ['*.bar'], [], false],
      ['exclude * should include nothing', [], ['*'], false],
      ['wildcard exclude should not include item', ['*'], ['*s'], false],
      ['wildcard exclude mismatch should include item', [], ['*.bar'], true],
    ])('namespace-scoped: %s', (_name, includes, excludes, want) => {
      const b = spec().includedNamespaceScopedResources(...includes).excludedNamespaceScopedResources(...excludes);
      expect(filtersFor(b.result().spec).shouldIncludeResource('pods', true)).toBe(want);
    });

    // Velero's TestClusterScopedShouldInclude.
    it.each([
      ['empty string should include nothing', [], [], ['default'], 'persistentvolumes', false],
      ['include * should include every item', ['*'], [], [], 'persistentvolumes', true],
      ['item in includes list should include item', ['namespaces', 'bar', 'baz'], [], [], 'namespaces', true],
      ['item not in includes list should not include item', ['foo', 'baz'], [], ['default'], 'persistentvolumes', false],
      ['include *, excluded item should not include item', ['*'], ['namespaces'], [], 'namespaces', false],
      ['include *, exclude foo, bar should be included', ['*'], ['foo'], [], 'namespaces', true],
      ['an item both included and excluded should not be included', ['namespaces'], ['namespaces'], [], 'namespaces', false],
      ['wildcard should include item', ['*spaces'], [], [], 'namespaces', true],
      ['wildcard mismatch should not include item', ['*.bar'], [], ['default'], 'persistentvolumes', false],
      ['exclude * should include nothing', [], ['*'], [], 'namespaces', false],
      ['wildcard exclude should not include item', ['*'], ['*spaces'], [], 'namespaces', false],
      ['wildcard exclude mismatch should not include item', [], ['*spaces'], [], 'namespaces', false],
      ['even namespaces is not in the include list, it should also be involved', ['foo', 'baz'], [], [], 'namespaces', true],
      ['all namespaces and namespace-scoped resources included: cluster resource included', [], [], ['*'], 'persistentvolumes', true],
      ['all namespaces and namespace-scoped resources included, but cluster resource excluded', [], ['persistentvolumes'], ['*'], 'persistentvolumes', false],
    ])('cluster-scoped: %s', (_name, includes, excludes, nsIncludes, resource, want) => {
      const b = spec()
        .includedClusterScopedResources(...includes)
        .excludedClusterScopedResources(...excludes)
        .includedNamespaces(...nsIncludes);
      expect(filtersFor(b.result().spec).shouldIncludeResource(resource, false)).toBe(want);
    });

    it('does not back up cluster-scoped resources by default when only some namespace-scoped types are taken', () => {
      const filters = filtersFor(spec().includedNamespaceScopedResources('pods').result().spec);
      expect(filters.shouldIncludeResource('persistentvolumes', false)).toBe(false);
      expect(filters.shouldIncludeResource('namespaces', false)).toBe(true);
    });

    // Velero's TestGetScopedResourceIncludesExcludes: names of the other scope are dropped.
    it('drops resources listed in the wrong scope, and resolves aliases', () => {
      const filters = filtersFor(
        spec()
          .includedNamespaceScopedResources('deploy', 'persistentvolumes')
          .excludedNamespaceScopedResources('pods', 'persistentvolumes')
          .includedClusterScopedResources('deployments.apps', 'pv')
          .result().spec,
      );
      expect(filters.shouldIncludeResource('deployments.apps', true)).toBe(true);
      expect(filters.shouldIncludeResource('pods', true)).toBe(false);
      expect(filters.shouldIncludeResource('configmaps', true)).toBe(false);
      expect(filters.shouldIncludeResource('persistentvolumes', false)).toBe(true);
      expect(filters.shouldExcludeResource('persistentvolumes', false)).toBe(false);
    });

    // Velero's TestShouldExcluded, the "scope" rows.
    it.each([
      ['resource is in the include list', ['persistentvolumes'], [], false],
      ['filters are all default', [], [], false],
      ['resource is not in the exclude list', [], ['namespaces'], false],
      ['resource is in the exclude list', [], ['pv'], true],
    ])('shouldExcludeResource: %s', (_name, includes, excludes, want) => {
      const b = spec().includedClusterScopedResources(...includes).excludedClusterScopedResources(...excludes);
      expect(filtersFor(b.result().spec).shouldExcludeResource('persistentvolumes', false)).toBe(want);
    });
  });

  describe('resource types, old-style filters', () => {
    it.each([
      ['cluster resources unset, all namespaces', spec(), 'persistentvolumes', false, true],
      ['cluster resources unset, some namespaces', spec().includedNamespaces('app'), 'persistentvolumes', false, false],
      ['cluster resources unset, some namespaces: Namespace objects still', spec().includedNamespaces('app').includedResources('*'), 'namespaces', false, true],
      ['cluster resources unset, some namespaces: namespaced types', spec().includedNamespaces('app').includedResources('*'), 'pods', true, true],
      ['cluster resources true, some namespaces', spec().includedNamespaces('app').includeClusterResources(true), 'persistentvolumes', false, true],
      ['cluster resources false, all namespaces', spec().includeClusterResources(false), 'persistentvolumes', false, false],
      ['cluster resources false leaves out Namespace objects too', spec().includeClusterResources(false), 'namespaces', false, false],
      ['cluster resources false keeps namespaced types', spec().includeClusterResources(false), 'pods', true, true],
      ['included by alias', spec().includedResources('deploy'), 'deployments.apps', true, true],
      ['not included', spec().includedResources('deploy'), 'pods', true, false],
      ['included by kind', spec().includedResources('Pod'), 'pods', true, true],
      ['excluded', spec().excludedResources('secret'), 'secrets', true, false],
      ["'*' in excludes is dropped", spec().excludedResources('*'), 'pods', true, true],
      ['unknown names are globs', spec().includedResources('*.apps'), 'deployments.apps', true, true],
      ['unknown names are globs (no match)', spec().includedResources('*.apps'), 'pods', true, false],
      ['excluded cluster-scoped type', spec().excludedResources('sc'), 'storageclasses.storage.k8s.io', false, false],
    ])('shouldIncludeResource: %s', (_name, builder, resource, namespaced, want) => {
      expect(filtersFor(builder.result().spec).shouldIncludeResource(resource, namespaced)).toBe(want);
    });

    // Velero's TestShouldExcluded, the "global" rows.
    it.each([
      ['filters are all default', spec().includedResources('pods'), 'pods', false],
      ['filters are all default (cluster resources unset, everything included)', spec().excludedResources('secrets'), 'persistentvolumes', false],
      ['IncludeClusterResources is set to true', spec().includeClusterResources(true), 'persistentvolumes', false],
      ['IncludeClusterResources is set to false', spec().includedResources('persistentvolumes').includeClusterResources(false), 'persistentvolumes', true],
      ['resource is in the include list', spec().includedResources('persistentvolumes'), 'persistentvolumes', false],
      ['resource is not in the include list', spec().includedResources('pods'), 'persistentvolumes', true],
      ['resource is explicitly excluded', spec().excludedResources('pv'), 'persistentvolumes', true],
    ])('shouldExcludeResource: %s', (_name, builder, resource, want) => {
      expect(filtersFor(builder.result().spec).shouldExcludeResource(resource, false)).toBe(want);
    });

    it.each([
      [spec(), false],
      [spec().includeClusterResources(true), true],
      [spec().includeClusterResources(false), true],
      [spec().includedResources('pods'), true],
      [spec().excludedResources('pods'), true],
      [spec().includedClusterScopedResources('storageclasses'), false],
    ])('usesOldResourceFilters (%#)', (builder, want) => {
      expect(usesOldResourceFilters(builder.result().spec)).toBe(want);
    });
  });

  describe('labels', () => {
    const labels = { app: 'web', tier: 'front' };
    it.each<[string, LabelSelector, Record<string, string> | undefined, boolean]>([
      ['empty selector matches everything', {}, labels, true],
      ['empty selector matches no labels', {}, undefined, true],
      ['matchLabels match', { matchLabels: { app: 'web' } }, labels, true],
      ['matchLabels value differs', { matchLabels: { app: 'db' } }, labels, false],
      ['matchLabels key missing', { matchLabels: { env: 'prod' } }, labels, false],
      ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, labels, true],
      ['In, value not listed', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, labels, false],
      ['In, key missing', { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }, labels, false],
      ['NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['back'] }] }, labels, true],
      ['NotIn, value listed', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels, false],
      ['NotIn, key missing', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, labels, true],
      ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, labels, true],
      ['Exists, key missing', { matchExpressions: [{ key: 'env', operator: 'Exists' }] }, labels, false],
      ['DoesNotExist', { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, labels, true],
      ['DoesNotExist, key present', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels, false],
      ['all of matchLabels and expressions', { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels, false],
    ])('matchesLabelSelector: %s', (_name, selector, objectLabels, want) => {
      expect(matchesLabelSelector(selector, objectLabels)).toBe(want);
    });

    it.each([
      ['no selector', spec(), { any: 'x' }, true],
      ['labelSelector matches', spec().labelSelector({ matchLabels: { app: 'web' } }), { app: 'web' }, true],
      ['labelSelector does not match', spec().labelSelector({ matchLabels: { app: 'web' } }), { app: 'db' }, false],
      ['orLabelSelectors, second matches', spec().orLabelSelectors({ matchLabels: { app: 'web' } }, { matchLabels: { app: 'db' } }), { app: 'db' }, true],
      ['orLabelSelectors, none matches', spec().orLabelSelectors({ matchLabels: { app: 'web' } }, { matchLabels: { app: 'db' } }), { app: 'cache' }, false],
    ])('matchesLabels: %s', (_name, builder, objectLabels, want) => {
      expect(filtersFor(builder.result().spec).matchesLabels(objectLabels)).toBe(want);
    });
  });

  describe('items', () => {
    const deleting = '2024-01-01T00:00:00Z';
    it.each([
      ['an included pod', spec(), { groupResource: 'pods', namespace: 'app' }, {}, true, undefined],
      ['an object labelled velero.io/exclude-from-backup=true', spec(), { groupResource: 'pods', namespace: 'app', labels: { 'velero.io/exclude-from-backup': 'true' } }, {}, false, 'velero.io/exclude-from-backup=true'],
      ['an object of an excluded namespace', spec().excludedNamespaces('db'), { groupResource: 'pods', namespace: 'db' }, {}, false, 'namespace db is not included'],
      ['a pod when only deployments are taken', spec().includedResources('deploy'), { groupResource: 'pods', namespace: 'app' }, {}, false, 'resource pods is not included'],
      ['the PV of an included PVC, cluster resources unset, one namespace', spec().includedNamespaces('app'), { groupResource: 'persistentvolumes' }, {}, true, undefined],
      ['a PV when PVs are excluded', spec().excludedResources('pv'), { groupResource: 'persistentvolumes' }, {}, false, 'cluster-scoped resource persistentvolumes is excluded'],
      ['a PV when cluster resources are off', spec().includeClusterResources(false), { groupResource: 'persistentvolumes' }, {}, false, 'is excluded'],
      ['a PV with new-style filters naming only namespaced types', spec().includedNamespaceScopedResources('pvc'), { groupResource: 'persistentvolumes' }, {}, true, undefined],
      ['a Namespace object, never dropped by the cluster-scoped check', spec().includeClusterResources(false), { groupResource: 'namespaces' }, {}, true, undefined],
      ['an object being deleted', spec(), { groupResource: 'pods', namespace: 'app', deletionTimestamp: deleting }, {}, false, 'being deleted'],
      ['an excluded object an action must include', spec().excludedNamespaces('db'), { groupResource: 'volumesnapshots.snapshot.storage.k8s.io', namespace: 'db' }, { mustInclude: true }, true, undefined],
      ['an object being deleted that an action must include', spec(), { groupResource: 'pods', namespace: 'app', deletionTimestamp: deleting }, { mustInclude: true }, false, 'being deleted'],
    ])('shouldBackUpItem: %s', (_name, builder, item, options, include, reason) => {
      const decision = filtersFor(builder.result().spec).shouldBackUpItem(item, options);
      expect(decision.include).toBe(include);
      if (reason) expect(decision.include ? '' : decision.reason).toContain(reason);
    });
  });

  describe('Namespace objects', () => {
    it.each([
      ['all namespaces: every active, not excluded one', spec(), [], ['default', 'app', 'app-test', 'db', 'kube-system']],
      ['named namespaces, even without objects', spec().includedNamespaces('app', 'db'), [], ['app', 'db']],
      ['patterns', spec().includedNamespaces('app*'), [], ['app', 'app-test']],
      ['a terminating namespace is left out', spec().includedNamespaces('leaving'), [], []],
      ['selector over all namespaces: matching namespaces only', spec().labelSelector({ matchLabels: { team: 'web' } }), [], ['app', 'app-test']],
      ['selector over all namespaces: plus namespaces of backed-up objects', spec().labelSelector({ matchLabels: { team: 'web' } }), ['db'], ['app', 'app-test', 'db']],
      ['selector over named namespaces: named ones kept', spec().includedNamespaces('db', 'default').labelSelector({ matchLabels: { team: 'web' } }), [], ['default', 'db']],
      ['or-selectors over all namespaces', spec().orLabelSelectors({ matchLabels: { team: 'data' } }, { matchLabels: { env: 'test' } }), [], ['app-test', 'db']],
      ['objects of an excluded namespace do not bring it in', spec().excludedNamespaces('db').labelSelector({ matchLabels: { team: 'none' } }), ['db'], ['default', 'app', 'app-test', 'kube-system']],
      ['cluster resources off: no Namespace objects', spec().includeClusterResources(false), ['app'], []],
      ['new-style cluster list without namespaces: still written', spec().includedClusterScopedResources('storageclasses'), [], ['default', 'app', 'app-test', 'db', 'kube-system']],
      ['old-style includes without namespaces: not written', spec().includedResources('pods'), ['app'], []],
    ])('%s', (_name, builder, itemNamespaces, want) => {
      expect(filtersFor(builder.result().spec).namespaceObjectsToBackUp(itemNamespaces)).toEqual(want);
    });
  });
});

describe('Terminating namespaces (Velero #8888)', () => {
  const namespaces: ClusterNamespace[] = [
    { name: 'shop', phase: 'Active' },
    { name: 'old-shop', phase: 'Terminating' },
  ];

  it.each([
    ['all namespaces', {}, ['old-shop']],
    ['named', { includedNamespaces: ['old-shop', 'shop'] }, ['old-shop']],
    ['excluded anyway', { excludedNamespaces: ['old-shop'] }, []],
    ['not named', { includedNamespaces: ['shop'] }, []],
  ])('leaves out a Terminating namespace included %s, and names it for a warning', (_, spec, warned) => {
    const filters = createBackupFilters(parseBackupSpec(spec), { namespaces, resolveResource });
    expect(filters.terminatingNamespaces()).toEqual(warned);
    expect(filters.shouldIncludeNamespace('old-shop')).toBe(false);
    expect(filters.shouldBackUpItem({ groupResource: 'configmaps', namespace: 'old-shop' }).include).toBe(false);
    expect(filters.shouldBackUpItem({ groupResource: 'volumesnapshots.snapshot.storage.k8s.io', namespace: 'old-shop' }, { mustInclude: true }).include).toBe(false);
    expect(filters.namespaceObjectsToBackUp(['old-shop'])).not.toContain('old-shop');
  });
});
