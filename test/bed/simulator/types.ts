/**
 * The fields of Kubernetes objects the simulator reads and writes, as plain JSON
 * (the simulator talks to the API server without the generated model classes, so
 * timestamps stay strings and unknown fields survive round trips).
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generateName?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface KubeList<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export interface TypedRef {
  apiGroup?: string | null;
  kind: string;
  name: string;
  namespace?: string | null;
}

export interface PersistentVolumeClaim extends KubeObject {
  spec: {
    accessModes?: string[];
    resources?: { requests?: Record<string, string> };
    storageClassName?: string | null;
    volumeName?: string;
    volumeMode?: string;
    dataSource?: TypedRef | null;
    dataSourceRef?: TypedRef | null;
  };
  status?: { phase?: string };
}

export interface PersistentVolume extends KubeObject {
  spec: {
    capacity?: Record<string, string>;
    accessModes?: string[];
    claimRef?: {
      kind?: string;
      apiVersion?: string;
      namespace?: string;
      name?: string;
      uid?: string;
      resourceVersion?: string;
    };
    persistentVolumeReclaimPolicy?: string;
    storageClassName?: string;
    volumeMode?: string;
    mountOptions?: string[];
    csi?: {
      driver: string;
      volumeHandle: string;
      fsType?: string;
      volumeAttributes?: Record<string, string>;
    };
  };
  status?: { phase?: string };
}

export interface StorageClass extends KubeObject {
  provisioner: string;
  parameters?: Record<string, string>;
  reclaimPolicy?: string;
  volumeBindingMode?: string;
  mountOptions?: string[];
  allowVolumeExpansion?: boolean;
}

export interface VolumeSnapshot extends KubeObject {
  spec: {
    source: { persistentVolumeClaimName?: string; volumeSnapshotContentName?: string };
    volumeSnapshotClassName?: string;
  };
  status?: {
    boundVolumeSnapshotContentName?: string;
    readyToUse?: boolean;
    restoreSize?: string;
  };
}

export interface VolumeSnapshotContentStatus {
  snapshotHandle?: string | null;
  readyToUse?: boolean | null;
  creationTime?: number | null;
  restoreSize?: number | null;
  volumeGroupSnapshotHandle?: string | null;
  error?: { time?: string; message?: string } | null;
}

export interface VolumeSnapshotContent extends KubeObject {
  spec: {
    driver: string;
    deletionPolicy: 'Delete' | 'Retain';
    source: { volumeHandle?: string; snapshotHandle?: string };
    volumeSnapshotClassName?: string;
    volumeSnapshotRef: { name?: string; namespace?: string; uid?: string };
  };
  status?: VolumeSnapshotContentStatus;
}

export interface VolumeSnapshotClass extends KubeObject {
  driver: string;
  deletionPolicy: 'Delete' | 'Retain';
  parameters?: Record<string, string>;
}

/** `namespace/name` for namespaced objects, `name` for cluster-scoped ones (client-go's key). */
export function keyOf(object: KubeObject): string {
  const { namespace, name } = object.metadata;
  return namespace ? `${namespace}/${name}` : name;
}
