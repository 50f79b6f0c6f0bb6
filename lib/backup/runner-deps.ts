import type { SkiffConfig } from '../config';
import { NotFoundError } from '../core/errors';
import { DEFAULT_PART_SIZE } from '../archive/tar-parts';
import type { BackupRunnerDeps } from './run-backup';
import { createPartWriter } from './part-writer';
import { takeSnapshotsForBackup } from './snapshot-stage';
import { clusterConnector } from '../kube/connect';
import { storeResolver } from '../store/resolver';
import { writeRefusal } from '../store/location-check';
import { systemClock } from '../core/clock';

/**
 * Everything a backup run needs, for the backup `name`: the store of the location that
 * holds its progress record and whether it may be written (writeRefusal), cluster
 * connections, the snapshot stage and the tarball writer, and the function's clock and
 * deadline.
 */
export async function backupRunnerDeps(config: SkiffConfig, remainingMs: () => number, name: string): Promise<BackupRunnerDeps> {
  const storeFor = storeResolver(config);
  let unreadable: unknown;
  for (const location of config.storageLocations) {
    if (location.accessMode === 'ReadOnly') continue;
    const store = storeFor(location.name);
    // A location that cannot be read must not stop the run of a backup that lives in another one.
    const found = await store.getProgress(name).catch((error: unknown) => {
      unreadable ??= error;
      return undefined;
    });
    if (found) {
      return {
        store,
        connect: clusterConnector(config),
        takeSnapshots: takeSnapshotsForBackup,
        createWriter: (onPart) => createPartWriter(onPart),
        now: () => new Date(),
        remainingMs,
        partSize: DEFAULT_PART_SIZE,
        enableAPIGroupVersions: config.features.enableAPIGroupVersions,
        writeRefusal: () => writeRefusal(location, systemClock),
      };
    }
  }
  // Not found where it could be looked for: the unreadable location may hold it.
  if (unreadable) throw unreadable;
  throw new NotFoundError('backup in progress', name, 'no writable storage location holds it');
}
