/**
 * Fluent builders for the Kubernetes objects Skiff's decisions look at, as plain JSON
 * the way an API server returns them: `forPersistentVolume('pv-1').csi('ebs.csi.aws.com', 'vol-1').result()`.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

abstract class Builder<T extends { metadata: ObjectMeta }> {
  protected constructor(protected readonly object: T) {}

  labels(labels: Record<string, string>): this {
    this.object.metadata.labels = { ...this.object.metadata.labels, ...labels };
    return this;
  }

  annotations(annotations: Record<string, string>): this {
    this.object.metadata.annotations = { ...this.object.metadata.annotations, ...annotations };
    return this;
  }

  /** A copy of the object built so far. */
  result(): T {
    return structuredClone(this.object);
  }
}

export interface Namespace {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: ObjectMeta;
  status: { phase: string };
}

export class NamespaceBuilder extends Builder<Namespace> {
  constructor(name: string) {
    super({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } });
  }

  phase(phase: string): this {
    this.object.status.phase = phase;
    return this;
  }
}

/** Starts an Active Namespace. */
export function forNamespace(name: string): NamespaceBuilder {
  return new NamespaceBuilder(name);
}

export interface PersistentVolumeClaim {
  apiVersion: 'v1';
  kind: 'PersistentVolumeClaim';
  metadata: ObjectMeta;
  spec: {
    storageClassName?: string;
    volumeName?: string;
    accessModes?: string[];
    dataSource?: { apiGroup?: string; kind: string; name: string };
  };
  status?: { phase?: string };
}

export class PersistentVolumeClaimBuilder extends Builder<PersistentVolumeClaim> {
  constructor(namespace: string, name: string) {
    super({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { namespace, name }, spec: {} });
  }

  storageClass(name: string): this {
    this.object.spec.storageClassName = name;
    return this;
  }

  /** Made from VolumeSnapshot `name` of its namespace (spec.dataSource). */
  fromSnapshot(name: string): this {
    this.object.spec.dataSource = { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name };
    return this;
  }

  /** Binds the claim to PV `name`. */
  volumeName(name: string): this {
    this.object.spec.volumeName = name;
    this.object.status = { phase: 'Bound' };
    return this;
  }
}

/** Starts a PersistentVolumeClaim. */
export function forPersistentVolumeClaim(namespace: string, name: string): PersistentVolumeClaimBuilder {
  return new PersistentVolumeClaimBuilder(namespace, name);
}

export interface PersistentVolume {
  apiVersion: 'v1';
  kind: 'PersistentVolume';
  metadata: ObjectMeta;
  spec: {
    csi?: { driver: string; volumeHandle: string };
    hostPath?: { path: string };
    claimRef?: { namespace: string; name: string };
    storageClassName?: string;
    persistentVolumeReclaimPolicy?: string;
  };
  status?: { phase?: string };
}

export class PersistentVolumeBuilder extends Builder<PersistentVolume> {
  constructor(name: string) {
    super({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec: {} });
  }

  /** Makes it a CSI volume of `driver`. */
  csi(driver: string, volumeHandle: string): this {
    this.object.spec.csi = { driver, volumeHandle };
    return this;
  }

  /** Makes it a non-CSI (hostPath) volume. */
  hostPath(path: string): this {
    this.object.spec.hostPath = { path };
    return this;
  }

  claimRef(namespace: string, name: string): this {
    this.object.spec.claimRef = { namespace, name };
    return this;
  }

  /** Its claim is gone and reclaim policy `policy` applies (phase Released). */
  released(policy: 'Delete' | 'Retain' = 'Delete'): this {
    this.object.spec.persistentVolumeReclaimPolicy = policy;
    this.object.status = { phase: 'Released' };
    return this;
  }

  storageClass(name: string): this {
    this.object.spec.storageClassName = name;
    return this;
  }
}

/** Starts a PersistentVolume. */
export function forPersistentVolume(name: string): PersistentVolumeBuilder {
  return new PersistentVolumeBuilder(name);
}

export interface StorageClass {
  apiVersion: 'storage.k8s.io/v1';
  kind: 'StorageClass';
  metadata: ObjectMeta;
  provisioner: string;
}

