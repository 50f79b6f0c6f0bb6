import type { DeletionPolicy, VolumeSnapshot, VolumeSnapshotContent } from '../../lib/csi/snapshot-api';

/**
 * Fluent builders for snapshot.storage.k8s.io/v1 objects in the states the
 * snapshot-controller and a CSI driver move them through:
 * `forVolumeSnapshot('app', 'velero-data-x1').boundTo('snapcontent-1').ready().result()`.
 */

export class VolumeSnapshotBuilder {
  private readonly object: VolumeSnapshot;

  constructor(namespace: string, name: string) {
    this.object = {
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshot',
      metadata: { namespace, name, uid: `uid-${name}` },
      spec: { source: {} },
    };
  }

  source(pvcName: string): this {
    this.object.spec.source = { persistentVolumeClaimName: pvcName };
    return this;
  }

  snapshotClass(name: string): this {
    this.object.spec.volumeSnapshotClassName = name;
    return this;
  }

  annotations(annotations: Record<string, string>): this {
    this.object.metadata.annotations = { ...this.object.metadata.annotations, ...annotations };
    return this;
  }

  labels(labels: Record<string, string>): this {
    this.object.metadata.labels = { ...this.object.metadata.labels, ...labels };
    return this;
  }

  created(timestamp: string): this {
    this.object.metadata.creationTimestamp = timestamp;
    return this;
  }

  boundTo(contentName: string): this {
    this.object.status = { ...this.object.status, boundVolumeSnapshotContentName: contentName, readyToUse: false };
    return this;
  }

  ready(restoreSize = '1Gi'): this {
    this.object.status = { ...this.object.status, readyToUse: true, restoreSize, creationTime: '2024-05-01T10:00:00Z' };
    return this;
  }

  error(message: string): this {
    this.object.status = { ...this.object.status, error: { message, time: '2024-05-01T10:00:00Z' } };
    return this;
  }

  deleting(): this {
    this.object.metadata.deletionTimestamp = '2024-05-01T10:00:00Z';
    return this;
  }

  result(): VolumeSnapshot {
    return structuredClone(this.object);
  }
}

/** Starts a VolumeSnapshot without status, as just created (uid `uid-<name>`). */
export function forVolumeSnapshot(namespace: string, name: string): VolumeSnapshotBuilder {
  return new VolumeSnapshotBuilder(namespace, name);
}

export class VolumeSnapshotContentBuilder {
  private readonly object: VolumeSnapshotContent;

  constructor(name: string) {
    this.object = {
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshotContent',
      metadata: { name },
      spec: { deletionPolicy: 'Delete', driver: '', source: {}, volumeSnapshotRef: {} },
    };
  }

  driver(driver: string): this {
    this.object.spec.driver = driver;
    return this;
  }

  deletionPolicy(policy: DeletionPolicy): this {
    this.object.spec.deletionPolicy = policy;
    return this;
  }

  annotations(annotations: Record<string, string>): this {
    this.object.metadata.annotations = { ...this.object.metadata.annotations, ...annotations };
    return this;
  }

  labels(labels: Record<string, string>): this {
    this.object.metadata.labels = { ...this.object.metadata.labels, ...labels };
    return this;
  }

  /** A pre-provisioned (static) content for an existing storage snapshot. */
  staticHandle(snapshotHandle: string): this {
    this.object.spec.source = { snapshotHandle };
    return this;
  }

  /** The VolumeSnapshot the content is for (spec.volumeSnapshotRef). */
  forSnapshot(namespace: string, name: string): this {
    this.object.spec.volumeSnapshotRef = { ...this.object.spec.volumeSnapshotRef, namespace, name };
    return this;
  }

  /** Being deleted, held by these finalizers. */
  deleting(...finalizers: string[]): this {
    this.object.metadata.deletionTimestamp = '2024-05-01T10:00:00Z';
    this.object.metadata.finalizers = finalizers;
    return this;
  }

  /** The driver has cut the snapshot but not yet reported it ready. */
  handle(snapshotHandle: string, restoreSize = 1073741824): this {
    this.object.status = { ...this.object.status, snapshotHandle, restoreSize, readyToUse: false };
    return this;
  }

  ready(): this {
    this.object.status = { ...this.object.status, readyToUse: true };
    return this;
  }

  error(message: string): this {
    this.object.status = { ...this.object.status, readyToUse: false, error: { message } };
    return this;
  }

  result(): VolumeSnapshotContent {
    return structuredClone(this.object);
  }
}

/** Starts a dynamic VolumeSnapshotContent without status (deletionPolicy Delete). */
export function forVolumeSnapshotContent(name: string): VolumeSnapshotContentBuilder {
  return new VolumeSnapshotContentBuilder(name);
}
