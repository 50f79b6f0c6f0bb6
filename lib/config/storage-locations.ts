import type { StorageLocationConfig } from './schema';
import { rediscoveryOffWarning } from './warnings';

/** A storage location as GET /storage-locations shows it: never its credentials. */
export interface StorageLocationView {
  name: string;
  bucket: string;
  prefix: string;
  region: string;
  /** The S3-compatible endpoint, or "AWS S3". */
  endpoint: string;
  accessMode: string;
  /** Rediscovery's period, as configured (`0` turns it off). */
  refreshInterval: string;
  rediscovery: 'on' | 'off';
  /** Set when rediscovery is off: what is lost (backups there never found after a disaster). */
  warning?: string;
}

/**
 * The configured storage locations as an operator checks them, like Velero's
 * `velero backup-location get`; a location whose rediscovery is off says so and what it
 * costs, never silently (Harvester #7976).
 */
export function storageLocationViews(locations: readonly StorageLocationConfig[]): StorageLocationView[] {
  return locations.map((location) => {
    const warning = rediscoveryOffWarning(location);
    return {
      name: location.name,
      bucket: location.bucket,
      prefix: location.prefix ?? '',
      region: location.region,
      endpoint: location.endpoint ?? 'AWS S3',
      accessMode: location.accessMode,
      refreshInterval: location.refreshInterval,
      rediscovery: warning ? 'off' : 'on',
      ...(warning ? { warning } : {}),
    };
  });
}
