import type { KubeObject } from '../kube/list-all';

/**
 * The CSI snapshot API (snapshot.storage.k8s.io/v1, served by the external-snapshotter
 * CRDs): REST paths and the fields of its three kinds that Skiff reads and writes.
 * Objects stay plain JSON so fields this version does not know survive into backups.
 */

/** The API group of the CSI snapshot CRDs. */
export const SNAPSHOT_GROUP = 'snapshot.storage.k8s.io';
/** The version Skiff reads and writes. */
export const SNAPSHOT_API_VERSION = `${SNAPSHOT_GROUP}/v1`;

const BASE = `/apis/${SNAPSHOT_API_VERSION}`;

/** VolumeSnapshots of one namespace, or of all namespaces when `namespace` is undefined. */
export function volumeSnapshotsPath(namespace?: string): string {
  return namespace === undefined ? `${BASE}/volumesnapshots` : `${BASE}/namespaces/${namespace}/volumesnapshots`;
}

/** One VolumeSnapshot. */
export function volumeSnapshotPath(namespace: string, name: string): string {
  return `${volumeSnapshotsPath(namespace)}/${name}`;
}

/** One VolumeSnapshotContent (cluster-scoped). */
export function volumeSnapshotContentPath(name: string): string {
  return `${BASE}/volumesnapshotcontents/${name}`;
}

/** All VolumeSnapshotContents (cluster-scoped), to list or to create one. */
export function volumeSnapshotContentsPath(): string {
  return `${BASE}/volumesnapshotcontents`;
}

/**
 * The cluster's CSIDriver objects (storage.k8s.io/v1): a driver that has none is not
 * installed there, so contents of its snapshots would never become ready.
 */
export function csiDriversPath(): string {
  return '/apis/storage.k8s.io/v1/csidrivers';
}

/** All VolumeSnapshotClasses (cluster-scoped). */
export function volumeSnapshotClassesPath(): string {
  return `${BASE}/volumesnapshotclasses`;
}

/**
 * The name the snapshot-controller gives the content it creates for a dynamic
 * VolumeSnapshot (external-snapshotter utils.GetDynamicSnapshotContentNameForSnapshot).
 * Knowing it finds the content even before the VolumeSnapshot's status names it.
 */
export function dynamicContentName(volumeSnapshotUid: string): string {
  return `snapcontent-${volumeSnapshotUid}`;
}

/**
 * The finalizer the snapshot-controller puts on a content (external-snapshotter
 * utils.VolumeSnapshotContentFinalizer). The CSI sidecar deletes the storage snapshot
 * while it holds the content; a content deleted before the controller put it there
 * leaves at once, and the driver is never asked to delete anything.
 */
export const CONTENT_FINALIZER = 'snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection';

/**
 * The finalizer the snapshot-controller puts on a PVC while a VolumeSnapshot of it is
 * not ready yet (external-snapshotter utils.PVCFinalizer), so the claim stays while a
 * snapshot is cut from it.
 */
export const PVC_SOURCE_FINALIZER = 'snapshot.storage.kubernetes.io/pvc-as-source-protection';

/** What happens to the storage snapshot when its content is deleted. */
export type DeletionPolicy = 'Delete' | 'Retain';

/** status.error of a VolumeSnapshot or VolumeSnapshotContent. */
export interface SnapshotError {
  time?: string;
  message?: string;
}

/** A VolumeSnapshot's metadata: namespaced, so the namespace is always there. */
export interface VolumeSnapshotMetadata {
  name: string;
  namespace: string;
  uid?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  finalizers?: string[];
  [key: string]: unknown;
}

/** A request for a snapshot of a PVC (dynamic) or a claim on an existing content (static). */
export interface VolumeSnapshot extends KubeObject {
  metadata: VolumeSnapshotMetadata;
  spec: {
    source: { persistentVolumeClaimName?: string; volumeSnapshotContentName?: string };
    volumeSnapshotClassName?: string;
  };
  status?: {
    boundVolumeSnapshotContentName?: string;
    creationTime?: string;
    readyToUse?: boolean;
    /** A quantity, e.g. `1Gi`. */
    restoreSize?: string;
    error?: SnapshotError;
  };
}

/** The cluster's record of one storage snapshot, bound to a VolumeSnapshot. */
export interface VolumeSnapshotContent extends KubeObject {
  spec: {
    deletionPolicy: DeletionPolicy;
    driver: string;
    source: { volumeHandle?: string; snapshotHandle?: string };
    volumeSnapshotClassName?: string;
    volumeSnapshotRef: { name?: string; namespace?: string; uid?: string; [key: string]: unknown };
    sourceVolumeMode?: string;
  };
  status?: {
    snapshotHandle?: string;
    /** Nanoseconds since the epoch. */
    creationTime?: number;
    readyToUse?: boolean;
    /** Bytes. */
    restoreSize?: number;
    error?: SnapshotError;
  };
}

/** How a driver takes snapshots, and the deletion policy their contents get. */
export interface VolumeSnapshotClass extends KubeObject {
  driver: string;
  deletionPolicy: DeletionPolicy;
  parameters?: Record<string, string>;
}
