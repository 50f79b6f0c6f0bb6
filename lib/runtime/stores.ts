import type { SkiffConfig } from '../config';
import { createBackupStore, type BackupStore } from '../store/backup-store';
import { createS3Client } from '../store/s3-client';
import { NotFoundError } from '../core/errors';
import type { BackupServiceDeps } from '../backup/service';

/**
 * The stores of the configured locations, built on first use and kept for the life
 * of the function instance (one S3 client and connection pool each).
 */
export function storeResolver(config: SkiffConfig): (location: string) => BackupStore {
  const stores = new Map<string, BackupStore>();
  return (name) => {
    let store = stores.get(name);
    if (!store) {
      const location = config.storageLocations.find((l) => l.name === name);
      if (!location) throw new NotFoundError('storage location', name, `configured: ${config.storageLocations.map((l) => l.name).join(', ') || '(none)'}`);
      store = createBackupStore(createS3Client(location).s3, location);
      stores.set(name, store);
    }
    return store;
  };
}

export function backupServiceDeps(config: SkiffConfig): BackupServiceDeps {
  return { config, storeFor: storeResolver(config), now: () => new Date() };
}
