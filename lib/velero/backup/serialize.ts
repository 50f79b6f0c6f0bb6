import { byCodeUnit } from '../../core/ordering';
import type { LabelSelector } from './spec-schema';
import type { Backup } from './types';

// ---------------------------------------------------------------------------------------
// Serialisation in Velero's layout: Go's field order, and Go's omitempty rules (slices,
// pointers, strings and numbers are left out when empty; structs such as spec.metadata,
// spec.hooks and the duration fields are always written).

const SPEC_FIELD_ORDER = [
  'metadata',
  'includedNamespaces',
  'excludedNamespaces',
  'includedResources',
  'excludedResources',
  'includedClusterScopedResources',
  'excludedClusterScopedResources',
  'includedNamespaceScopedResources',
  'excludedNamespaceScopedResources',
  'labelSelector',
  'orLabelSelectors',
  'snapshotVolumes',
  'ttl',
  'volumeGroupSnapshotLabelKey',
  'includeClusterResources',
  'hooks',
  'storageLocation',
  'volumeSnapshotLocations',
  'defaultVolumesToRestic',
  'defaultVolumesToFsBackup',
  'orderedResources',
  'csiSnapshotTimeout',
  'itemOperationTimeout',
  'resourcePolicy',
  'snapshotMoveData',
  'datamover',
  'uploaderConfig',
] as const;

const STATUS_FIELD_ORDER = [
  'version',
  'formatVersion',
  'expiration',
  'phase',
  'queuePosition',
  'validationErrors',
  'startTimestamp',
  'completionTimestamp',
  'volumeSnapshotsAttempted',
  'volumeSnapshotsCompleted',
  'failureReason',
  'warnings',
  'errors',
  'progress',
  'csiVolumeSnapshotsAttempted',
  'csiVolumeSnapshotsCompleted',
  'backupItemOperationsAttempted',
  'backupItemOperationsCompleted',
  'backupItemOperationsFailed',
  'hookStatus',
] as const;

const METADATA_FIELD_ORDER = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
] as const;

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === 0) return true;
  if (Array.isArray(value)) return value.length === 0;
  return false;
}


/** Go's encoding/json writes map keys sorted and leaves out empty maps. */
function sortedMap(map: Record<string, string> | undefined): Record<string, string> | undefined {
  if (map === undefined || Object.keys(map).length === 0) return undefined;
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => byCodeUnit(a, b)));
}

function selectorInGoOrder(selector: LabelSelector | undefined): Record<string, unknown> | undefined {
  if (selector === undefined) return undefined;
  return {
    matchLabels: sortedMap(selector.matchLabels),
    matchExpressions: selector.matchExpressions?.length
      ? selector.matchExpressions.map((r) => ({ key: r.key, operator: r.operator, values: r.values?.length ? r.values : undefined }))
      : undefined,
  };
}

function ordered(
  source: Record<string, unknown>,
  order: readonly string[],
  alwaysWritten: Record<string, unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of order) {
    const value = source[key];
    // Booleans are pointers in Velero's types: false is written, only nil is left out.
    if (typeof value === 'boolean' || !isEmpty(value)) out[key] = value;
    else if (key in alwaysWritten) out[key] = alwaysWritten[key];
  }
  // Fields this version does not know (read from a newer Velero) are kept, after the known ones.
  for (const key of Object.keys(source).sort(byCodeUnit)) {
    if (!order.includes(key) && source[key] !== undefined) out[key] = source[key];
  }
  return out;
}

/**
 * Serialises a Backup as Velero writes velero-backup.json: indented JSON with kind,
 * apiVersion, metadata, spec and status in Go's field order, maps sorted, empty values
 * left out where Go's omitempty leaves them out.
 */
export function serializeBackup(backup: Backup): string {
  const { metadata, spec, status } = backup;
  const specForJson = {
    ...spec,
    metadata: { labels: sortedMap(spec.metadata?.labels) },
    labelSelector: selectorInGoOrder(spec.labelSelector),
    orLabelSelectors: spec.orLabelSelectors?.map(selectorInGoOrder),
    orderedResources: sortedMap(spec.orderedResources),
  };
  const statusForJson = {
    ...status,
    progress: status.progress && ordered({ ...status.progress }, ['totalItems', 'itemsBackedUp']),
  };
  const document = {
    kind: backup.kind,
    apiVersion: backup.apiVersion,
    metadata: ordered(
      { ...metadata, labels: sortedMap(metadata.labels), annotations: sortedMap(metadata.annotations) },
      METADATA_FIELD_ORDER,
    ),
    spec: ordered(specForJson, SPEC_FIELD_ORDER, {
      metadata: {},
      ttl: '0s',
      hooks: {},
      csiSnapshotTimeout: '0s',
      itemOperationTimeout: '0s',
    }),
    status: ordered(statusForJson, STATUS_FIELD_ORDER),
  };
  return JSON.stringify(document, null, 2);
}
