import type { SkiffConfig } from '../config';
import { systemClock } from '../core/clock';
import { NotFoundError } from '../core/errors';
import { clusterConnector } from '../kube/connect';
import { storeResolver } from '../store/resolver';
import { readRestoreRecord } from './record';
import type { RestoreRunnerDeps } from './run-restore';

/**
 * Everything a restore run needs, for restore `name`: the store of the location that
 * holds its record, cluster connections, the real clock and the function's deadline.
 */
export async function restoreRunnerDeps(config: SkiffConfig, remainingMs: () => number, name: string): Promise<RestoreRunnerDeps> {
  const storeFor = storeResolver(config);
  for (const location of config.storageLocations) {
    const store = storeFor(location.name);
    if (await readRestoreRecord(store, name)) {
      return { store, connect: clusterConnector(config), clock: systemClock, remainingMs };
    }
  }
  throw new NotFoundError('restore', name, 'no storage location holds its record');
}
