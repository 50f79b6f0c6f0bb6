import { configWarnings, describeSecretSource, storageLocationViews, type ClusterAuth, type ClusterConfig, type SkiffConfig, type StorageLocationConfig, type StorageLocationView } from '../config';
import { systemClock, type Clock } from '../core/clock';
import { checkCluster, type ClusterCheck } from '../kube/cluster-check';
import { connectCluster } from '../kube/connect';
import { checkLocationNow, type LocationCheck } from '../store/location-check';

/**
 * What `GET /status` answers, behind authentication: what this deployment is
 * configured to do and whether each cluster and storage location works now.
 * Credentials are described by where they come from, never by their value.
 */
export interface StatusReport {
  /** `ok` when every cluster and storage location is Available, else `degraded`. */
  status: 'ok' | 'degraded';
  version: string;
  clusters: ClusterStatus[];
  storageLocations: LocationStatus[];
  schedules: ScheduleStatus[];
  defaults: SkiffConfig['defaults'];
  warnings: string[];
}

export type ClusterStatus = { name: string; server: string; auth: string; storageLocations: string[] } & ClusterCheck;
export type LocationStatus = StorageLocationView & LocationCheck;
export interface ScheduleStatus {
  name: string;
  cluster: string;
  schedule: string;
  timeZone: string;
  paused: boolean;
}

/** The live checks, one per cluster and per location; each never throws (see checkCluster, checkLocation). */
export interface StatusChecks {
  cluster: (cluster: ClusterConfig) => Promise<ClusterCheck>;
  location: (location: StorageLocationConfig) => Promise<LocationCheck>;
}

/** Builds the report, running every check at once (each bounded by its own timeout). */
export async function statusReport(config: SkiffConfig, version: string, checks: StatusChecks): Promise<StatusReport> {
  const [clusterChecks, locationChecks] = await Promise.all([
    Promise.all(config.clusters.map((c) => checks.cluster(c))),
    Promise.all(config.storageLocations.map((l) => checks.location(l))),
  ]);
  const clusters = config.clusters.map((c, i) => ({
    name: c.name,
    server: c.server ?? '(from kubeconfig)',
    auth: describeAuth(c.auth),
    storageLocations: c.storageLocations,
    ...clusterChecks[i]!,
  }));
  const views = storageLocationViews(config.storageLocations);
  const storageLocations = views.map((view, i) => ({ ...view, ...locationChecks[i]! }));
  const available = [...clusters, ...storageLocations].every((item) => item.phase === 'Available');
  return {
    status: available ? 'ok' : 'degraded',
    version,
    clusters,
    storageLocations,
    schedules: config.schedules.map((s) => ({ name: s.name, cluster: s.cluster, schedule: s.schedule, timeZone: s.timeZone, paused: s.paused })),
    defaults: config.defaults,
    warnings: configWarnings(config),
  };
}

function describeAuth(auth: ClusterAuth): string {
  if ('kubeconfig' in auth) return `kubeconfig (${describeSecretSource(auth.kubeconfig)})`;
  if ('token' in auth) return `bearer token (${describeSecretSource(auth.token)})`;
  return `client certificate (${describeSecretSource(auth.clientCertificate.cert)})`;
}

/** The real checks: each cluster over its API server, each location with its S3 client of this instance. */
export function liveStatusChecks(clock: Clock = systemClock): StatusChecks {
  return {
    cluster: (cluster) => checkCluster(() => connectCluster(cluster), clock),
    location: (location) => checkLocationNow(location, clock),
  };
}
