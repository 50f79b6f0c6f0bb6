import type { SkiffConfig } from '../config';
import { createBackupStore, type BackupStore } from './backup-store';
import { createS3Client } from './s3-client';
import { NotFoundError } from '../core/errors';

/** The store of a configured location, by name; NotFoundError for an unknown one. */
export type StoreFor = (location: string) => BackupStore;

/**
 * The stores of the configured locations, built on first use and kept for the life
 * of the function instance (one S3 client and connection pool each).
 */
export function storeResolver(config: SkiffConfig): StoreFor {
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
