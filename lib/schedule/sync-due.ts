import type { SkiffConfig } from '../config';
import { durationMs } from '../config';

/**
 * Which rediscovery runs the one-minute scheduler starts. Stateless, like the
 * schedules' slots: a location is due when a multiple of its refreshInterval (counted
 * from the Unix epoch) fell within the last tick, so every tick of every instance
 * agrees, and an interval under a minute runs at every tick. refreshInterval 0 is off.
 */

/** One asynchronous sync invocation: a location and one cluster that uses it. */
export interface SyncStart {
  location: string;
  cluster: string;
}

/** Whether a run with `intervalMs` is due at the tick `now` (ticks `tickMs` apart). */
export function isSyncDue(intervalMs: number, now: Date, tickMs = 60_000): boolean {
  if (intervalMs <= 0) return false;
  if (intervalMs <= tickMs) return true;
  const t = now.getTime();
  return Math.floor(t / intervalMs) !== Math.floor((t - tickMs) / intervalMs);
}

/** The (location, cluster) pairs due at `now`: one invocation each, so clusters never wait on each other. */
export function dueSyncs(config: Pick<SkiffConfig, 'storageLocations' | 'clusters'>, now: Date, tickMs = 60_000): SyncStart[] {
  return config.storageLocations
    .filter((location) => isSyncDue(durationMs(location.refreshInterval), now, tickMs))
    .flatMap((location) =>
      config.clusters.filter((c) => c.storageLocations.includes(location.name)).map((c) => ({ location: location.name, cluster: c.name })),
    );
}
