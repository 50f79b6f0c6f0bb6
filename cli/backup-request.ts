import { ValidationError } from '../lib/core/errors';
import { BACKUP_KIND, DEFAULT_VELERO_NAMESPACE, VELERO_API_VERSION } from '../lib/velero/backup/types';
import { parseLabelSelector, parseOrLabelSelectors } from '../lib/velero/label-selector';
import { CLUSTER_LABEL } from '../lib/velero/labels';
import type { CliFlags } from './args';
import { list } from './flag-values';

/**
 * `skiff backup create`'s flags as the request body of POST /backups (the same in both
 * modes), with velero's flag meanings (pkg/cmd/cli/backup/create.go). Pure; throws a
 * ValidationError naming the flag for a value that does not parse.
 */
export function backupRequestFromFlags(name: string | undefined, flags: CliFlags): Record<string, unknown> {
  const request: Record<string, unknown> = {
    cluster: flags.cluster,
    name,
    fromSchedule: flags.fromSchedule,
    includedNamespaces: list(flags.includeNamespaces),
    excludedNamespaces: list(flags.excludeNamespaces),
    includedResources: list(flags.includeResources),
    excludedResources: list(flags.excludeResources),
    includedClusterScopedResources: list(flags.includeClusterScopedResources),
    excludedClusterScopedResources: list(flags.excludeClusterScopedResources),
    includedNamespaceScopedResources: list(flags.includeNamespaceScopedResources),
    excludedNamespaceScopedResources: list(flags.excludeNamespaceScopedResources),
    includeClusterResources: flags.includeClusterResources,
    labelSelector: flags.selector !== undefined ? parseLabelSelector(flags.selector, '--selector') : undefined,
    orLabelSelectors: flags.orSelector !== undefined ? parseOrLabelSelectors(flags.orSelector) : undefined,
    labels: flags.labels !== undefined ? pairs(flags.labels, '--labels') : undefined,
    annotations: flags.annotations !== undefined ? pairs(flags.annotations, '--annotations') : undefined,
    ttl: flags.ttl,
    storageLocation: flags.storageLocation,
    snapshotVolumes: flags.snapshotVolumes,
    csiSnapshotTimeout: flags.csiSnapshotTimeout,
    itemOperationTimeout: flags.itemOperationTimeout,
    orderedResources: flags.orderedResources !== undefined ? orderedResources(flags.orderedResources) : undefined,
  };
  if (flags.selector !== undefined && flags.orSelector !== undefined) {
    throw new ValidationError('command line', [{ path: '--or-selector', message: 'either --selector or --or-selector, not both (as velero)' }]);
  }
  return Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined));
}

/** `k=v,k2=v2` as velero's --labels and --annotations read them (flag.Map). */
export function pairs(text: string, field: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of list(text) ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ValidationError('command line', [{ path: field, message: `write each entry as key=value; got ${JSON.stringify(pair)}` }]);
    result[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return result;
}

/**
 * velero's --ordered-resources: `pods=ns1/pod1,ns1/pod2;persistentvolumes=pv1` into
 * `{pods: "ns1/pod1,ns1/pod2", persistentvolumes: "pv1"}` (parseOrderedResources).
 */
export function orderedResources(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const at = entry.indexOf('=');
    if (at <= 0 || at === entry.length - 1) {
      throw new ValidationError('command line', [
        { path: '--ordered-resources', message: `write each entry as resource=ns/name,ns/name (entries separated by ";"); got ${JSON.stringify(entry)}` },
      ]);
    }
    result[entry.slice(0, at).trim()] = entry.slice(at + 1).trim();
  }
  return result;
}

/**
 * The Backup object `velero backup create -o json|yaml` prints instead of creating it:
 * the request's spec as given (defaults are the server's), its labels (with Skiff's
 * cluster label) and annotations, no status.
 */
export function backupObjectOf(request: Record<string, unknown>): Record<string, unknown> {
  const { cluster, name, labels, annotations, fromSchedule, ...spec } = request as Record<string, unknown> & {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  void fromSchedule;
  const metadata: Record<string, unknown> = { name: name ?? '', namespace: DEFAULT_VELERO_NAMESPACE };
  const allLabels = { ...labels, ...(typeof cluster === 'string' ? { [CLUSTER_LABEL]: cluster } : {}) };
  if (Object.keys(allLabels).length > 0) metadata.labels = allLabels;
  if (annotations) metadata.annotations = annotations;
  return { apiVersion: VELERO_API_VERSION, kind: BACKUP_KIND, metadata, spec, status: {} };
}
