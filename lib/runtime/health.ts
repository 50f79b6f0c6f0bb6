import { configWarnings, describeSecretSource, storageLocationViews, type SkiffConfig, type StorageLocationView } from '../config';
import type { ClusterAuth } from '../config';

export interface HealthReport {
  status: 'ok';
  version: string;
  clusters: { name: string; server: string; auth: string; storageLocations: string[] }[];
  storageLocations: StorageLocationView[];
  defaults: SkiffConfig['defaults'];
  warnings: string[];
}

/**
 * What this deployment is configured to do, for people checking it. Credentials are
 * described by where they come from, never by their value.
 */
export function healthReport(config: SkiffConfig, version: string): HealthReport {
  return {
    status: 'ok',
    version,
    clusters: config.clusters.map((c) => ({
      name: c.name,
      server: c.server ?? '(from kubeconfig)',
      auth: describeAuth(c.auth),
      storageLocations: c.storageLocations,
    })),
    storageLocations: storageLocationViews(config.storageLocations),
    defaults: config.defaults,
    warnings: configWarnings(config),
  };
}

function describeAuth(auth: ClusterAuth): string {
  if ('kubeconfig' in auth) return `kubeconfig (${describeSecretSource(auth.kubeconfig)})`;
  if ('token' in auth) return `bearer token (${describeSecretSource(auth.token)})`;
  return `client certificate (${describeSecretSource(auth.clientCertificate.cert)})`;
}
