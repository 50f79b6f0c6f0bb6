export { BackupBuilder, forBackup } from './backup';
export {
  forNamespace,
  forPersistentVolume,
  forPersistentVolumeClaim,
  forStorageClass,
  forVolumeSnapshotClass,
  type Namespace,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type StorageClass,
  type VolumeSnapshotClass,
} from './kube';
export { forVolumeSnapshot, forVolumeSnapshotContent } from './snapshots';
