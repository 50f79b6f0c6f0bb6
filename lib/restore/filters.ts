import { IncludesExcludes, matchesLabelSelector, type Labels } from '../velero/filters';
import { hasWildcard } from '../velero/glob';
import type { RestoreSpec } from '../velero/restore';

/**
 * Which objects of a backup a restore takes, decided as Velero's restore decides it
 * (pkg/restore/restore.go: the namespace and resource includes/excludes, the
 * includeClusterResources rule, label selectors, nonRestorableResources, and the
 * skipping of finished pods and jobs). Pure: the caller reads the tarball.
 */

/**
 * Types Velero never restores (restore.go nonRestorableResources): they are rebuilt by
 * the cluster (nodes, events, CSI nodes and attachments) or are Velero's own records.
 */
export const NON_RESTORABLE_RESOURCES = new Set([
  'nodes',
  'events',
  'events.events.k8s.io',
  'backups.velero.io',
  'restores.velero.io',
  'resticrepositories.velero.io',
  'csinodes.storage.k8s.io',
  'volumeattachments.storage.k8s.io',
  'backuprepositories.velero.io',
]);

/**
 * Resource filter entries as patterns over the tarball's group-resources. Velero
 * resolves a short name through discovery (`deployments` → `deployments.apps`); a
 * restore reads no discovery, so a name without a dot matches that resource in any
 * group (`deployments` and `deployments.*`). Globs and qualified names stay as given.
 */
export function resourcePatterns(names: readonly string[] | undefined): string[] {
  return (names ?? []).flatMap((name) => {
    const lower = name.toLowerCase();
    if (lower === '*' || hasWildcard(lower) || lower.includes('.')) return [lower];
    return [lower, `${lower}.*`];
  });
}

/** An object of the backup, enough to decide whether it is restored. */
export interface RestoreCandidate {
  groupResource: string;
  /** Namespace in the backup; undefined for cluster-scoped objects. */
  namespace?: string;
  labels: Labels;
}

export type RestoreDecision = { restore: true } | { restore: false; reason: string };

export interface RestoreFilters {
  /** Whether objects of namespace `name` (in the backup) are restored. */
  includesNamespace(name: string): boolean;
  decide(candidate: RestoreCandidate): RestoreDecision;
}

/** Builds a restore's filters from its spec. */
export function createRestoreFilters(spec: RestoreSpec): RestoreFilters {
  const namespaces = new IncludesExcludes(spec.includedNamespaces ?? [], spec.excludedNamespaces ?? []);
  const resources = new IncludesExcludes(
    resourcePatterns(spec.includedResources),
    resourcePatterns(spec.excludedResources),
  );
  // Velero: with includeClusterResources unset, cluster-scoped objects come along only
  // when the restore takes every namespace.
  const clusterScoped = spec.includeClusterResources ?? namespaces.includesEverything();
  const matchesLabels = (labels: Labels): boolean => {
    if (spec.orLabelSelectors?.length) return spec.orLabelSelectors.some((s) => matchesLabelSelector(s, labels));
    return spec.labelSelector === undefined || spec.labelSelector === null || matchesLabelSelector(spec.labelSelector, labels);
  };
  return {
    includesNamespace: (name) => namespaces.shouldInclude(name),
    decide(candidate) {
      const { groupResource, namespace } = candidate;
      if (NON_RESTORABLE_RESOURCES.has(groupResource)) return { restore: false, reason: `${groupResource} are never restored` };
      if (!resources.shouldInclude(groupResource)) return { restore: false, reason: `resource ${groupResource} is not included` };
      if (namespace !== undefined && !namespaces.shouldInclude(namespace)) {
        return { restore: false, reason: `namespace ${namespace} is not included` };
      }
      if (namespace === undefined && groupResource !== 'namespaces' && !clusterScoped) {
        return { restore: false, reason: 'cluster-scoped resources are not included (includeClusterResources)' };
      }
      if (!matchesLabels(candidate.labels)) return { restore: false, reason: 'its labels do not match the label selector' };
      return { restore: true };
    },
  };
}

/**
 * Whether a pod or job had finished in the source cluster; Velero does not restore those
 * (restore.go isCompleted): a finished pod would only run again.
 */
export function isCompleted(groupResource: string, object: Record<string, unknown>): boolean {
  const status = object.status as { phase?: string; completionTime?: string } | undefined;
  if (groupResource === 'pods') return status?.phase === 'Succeeded' || status?.phase === 'Failed';
  if (groupResource === 'jobs.batch') return Boolean(status?.completionTime);
  return false;
}
