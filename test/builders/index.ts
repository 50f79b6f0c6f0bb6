export { BackupBuilder, forBackup } from './backup';
export {
  forConfigMap,
  forLonghornVolume,
  forNamespace,
  forPersistentVolume,
  forPersistentVolumeClaim,
  forSecret,
  forStorageClass,
  forVolumeSnapshotClass,
  type ConfigMap,
  type LonghornVolume,
  type Namespace,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Secret,
  type StorageClass,
  type VolumeSnapshotClass,
} from './kube';
export { forVolumeSnapshot, forVolumeSnapshotContent } from './snapshots';
export { lambdaContext } from './lambda';
