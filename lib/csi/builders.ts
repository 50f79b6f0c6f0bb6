import { SNAPSHOT_API_VERSION, SNAPSHOT_GROUP, type DeletionPolicy, type VolumeSnapshot, type VolumeSnapshotContent } from './snapshot-api';
import { backupLabelValue, BACKUP_NAME_LABEL } from '../velero/labels';

/**
 * The CSI snapshot objects Skiff creates, as pure functions: the dynamic VolumeSnapshot
 * a backup cuts, and the static VolumeSnapshotContent / VolumeSnapshot pair and the
 * PVC-from-snapshot that sync, expiry and restore build around a stored snapshot handle
 * (Velero: pkg/util/csi/volume_snapshot.go, pkg/restore/actions/csi/).
 */

/** A VolumeSnapshot's labels: the PVC's, plus the backup's name (which wins over a PVC label of that key). */
export function volumeSnapshotLabels(pvcLabels: Record<string, string> | undefined, backupName: string): Record<string, string> {
  return { ...pvcLabels, [BACKUP_NAME_LABEL]: backupLabelValue(backupName) };
}

/** The source PVC of a snapshot, as far as the objects need it. */
export interface SnapshotSource {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
}

/** A VolumeSnapshot to create: the API server names it from `generateName`. */
export interface NewVolumeSnapshot extends Pick<VolumeSnapshot, 'apiVersion' | 'kind' | 'spec'> {
  metadata: { generateName: string; namespace: string; labels: Record<string, string> };
}

/**
 * The VolumeSnapshot Velero creates for a PVC: `velero-<pvc>-<random>` in the PVC's
 * namespace, the PVC's labels plus the backup's, the chosen class, the PVC as source.
 */
export function volumeSnapshotFor(pvc: SnapshotSource, snapshotClassName: string, backupName: string): NewVolumeSnapshot {
  return {
    apiVersion: SNAPSHOT_API_VERSION,
    kind: 'VolumeSnapshot',
    metadata: {
      generateName: `velero-${pvc.name}-`,
      namespace: pvc.namespace,
      labels: volumeSnapshotLabels(pvc.labels, backupName),
    },
    spec: {
      source: { persistentVolumeClaimName: pvc.name },
      volumeSnapshotClassName: snapshotClassName,
    },
  };
}

/** What a static content is made from: a storage snapshot that already exists. */
export interface StaticContentInput {
  /** The content's name; callers derive it so that a second create answers 409. */
  name: string;
  driver: string;
  /** The storage system's handle (a stored content's `status.snapshotHandle`). */
  snapshotHandle: string;
  deletionPolicy: DeletionPolicy;
  /** The VolumeSnapshot this content is for: a real one, or a placeholder nobody creates. */
  volumeSnapshotRef: { namespace: string; name: string };
  volumeSnapshotClassName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A content to create: no status, no uid. */
export type NewVolumeSnapshotContent = Pick<VolumeSnapshotContent, 'apiVersion' | 'kind' | 'spec'> & {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

/**
 * A pre-provisioned (static) content for an existing storage snapshot. Its source is
 * `snapshotHandle`, never `volumeHandle`: a volumeHandle asks the driver to cut a new
 * snapshot of that volume (Velero #7978, a snapshot storm when backups were synced).
 * The snapshot-controller marks it ready once the driver confirms the handle.
 */
export function staticContentFor(input: StaticContentInput): NewVolumeSnapshotContent {
  return {
    apiVersion: SNAPSHOT_API_VERSION,
    kind: 'VolumeSnapshotContent',
    metadata: {
      name: input.name,
      ...(input.labels ? { labels: input.labels } : {}),
      ...(input.annotations ? { annotations: input.annotations } : {}),
    },
    spec: {
      deletionPolicy: input.deletionPolicy,
      driver: input.driver,
      source: { snapshotHandle: input.snapshotHandle },
      ...(input.volumeSnapshotClassName ? { volumeSnapshotClassName: input.volumeSnapshotClassName } : {}),
      volumeSnapshotRef: { apiVersion: SNAPSHOT_API_VERSION, kind: 'VolumeSnapshot', ...input.volumeSnapshotRef },
    },
  };
}

/** A VolumeSnapshot to create under a fixed name. */
export type NewStaticVolumeSnapshot = Pick<VolumeSnapshot, 'apiVersion' | 'kind' | 'spec'> & {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

/**
 * A VolumeSnapshot that claims a static content by name (`source.volumeSnapshotContentName`);
 * the content's volumeSnapshotRef must name it back, or the controller will not bind them.
 */
export function staticVolumeSnapshotFor(input: {
  namespace: string;
  name: string;
  contentName: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}): NewStaticVolumeSnapshot {
  return {
    apiVersion: SNAPSHOT_API_VERSION,
    kind: 'VolumeSnapshot',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      ...(input.labels ? { labels: input.labels } : {}),
      ...(input.annotations ? { annotations: input.annotations } : {}),
    },
    spec: { source: { volumeSnapshotContentName: input.contentName } },
  };
}

/** The PVC fields pvcFromSnapshot reads and writes; everything else passes through. */
export interface PersistentVolumeClaimObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; [key: string]: unknown };
  spec?: { volumeName?: string; dataSource?: unknown; dataSourceRef?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * Annotations the PV controller and scheduler set on a bound PVC; restored as they are,
 * they would tell the controller the claim is already bound (Velero's PVC restore
 * action removes the same ones: pkg/restore/actions/csi/pvc_action.go).
 */
const BINDING_ANNOTATIONS = [
  'pv.kubernetes.io/bind-completed',
  'pv.kubernetes.io/bound-by-controller',
  'volume.kubernetes.io/selected-node',
];

/**
 * The PVC restored from a snapshot: `dataSource` (and `dataSourceRef`) point at the
 * VolumeSnapshot, `volumeName` and the binding annotations are cleared so the driver
 * provisions a new volume from the snapshot. The input is not changed.
 */
export function pvcFromSnapshot<T extends PersistentVolumeClaimObject>(pvc: T, volumeSnapshotName: string): T {
  const restored = structuredClone(pvc);
  const source = { apiGroup: SNAPSHOT_GROUP, kind: 'VolumeSnapshot', name: volumeSnapshotName };
  const spec = { ...restored.spec, dataSource: source, dataSourceRef: source };
  delete spec.volumeName;
  restored.spec = spec;
  const annotations = { ...restored.metadata.annotations };
  for (const key of BINDING_ANNOTATIONS) delete annotations[key];
  restored.metadata.annotations = annotations;
  return restored;
}
