import type { SkiffConfig } from './schema';
import { durationMs } from './duration-field';

/**
 * Things that are allowed but probably not what the operator wants. They are
 * returned by /healthz and logged at cold start, so nobody loses rediscovery or
 * backups silently (Harvester's refresh interval defaulting to "never" is the
 * cautionary tale).
 */
export function configWarnings(config: SkiffConfig): string[] {
  const warnings: string[] = [];
  if (config.clusters.length === 0) warnings.push('no clusters are configured: there is nothing to back up');
  if (config.storageLocations.length === 0) warnings.push('no storage locations are configured: backups have nowhere to go');

  const readOnly = new Set(config.storageLocations.filter((l) => l.accessMode === 'ReadOnly').map((l) => l.name));
  for (const location of config.storageLocations) {
    if (durationMs(location.refreshInterval) === 0) {
      warnings.push(
        `rediscovery is OFF for storage location "${location.name}" (refreshInterval 0): backups stored there by other clusters or deployments will not appear in any cluster until it is set, e.g. to 1m`,
      );
    }
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
  return warnings;
}
