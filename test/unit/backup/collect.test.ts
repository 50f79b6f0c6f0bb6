import { describe, expect, it } from 'vitest';
import { planListTargets } from '../../../lib/backup/collect';
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
