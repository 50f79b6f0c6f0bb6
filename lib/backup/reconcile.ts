import type { SkiffConfig } from '../config';
import type { StartRun } from '../dispatch';
import { logger } from '../logger';
import type { BackupProgressRecord } from './progress-record';
import { storeResolver } from './wiring';

/**
 * Hands every unfinished backup whose lease has run out to a fresh runner: the
 * safety net for an invocation that died (crash, timeout) without handing itself on.
 * Finished and failed records are left alone.
 */
export async function reconcileBackups(config: SkiffConfig, startRun: StartRun, now: Date): Promise<{ restarted: string[] }> {
  const storeFor = storeResolver(config);
  const restarted: string[] = [];
  for (const location of config.storageLocations) {
    if (location.accessMode === 'ReadOnly') continue;
    const store = storeFor(location.name);
    for (const name of await store.listProgressNames()) {
      const progress = await store.getProgress(name);
      const record = progress?.record as BackupProgressRecord | undefined;
      if (!record || record.stage === 'Done' || record.stage === 'Failed') continue;
      if (record.lease && Date.parse(record.lease.until) > now.getTime()) continue;
      await startRun(name);
      restarted.push(name);
    }
  }
  if (restarted.length > 0) logger.info('restarted stalled backups', { backups: restarted });
  return { restarted };
}
