import type { FieldIssue } from '../../core/errors';
import type { ParsedSpec } from './validation';

// ---------------------------------------------------------------------------------------
// Velero v1.18's BackupSpec (pkg/apis/velero/v1/backup_types.go), field by field, against
// what Skiff does. Skiff reaches clusters over their API servers and installs nothing in
// them, so what Velero does through its node agent (file-system backup, data movement),
// through pods/exec (hooks) or through volume snapshotter plugins (snapshot locations) is
// not done. A request that asks for such work is refused, naming the field and why,
// rather than stored as if it had been applied. Zero values (false, empty lists and
// objects) ask for nothing and are accepted: Velero's CLI and server write them.
//
//   honoured   metadata.labels, included/excluded namespaces and resources (old and new
//              style), labelSelector, orLabelSelectors, snapshotVolumes, ttl,
//              includeClusterResources, storageLocation, orderedResources,
//              csiSnapshotTimeout, resourcePolicy (volume policies), itemOperationTimeout
//              (accepted: Skiff starts no asynchronous item operations for it to bound)
//   refused    hooks.resources, volumeSnapshotLocations, defaultVolumesToFsBackup,
//              defaultVolumesToRestic, snapshotMoveData, datamover,
//              uploaderConfig.parallelFilesUpload, volumeGroupSnapshotLabelKey;
//              resourcePolicy of a kind other than configmap

const NO_AGENT =
  "needs Velero's node agent running inside the cluster, which Skiff does not install (it reaches clusters only " +
  'through their API servers); Skiff protects PVC data with CSI snapshots';

/** Why each refused field is refused, and what to do instead. */
export const REFUSED_FIELD_REASONS = {
  hooks:
    'Skiff does not run backup hooks: they run commands inside pods (pods/exec), which Skiff does not do, so the backup ' +
    'would not be application-consistent as the hooks promise; quiesce the application another way (for example scale ' +
    'it down) or use Velero for this backup, and leave hooks empty',
  volumeSnapshotLocations:
    "VolumeSnapshotLocations configure Velero's volume snapshotter plugins for native (non-CSI) snapshots, which Skiff " +
    'does not have; Skiff takes CSI snapshots and chooses their VolumeSnapshotClass as Velero does; leave it out',
  defaultVolumesToFsBackup: `file-system backup of pod volumes ${NO_AGENT}; set it to false or leave it out`,
  defaultVolumesToRestic: `file-system backup of pod volumes (restic) ${NO_AGENT}; set it to false or leave it out`,
  snapshotMoveData:
    `moving snapshot data to the object store ${NO_AGENT}; snapshots stay in the storage system (deletionPolicy Retain ` +
    'for the backup’s life); set it to false or leave it out',
  datamover: `a data mover only acts with snapshotMoveData, and data movement ${NO_AGENT}; leave it out`,
  uploaderConfig: `the uploader of file-system backups and data movement ${NO_AGENT}; leave it out`,
  volumeGroupSnapshotLabelKey:
    'Skiff takes one VolumeSnapshot per PVC and no VolumeGroupSnapshots, so PVCs grouped by this label would not be ' +
    'snapshotted together as asked; leave it out',
} as const;

/** The refused field paths a spec sets to something other than its zero value, with the reason. */
export function unsupportedFieldIssues(spec: ParsedSpec): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const refuse = (path: string, reason: string, value: unknown) =>
    issues.push({ path, message: `${JSON.stringify(value)} is not supported: ${reason}` });
  if ((spec.hooks?.resources?.length ?? 0) > 0) {
    issues.push({ path: 'hooks.resources', message: `is not supported: ${REFUSED_FIELD_REASONS.hooks}` });
  }
  if ((spec.volumeSnapshotLocations?.length ?? 0) > 0) {
    refuse('volumeSnapshotLocations', REFUSED_FIELD_REASONS.volumeSnapshotLocations, spec.volumeSnapshotLocations);
  }
  for (const field of ['defaultVolumesToFsBackup', 'defaultVolumesToRestic', 'snapshotMoveData'] as const) {
    if (spec[field] === true) refuse(field, REFUSED_FIELD_REASONS[field], true);
  }
  if (spec.datamover) refuse('datamover', REFUSED_FIELD_REASONS.datamover, spec.datamover);
  if (spec.uploaderConfig?.parallelFilesUpload) {
    refuse('uploaderConfig.parallelFilesUpload', REFUSED_FIELD_REASONS.uploaderConfig, spec.uploaderConfig.parallelFilesUpload);
  }
  if (spec.volumeGroupSnapshotLabelKey) {
    refuse('volumeGroupSnapshotLabelKey', REFUSED_FIELD_REASONS.volumeGroupSnapshotLabelKey, spec.volumeGroupSnapshotLabelKey);
  }
  issues.push(...resourcePolicyIssues(spec.resourcePolicy));
  return issues;
}

/**
 * Velero reads resource policies only from a ConfigMap (internal/resourcepolicies,
 * ConfigmapRefType) and silently ignores a reference of another kind; Skiff refuses it.
 */
function resourcePolicyIssues(reference: ParsedSpec['resourcePolicy']): FieldIssue[] {
  if (reference === undefined) return [];
  const issues: FieldIssue[] = [];
  if (reference.kind.toLowerCase() !== 'configmap') {
    issues.push({
      path: 'resourcePolicy.kind',
      message: `${JSON.stringify(reference.kind)} is not supported: resource policies are read from a ConfigMap; use kind "configmap"`,
    });
  }
  if (reference.apiGroup) {
    issues.push({
      path: 'resourcePolicy.apiGroup',
      message: `${JSON.stringify(reference.apiGroup)} is not allowed: a ConfigMap is in the core API group; leave apiGroup out`,
    });
  }
  if (reference.name === '') issues.push({ path: 'resourcePolicy.name', message: 'must name the ConfigMap holding the policies' });
  return issues;
}

/**
 * The spec as stored: refused fields that were given with their zero value and that
 * Velero itself never writes when unset are left out, so the stored spec holds only what
 * was applied (false for the flags Velero's server always writes).
 */
export function withoutZeroRefusedFields(spec: ParsedSpec): ParsedSpec {
  const stored = { ...spec };
  // Empty or zero here (anything else was refused); Go's omitempty leaves them out too.
  delete stored.volumeSnapshotLocations;
  delete stored.datamover;
  delete stored.uploaderConfig;
  delete stored.volumeGroupSnapshotLabelKey;
  // At most `{ resources: [] }` is left; parseBackupSpec writes `{}` as Velero's server does.
  delete stored.hooks;
  return stored;
}
