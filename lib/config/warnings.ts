import type { SkiffConfig, StorageLocationConfig } from './schema';
import { durationMs } from './duration-field';
import { neverFires, tryParseCron } from '../schedule/cron';

/**
 * The warning for a location whose rediscovery is turned off (refreshInterval 0), with
 * what is lost; undefined when it is on. Said at cold start, by /status, by the
 * scheduler and in every sync report (Harvester #7976: users lost it silently).
 */
export function rediscoveryOffWarning(location: Pick<StorageLocationConfig, 'name' | 'refreshInterval'>): string | undefined {
  if (durationMs(location.refreshInterval) !== 0) return undefined;
  return (
    `rediscovery is OFF for storage location "${location.name}" (refreshInterval 0): backups stored there by other clusters ` +
    'or deployments never appear in any cluster, and after a disaster the backups on it are not found again and their ' +
    'snapshots are not made usable; set it, e.g. to 1m, or run a sync by hand (POST /sync, skiff sync run)'
  );
}

/**
 * Things that are allowed but probably not what the operator wants. They are
 * returned by /status and logged at cold start, so nobody loses rediscovery or
 * backups silently (Harvester's refresh interval defaulting to "never" is the
 * cautionary tale).
 */
export function configWarnings(config: SkiffConfig): string[] {
  const warnings: string[] = [];
  if (config.clusters.length === 0) warnings.push('no clusters are configured: there is nothing to back up');
  if (config.storageLocations.length === 0) warnings.push('no storage locations are configured: backups have nowhere to go');
  if (config.api.bearerTokens.length === 0 && !config.api.hmacSecret) {
    warnings.push('no API credentials are configured (api.bearerTokens, api.hmacSecret): every HTTP call except /healthz is refused');
  }

  const readOnly = new Set(config.storageLocations.filter((l) => l.accessMode === 'ReadOnly').map((l) => l.name));
  for (const location of config.storageLocations) {
    const off = rediscoveryOffWarning(location);
    if (off) warnings.push(off);
    if (location.endpoint?.startsWith('http://')) {
      warnings.push(`storage location "${location.name}" uses plain http: object-store credentials travel unencrypted`);
    }
  }
  for (const cluster of config.clusters) {
    const [primary] = cluster.storageLocations;
    if (primary && readOnly.has(primary)) {
      warnings.push(`cluster "${cluster.name}" backs up to "${primary}", which is ReadOnly: its backups will fail`);
    }
    if (cluster.insecureSkipTLSVerify) {
      warnings.push(`cluster "${cluster.name}" skips TLS verification of its API server`);
    }
  }
  for (const schedule of config.schedules) {
    if (schedule.paused) warnings.push(`schedule "${schedule.name}" is paused: it starts no backups`);
    const location =
      schedule.template.storageLocation || config.clusters.find((c) => c.name === schedule.cluster)?.storageLocations[0];
    if (location && readOnly.has(location)) {
      warnings.push(`schedule "${schedule.name}" backs up to "${location}", which is ReadOnly: every backup it starts will fail`);
    }
    const parsed = tryParseCron(schedule.schedule, schedule.timeZone);
    if (parsed.ok && neverFires(parsed.schedule)) {
      warnings.push(`schedule "${schedule.name}" ("${schedule.schedule}") never fires: none of its months has any of its days`);
    }
  }
  return warnings;
}
