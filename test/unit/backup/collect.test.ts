import { describe, expect, it } from 'vitest';
import { cursorKey, planListTargets } from '../../../lib/backup/collect';
import { createBackupFilters } from '../../../lib/velero/filters';
import type { ApiResource } from '../../../lib/kube/discovery';
import type { BackupSpec } from '../../../lib/velero/backup';

function api(group: string, resource: string, namespaced = true, version = 'v1'): ApiResource {
  return { group, version, resource, kind: resource, namespaced, verbs: ['list', 'get'], preferredVersion: version };
}

const DISCOVERY: ApiResource[] = [
  api('', 'configmaps'),
  api('', 'events'),
  api('events.k8s.io', 'events'),
  api('apps', 'deployments'),
  api('networking.k8s.io', 'networkpolicies'),
  api('', 'namespaces', false),
];

function targetsFor(spec: BackupSpec): string[] {
  const filters = createBackupFilters(spec, {
    namespaces: [{ name: 'app', phase: 'Active' }],
    resolveResource: (name) => {
      const r = DISCOVERY.find((d) => d.resource === name || `${d.resource}.${d.group}` === name);
      return r && { groupResource: r.group ? `${r.resource}.${r.group}` : r.resource, namespaced: r.namespaced };
    },
  });
  return planListTargets(DISCOVERY, filters, { allNamespaces: false, includedNamespaces: ['app'], relatedPersistentVolumes: new Set() }).map(
    (t) => t.groupResource,
  );
}

describe('Function: planListTargets', () => {
  it.each([
    { spec: {}, expected: ['configmaps', 'deployments.apps', 'events', 'networkpolicies.networking.k8s.io'] },
    // With core events left out, the events.k8s.io copy is the one taken (Velero marks a twin seen only once included).
    { spec: { excludedResources: ['events'] }, expected: ['configmaps', 'deployments.apps', 'events.events.k8s.io', 'networkpolicies.networking.k8s.io'] },
    { spec: { includedResources: ['events.events.k8s.io'] }, expected: ['events.events.k8s.io'] },
  ])('lists events once, as Velero does with cohabiting types ($spec)', ({ spec, expected }) => {
    expect(targetsFor(spec as BackupSpec)).toEqual(expected);
  });
});

describe('Function: planListTargets with every API group version', () => {
  const widgets = (version: string): ApiResource => ({ ...api('example.com', 'widgets', true, version), preferredVersion: 'v2' });
  const discovery: ApiResource[] = [api('', 'configmaps'), widgets('v2'), widgets('v1'), widgets('v3alpha1'), api('', 'namespaces', false)];

  it.each([
    { allVersions: undefined, expected: ['configmaps', 'widgets.example.com'] },
    { allVersions: false, expected: ['configmaps', 'widgets.example.com'] },
    // The preferred version first, keyed by the group-resource alone as before; the others after it.
    { allVersions: true, expected: ['configmaps', 'widgets.example.com', 'widgets.example.com@v1', 'widgets.example.com@v3alpha1'] },
  ])('lists non-preferred versions only when asked (allVersions: $allVersions)', ({ allVersions, expected }) => {
    const filters = createBackupFilters({}, {
      namespaces: [{ name: 'app', phase: 'Active' }],
      resolveResource: () => undefined,
    });
    const targets = planListTargets(discovery, filters, {
      allNamespaces: false,
      includedNamespaces: ['app'],
      relatedPersistentVolumes: new Set(),
      ...(allVersions === undefined ? {} : { allVersions }),
    });
    expect(targets.map(cursorKey)).toEqual(expected);
    expect(targets.map((t) => t.groupResource)).toEqual(expected.map((k) => k.split('@')[0]));
  });

  it.each([
    { spec: { excludedResources: ['widgets.example.com'] }, expected: ['configmaps'] },
    { spec: { includedResources: ['widgets.example.com'] }, expected: ['widgets.example.com', 'widgets.example.com@v1', 'widgets.example.com@v3alpha1'] },
  ])('applies the resource filters to every version alike ($spec)', ({ spec, expected }) => {
    const filters = createBackupFilters(spec as BackupSpec, {
      namespaces: [{ name: 'app', phase: 'Active' }],
      resolveResource: (name) =>
        name === 'widgets.example.com' ? { groupResource: name, namespaced: true } : name === 'configmaps' ? { groupResource: name, namespaced: true } : undefined,
    });
    const targets = planListTargets(discovery, filters, { allNamespaces: true, relatedPersistentVolumes: new Set(), allVersions: true });
    expect(targets.map(cursorKey)).toEqual(expected);
  });
});