export class StorageClassBuilder extends Builder<StorageClass> {
  constructor(name: string, provisioner: string) {
    super({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner });
  }
}

/** Starts a StorageClass of `provisioner`. */
export function forStorageClass(name: string, provisioner: string): StorageClassBuilder {
  return new StorageClassBuilder(name, provisioner);
}

export interface VolumeSnapshotClass {
  apiVersion: 'snapshot.storage.k8s.io/v1';
  kind: 'VolumeSnapshotClass';
  metadata: ObjectMeta;
  driver: string;
  deletionPolicy: 'Delete' | 'Retain';
}

export class VolumeSnapshotClassBuilder extends Builder<VolumeSnapshotClass> {
  constructor(name: string) {
    super({
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshotClass',
      metadata: { name },
      driver: '',
      deletionPolicy: 'Retain',
    });
  }

  driver(driver: string): this {
    this.object.driver = driver;
    return this;
  }

  deletionPolicy(policy: 'Delete' | 'Retain'): this {
    this.object.deletionPolicy = policy;
    return this;
  }

  /** Labels it velero.io/csi-volumesnapshot-class, Velero's way to choose it. */
  veleroSelected(): this {
    return this.labels({ 'velero.io/csi-volumesnapshot-class': 'true' });
  }

  /** Annotates it as the external-snapshotter's default class. */
  defaultClass(value = 'true'): this {
    return this.annotations({ 'snapshot.storage.kubernetes.io/is-default-class': value });
  }
}

/** Starts a VolumeSnapshotClass (deletionPolicy Retain, as Skiff's model wants). */
export function forVolumeSnapshotClass(name: string): VolumeSnapshotClassBuilder {
  return new VolumeSnapshotClassBuilder(name);
}

export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data: Record<string, string>;
}

export class ConfigMapBuilder extends Builder<ConfigMap> {
  constructor(namespace: string, name: string) {
    super({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: {} });
  }

  data(data: Record<string, string>): this {
    this.object.data = { ...this.object.data, ...data };
    return this;
  }
}

/** Starts an empty ConfigMap. */
export function forConfigMap(namespace: string, name: string): ConfigMapBuilder {
  return new ConfigMapBuilder(namespace, name);
}

export interface Secret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: ObjectMeta;
  type: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export class SecretBuilder extends Builder<Secret> {
  constructor(namespace: string, name: string) {
    super({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque' });
  }

  /** Values as given; stored base64-encoded in `data`, as the API server returns them. */
  data(values: Record<string, string>): this {
    const encoded = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    this.object.data = { ...this.object.data, ...encoded };
    return this;
  }

  stringData(values: Record<string, string>): this {
    this.object.stringData = { ...this.object.stringData, ...values };
    return this;
  }
}

/** Starts an Opaque Secret without data. */
export function forSecret(namespace: string, name: string): SecretBuilder {
  return new SecretBuilder(namespace, name);
}

export interface LonghornVolume {
  apiVersion: 'longhorn.io/v1beta2';
  kind: 'Volume';
  metadata: ObjectMeta;
  spec: { numberOfReplicas: number };
  status: { state?: string; kubernetesStatus?: { namespace: string; pvcName: string } };
}

/** A Longhorn `volumes.longhorn.io` record, as the storage system keeps it in longhorn-system. */
export class LonghornVolumeBuilder extends Builder<LonghornVolume> {
  constructor(name: string) {
    super({
      apiVersion: 'longhorn.io/v1beta2',
      kind: 'Volume',
      metadata: { name, namespace: 'longhorn-system' },
      spec: { numberOfReplicas: 3 },
      status: { state: 'detached' },
    });
  }

  replicas(count: number): this {
    this.object.spec.numberOfReplicas = count;
    return this;
  }

  /** `attached`, `attaching`, `detached`, ...; undefined for a volume Longhorn has not reported on yet. */
  state(state: string | undefined): this {
    this.object.status.state = state;
    return this;
  }

  claim(namespace: string, pvcName: string): this {
    this.object.status.kubernetesStatus = { namespace, pvcName };
    return this;
  }
}

/** Starts a Longhorn Volume (3 replicas, detached). */
export function forLonghornVolume(name: string): LonghornVolumeBuilder {
  return new LonghornVolumeBuilder(name);
}
