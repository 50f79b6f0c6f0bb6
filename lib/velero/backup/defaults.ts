/** Values Velero's server fills in when a spec leaves them empty (or zero). */
export interface BackupDefaults {
  ttl: string;
  csiSnapshotTimeout: string;
  itemOperationTimeout: string;
  storageLocation: string;
}

/** Velero's own server defaults (`velero server --help`). */
export const VELERO_DEFAULTS: Readonly<BackupDefaults> = {
  ttl: '720h0m0s',
  csiSnapshotTimeout: '10m0s',
  itemOperationTimeout: '4h0m0s',
  storageLocation: 'default',
};
