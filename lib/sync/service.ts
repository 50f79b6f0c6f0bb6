import { z } from 'zod';
import { rediscoveryOffWarning, type ClusterConfig, type SkiffConfig, type StorageLocationConfig } from '../config';
import { systemClock, type Clock } from '../core/clock';
import { NotFoundError, ValidationError } from '../core/errors';
import { logger } from '../core/logger';
import { fieldIssuesFromZod } from '../core/zod-issues';
import type { KubeClient } from '../kube/client';
import { clusterConnector } from '../kube/connect';
import type { BackupStore } from '../store/backup-store';
import { catalogContentFor, readCatalog, type Catalog } from '../store/catalog';
import { writeRefusal } from '../store/location-check';
import { storeResolver, type StoreFor } from '../store/resolver';
import { backupLabelValue } from '../velero/labels';
import { emptyClusterResult, syncCluster } from './contents';
import { discoverBackups, type DiscoveryResult } from './discover';
import { readReports, saveReports, type ClusterReport, type LocationReport } from './report';

/**
 * Rediscovery's entry points: a run for one or every (location, cluster) pair, and
 * the stored report. A run first brings the location's catalog up to the bucket
 * (discover.ts), then makes the catalogued snapshots usable in each cluster
 * (contents.ts). Nothing is deleted by sync.
 */

export interface SyncDeps {
  config: SkiffConfig;
  storeFor: StoreFor;
  connect: (cluster: string) => Promise<KubeClient>;
  clock: Clock;
  /** How long a run waits for the contents it made to become ready, ms (default 2 minutes). */
  waitTimeoutMs?: number;
}

/** The body of POST /sync, a direct invocation, and `skiff sync run`. */
export const syncRequestSchema = z.strictObject({
  location: z.string({ error: 'must be the name of a configured storage location' }).min(1, { error: 'must not be empty' }).optional(),
  cluster: z.string({ error: 'must be the name of a configured cluster' }).min(1, { error: 'must not be empty' }).optional(),
  dryRun: z.boolean({ error: 'must be true or false' }).default(false),
});
export type SyncRequest = z.infer<typeof syncRequestSchema>;

/** One (location, cluster) pair a run covers; `clusters` empty: only the catalog. */
export interface SyncTarget {
  location: string;
  clusters: string[];
}

/**
 * Checks a sync request: 400 naming each wrong field, 404 for an unknown location or
 * cluster, 400 for a cluster that does not use the location asked for. Returns the
 * request and the pairs it covers: each location with the clusters that name it.
 */
export function syncTargets(config: SkiffConfig, body: unknown): { request: SyncRequest; targets: SyncTarget[] } {
  const parsed = syncRequestSchema.safeParse(body ?? {});
  if (!parsed.success) throw new ValidationError('sync request', fieldIssuesFromZod(parsed.error));
  const request = parsed.data;
  const configured = (names: string[]) => names.join(', ') || '(none)';
  if (request.location && !config.storageLocations.some((l) => l.name === request.location)) {
    throw new NotFoundError('storage location', request.location, `configured: ${configured(config.storageLocations.map((l) => l.name))}`);
  }
  const cluster = request.cluster ? config.clusters.find((c) => c.name === request.cluster) : undefined;
  if (request.cluster && !cluster) {
    throw new NotFoundError('cluster', request.cluster, `configured: ${configured(config.clusters.map((c) => c.name))}`);
  }
  if (cluster && request.location && !cluster.storageLocations.includes(request.location)) {
    throw new ValidationError('sync request', [
      { path: 'cluster', message: `cluster "${cluster.name}" does not use storage location "${request.location}"; it uses ${cluster.storageLocations.join(', ')}` },
    ]);
  }
  const locations = config.storageLocations.filter((l) => (request.location ? l.name === request.location : !cluster || cluster.storageLocations.includes(l.name)));
  const targets = locations.map((l) => ({
    location: l.name,
    clusters: config.clusters.filter((c) => (cluster ? c === cluster : true) && c.storageLocations.includes(l.name)).map((c) => c.name),
  }));
  return { request, targets };
}

/** What a run did at one location. */
export interface LocationSyncResult {
  location: string;
  dryRun: boolean;
  /** Set when rediscovery is off for the location (refreshInterval 0): runs by hand still work. */
  warning?: string;
  report: LocationReport;
  clusters: ClusterReport[];
}

/** Runs sync for the request's pairs; see syncTargets for the errors of a bad request. */
export async function runSync(deps: SyncDeps, body: unknown): Promise<{ locations: LocationSyncResult[] }> {
  const { request, targets } = syncTargets(deps.config, body);
  const locations: LocationSyncResult[] = [];
  for (const target of targets) locations.push(await syncLocation(deps, target, request.dryRun));
  return { locations };
}

