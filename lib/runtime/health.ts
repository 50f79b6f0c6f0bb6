import { configWarnings, describeSecretSource, type SkiffConfig } from '../config';
import type { ClusterAuth } from '../config';

export interface HealthReport {
  status: 'ok';
  version: string;
  clusters: { name: string; server: string; auth: string; storageLocations: string[] }[];
  storageLocations: {
    name: string;
    bucket: string;
    prefix: string;
    region: string;
    endpoint: string;
    accessMode: string;
    refreshInterval: string;
  }[];
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
    storageLocations: config.storageLocations.map((l) => ({
      name: l.name,
      bucket: l.bucket,
      prefix: l.prefix ?? '',
      region: l.region,
      endpoint: l.endpoint ?? 'AWS S3',
      accessMode: l.accessMode,
      refreshInterval: l.refreshInterval,
    })),
    defaults: config.defaults,
    warnings: configWarnings(config),
  };
}

function describeAuth(auth: ClusterAuth): string {
  if ('kubeconfig' in auth) return `kubeconfig (${describeSecretSource(auth.kubeconfig)})`;
  if ('token' in auth) return `bearer token (${describeSecretSource(auth.token)})`;
  return `client certificate (${describeSecretSource(auth.clientCertificate.cert)})`;
}