/** One location: discovery, then every cluster at once (one failing cluster fails only itself). */
async function syncLocation(deps: SyncDeps, target: SyncTarget, dryRun: boolean): Promise<LocationSyncResult> {
  const location = deps.config.storageLocations.find((l) => l.name === target.location)!;
  const store = deps.storeFor(location.name);
  const started = deps.clock.now();
  const markers = once(async () => new Set(await store.listDeletionMarkers()));
  const warning = rediscoveryOffWarning(location);
  // The catalog is replaced with If-Match and reports created once: a store must honour both.
  const refusal = !dryRun && location.accessMode !== 'ReadOnly' ? await writeRefusal(location, deps.clock) : undefined;
  if (refusal) {
    logger.error('storage location refused for writing', { storageLocation: location.name, reason: refusal });
    const report = { ...locationReport(location.name, started, deps.clock), found: 0, new: [], gone: [], skipped: [], failed: refusal };
    return { location: location.name, dryRun, ...(warning ? { warning } : {}), report, clusters: [] };
  }
  let discovery: DiscoveryResult;
  try {
    discovery = await discoverBackups({ store, clock: deps.clock, deletionMarkers: markers, writable: location.accessMode !== 'ReadOnly' }, { dryRun });
  } catch (error) {
    logger.error('sync: the storage location could not be read; nothing was changed', { storageLocation: location.name, error });
    const report = { ...locationReport(location.name, started, deps.clock), found: 0, new: [], gone: [], skipped: [], failed: (error as Error).message };
    if (!dryRun && location.accessMode !== 'ReadOnly') await saveReports(store, report, []);
    return { location: location.name, dryRun, ...(warning ? { warning } : {}), report, clusters: [] };
  }
  const knownElsewhere = once(() => backupsKnownElsewhere(deps, store));
  const clusters = await Promise.all(
    target.clusters.map((name) => syncOneCluster(deps, store, discovery.catalog, name, { dryRun, markers, knownElsewhere })),
  );
  const { catalog: _catalog, location: _location, ...found } = discovery;
  const report: LocationReport = { ...locationReport(location.name, started, deps.clock), ...found };
  if (!dryRun && location.accessMode !== 'ReadOnly') await saveReports(store, report, clusters);
  logger.info('sync run ended', {
    storageLocation: location.name,
    dryRun,
    found: report.found,
    new: report.new.length,
    gone: report.gone.length,
    skipped: report.skipped.length,
    clusters: clusters.map((c) => ({ cluster: c.cluster, created: c.created.length, waiting: c.waiting, repairs: c.repairs.length, failed: c.failed })),
  });
  return { location: location.name, dryRun, ...(warning ? { warning } : {}), report, clusters };
}

function locationReport(location: string, started: Date, clock: Clock) {
  return { location, lastRun: started.toISOString(), durationMs: clock.now().getTime() - started.getTime() };
}

async function syncOneCluster(
  deps: SyncDeps,
  store: BackupStore,
  catalog: Catalog,
  name: string,
  shared: { dryRun: boolean; markers: () => Promise<ReadonlySet<string>>; knownElsewhere: () => Promise<ReadonlySet<string>> },
): Promise<ClusterReport> {
  const cluster = deps.config.clusters.find((c) => c.name === name) as ClusterConfig;
  const started = deps.clock.now();
  let client: KubeClient | undefined;
  try {
    client = await deps.connect(name);
    const result = await syncCluster(
      {
        client,
        clock: deps.clock,
        location: store.location,
        storedContents: async (backup) => (await store.getCsiVolumeSnapshotContents(backup)).map(catalogContentFor),
        deletionMarkers: shared.markers,
        knownElsewhere: shared.knownElsewhere,
      },
      name,
      Object.values(catalog.backups),
      { ...cluster.sync, dryRun: shared.dryRun, waitTimeoutMs: deps.waitTimeoutMs ?? 120_000 },
    );
    return { ...result, ...locationReport(store.location, started, deps.clock) };
  } catch (error) {
    logger.error('sync: the cluster could not be synced', { cluster: name, storageLocation: store.location, error });
    return {
      ...emptyClusterResult(name, cluster.sync.mode),
      failed: (error as Error).message,
      ...locationReport(store.location, started, deps.clock),
    };
  } finally {
    client?.close();
  }
}

/**
 * Label values of backups this location's catalog does not hold but that exist: in the
 * other configured locations' catalogs, or still being written here (their contents
 * are labelled before their velero-backup.json exists). A location that cannot be read
 * counts as knowing nothing, so its backups' contents may be reported as orphans: the
 * report says so, and nothing is deleted either way.
 */
async function backupsKnownElsewhere(deps: SyncDeps, here: BackupStore): Promise<ReadonlySet<string>> {
  const known = new Set<string>();
  const add = (names: Iterable<string>) => {
    for (const name of names) known.add(backupLabelValue(name));
  };
  await Promise.all(
    deps.config.storageLocations.map(async (location: StorageLocationConfig) => {
      try {
        const store = location.name === here.location ? here : deps.storeFor(location.name);
        add(await store.listProgressNames());
        if (store !== here) add(Object.keys((await readCatalog(store)).catalog.backups));
      } catch (error) {
        logger.warn('sync: could not read a storage location while looking for orphaned contents', { storageLocation: location.name, error });
      }
    }),
  );
  return known;
}

/** Calls `load` at most once, on first use. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= load());
}

/** The stored reports of each location (or of one), with the live rediscovery warning. */
export async function getSyncReport(deps: Pick<SyncDeps, 'config' | 'storeFor'>, locationName?: string) {
  if (locationName && !deps.config.storageLocations.some((l) => l.name === locationName)) {
    throw new NotFoundError('storage location', locationName, `configured: ${deps.config.storageLocations.map((l) => l.name).join(', ') || '(none)'}`);
  }
  const locations = deps.config.storageLocations.filter((l) => !locationName || l.name === locationName);
  return {
    locations: await Promise.all(
      locations.map(async (location) => {
        const warning = rediscoveryOffWarning(location);
        const stored = await readReports(deps.storeFor(location.name));
        return {
          location: location.name,
          refreshInterval: location.refreshInterval,
          rediscovery: warning ? ('off' as const) : ('on' as const),
          ...(warning ? { warning } : {}),
          lastRun: stored.location ?? null,
          clusters: stored.clusters,
        };
      }),
    ),
  };
}

/** The service's dependencies for a configured deployment. */
export function syncDeps(config: SkiffConfig): SyncDeps {
  return { config, storeFor: storeResolver(config), connect: clusterConnector(config), clock: systemClock };
}
