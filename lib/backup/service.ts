import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { ConflictError, NotFoundError, RemoteError, ValidationError } from '../core/errors';
import type { ClusterConfig, SkiffConfig } from '../config';
import type { BackupStore } from '../store/backup-store';
import { storeResolver, type StoreFor } from '../store/resolver';
import { deletingBackupView, readDeletionMarker } from '../store/deletion-marker';
import { readSkippedSlots, type SkippedSlot } from '../store/skipped-slots';
import { backupFromCatalogEntry, readCatalog } from '../store/catalog';
import { BACKUP_PHASES, newBackup, type Backup, type BackupPhase } from '../velero/backup';
import { SCHEDULE_NAME_LABEL, STORAGE_LOCATION_LABEL } from '../velero/labels';
import { defaultBackupName, dns1123LabelIssues, dns1123SubdomainIssues, labelKeyIssues, labelValueIssues } from '../velero/names';
import { logger } from '../core/logger';
import { fieldIssuesFromZod } from '../core/zod-issues';
import { logText } from './backup-log';
import type { BackupProgressRecord } from './progress-record';
import { backupInProgressView } from './progress-view';
import { detailsOfRecord, detailsOfStoredBackup, type DescribedBackup } from './describe';
import { emptyResults } from '../velero/results';
import { API_GROUP_VERSIONS_ANNOTATION, CLUSTER_LABEL } from '../velero/labels';


/** The stores of every configured storage location, by name. */

export interface BackupServiceDeps {
  config: SkiffConfig;
  storeFor: StoreFor;
  now: () => Date;
}

/**
 * A request for a backup: Velero Backup spec fields plus which cluster and, optionally,
 * the backup's name. The spec part is validated by Velero's rules (lib/velero/backup.ts).
 */
const createRequestSchema = z.looseObject({
  cluster: z.string({ error: 'required: the name of a configured cluster' }).min(1),
  name: z.string().optional(),
  /** The Backup object's own labels and annotations (e.g. velero.io/csi-volumesnapshot-class_<driver>). */
  labels: z.record(z.string(), z.string()).superRefine(labelIssues).optional(),
  annotations: z.record(z.string(), z.string()).superRefine(annotationKeyIssues).optional(),
});

/** Labels Skiff sets itself; a request setting them would mislabel the backup (e.g. as a schedule's). */
const RESERVED_LABELS = [CLUSTER_LABEL, SCHEDULE_NAME_LABEL, STORAGE_LOCATION_LABEL];

/**
 * Velero creates a Backup object in a cluster from velero-backup.json when it syncs a
 * storage location; labels the API server would refuse would keep the backup from
 * ever showing up there, so they are refused here, each at its own path.
 */
function labelIssues(labels: Record<string, string>, ctx: z.RefinementCtx): void {
  for (const [key, value] of Object.entries(labels)) {
    if (RESERVED_LABELS.includes(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `label ${JSON.stringify(key)} is set by Skiff; leave it out` });
    }
    for (const message of labelKeyIssues(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `label key ${JSON.stringify(key)}: ${message}` });
    }
    for (const message of labelValueIssues(value)) ctx.addIssue({ code: 'custom', path: [key], message });
  }
}

function annotationKeyIssues(annotations: Record<string, string>, ctx: z.RefinementCtx): void {
  for (const key of Object.keys(annotations)) {
    for (const message of labelKeyIssues(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `annotation key ${JSON.stringify(key)}: ${message}` });
    }
  }
  const versions = annotations[API_GROUP_VERSIONS_ANNOTATION];
  if (versions !== undefined && versions !== 'all' && versions !== 'preferred') {
    ctx.addIssue({
      code: 'custom',
      path: [API_GROUP_VERSIONS_ANNOTATION],
      message: `${JSON.stringify(versions)} is not allowed: "all" (every served API version) or "preferred" (the default)`,
    });
  }
}

export interface CreateBackupOptions {
  /** Set for backups a schedule starts; names the backup after the schedule's slot. */
  schedule?: { name: string; slot: Date };
  labels?: Record<string, string>;
}

export interface CreatedBackup {
  name: string;
  phase: BackupPhase;
  cluster: string;
  storageLocation: string;
}

/**
 * Validates a backup request and records the new backup (phase New) so a runner can
 * take it. 400 for a bad request (every field named), 404 for an unknown cluster,
 * 409 when the name is taken, in progress or finished.
 */
export async function createBackup(
  deps: BackupServiceDeps,
  request: unknown,
  options: CreateBackupOptions = {},
): Promise<CreatedBackup> {
  const fromSchedule = scheduleRequest(deps.config, request, deps.now());
  if (fromSchedule) return createBackup(deps, fromSchedule.request, { ...options, ...fromSchedule.options });
  const parsed = createRequestSchema.safeParse(request);
  if (!parsed.success) throw new ValidationError('backup request', fieldIssuesFromZod(parsed.error));
  const { cluster: clusterName, name: requestedName, labels, annotations, ...spec } = parsed.data;
  const cluster = findCluster(deps.config, clusterName);
  const now = deps.now();
  const name = requestedName ?? defaultBackupName(options.schedule?.name ?? cluster.name, options.schedule?.slot ?? now);
  const nameIssues = dns1123LabelIssues(name);
  if (nameIssues.length > 0) {
    throw new ValidationError('backup request', nameIssues.map((m) => ({ path: 'name', message: `"${name}" ${m}` })));
  }
  const storageLocation = (spec.storageLocation as string | undefined) ?? cluster.storageLocations[0]!;
  if (!cluster.storageLocations.includes(storageLocation)) {
    throw new ValidationError('backup request', [
      {
        path: 'storageLocation',
        message: `cluster "${cluster.name}" does not back up to "${storageLocation}"; allowed: ${cluster.storageLocations.join(', ')}`,
      },
    ]);
  }
  const backup = newBackup({
    name,
    spec: { ...spec, storageLocation },
    labels: { ...labels, ...options.labels, [CLUSTER_LABEL]: cluster.name },
    ...(annotations ? { annotations } : {}),
    ...(options.schedule ? { scheduleName: options.schedule.name } : {}),
    now,
    defaults: {
      ttl: deps.config.defaults.backupTTL,
      csiSnapshotTimeout: deps.config.defaults.csiSnapshotTimeout,
      itemOperationTimeout: '4h0m0s',
      storageLocation,
    },
  });
  backup.status.phase = 'New';
  const store = deps.storeFor(storageLocation);
  if (await store.headObject(store.layout.backupMetadataKey(name))) {
    throw new ConflictError(`backup "${name}" already exists in storage location "${storageLocation}"; choose another name`);
  }
  const record: BackupProgressRecord = { backup, cluster: cluster.name, stage: 'New', attempts: 0, results: emptyResults(), log: [] };
  try {
    // Create-only: of two requests for one name (or one schedule slot fired twice) exactly one wins.
    await store.putProgress(name, record, undefined);
  } catch (error) {
    if (error instanceof ConflictError) {
      throw new ConflictError(`backup "${name}" already exists (it is in progress or was requested already); choose another name`);
    }
    throw error;
  }
  return { name, phase: 'New', cluster: cluster.name, storageLocation };
}

/**
 * A request naming `fromSchedule` (velero backup create --from-schedule): the schedule's
 * template, cluster and TTL, the schedule's labels, and the name `<schedule>-<timestamp>`
 * unless one is given, as Velero's Backup builder FromSchedule makes it. Other fields
 * of the request are ignored, as velero ignores the filter flags then. Undefined for
 * any other request; 404 for a schedule that is not configured.
 */
function scheduleRequest(config: SkiffConfig, request: unknown, now: Date): { request: Record<string, unknown>; options: CreateBackupOptions } | undefined {
  const asked = request as { fromSchedule?: unknown; name?: unknown } | undefined;
  if (typeof asked?.fromSchedule !== 'string') return undefined;
  const schedule = config.schedules.find((s) => s.name === asked.fromSchedule);
  if (!schedule) {
    throw new NotFoundError('schedule', asked.fromSchedule, `configured schedules: ${config.schedules.map((s) => s.name).join(', ') || '(none)'}`);
  }
  const { metadata, ...template } = schedule.template as { metadata?: { labels?: Record<string, string> } };
  return {
    request: { cluster: schedule.cluster, ...template, ...(schedule.ttl ? { ttl: schedule.ttl } : {}), ...(typeof asked.name === 'string' ? { name: asked.name } : {}) },
    options: { schedule: { name: schedule.name, slot: now }, labels: metadata?.labels ?? {} },
  };
}

/** Phases whose backup has a tarball in object storage. */
const PHASES_WITH_DATA: readonly BackupPhase[] = ['Completed', 'PartiallyFailed'];

/**
 * The store holding a backup's tarball, for a caller that reads it itself. 404 for an
 * unknown backup; 409 naming the phase when the backup has no tarball (it runs, Failed,
 * or is being deleted).
 */
export async function downloadableBackup(deps: BackupServiceDeps, name: string): Promise<{ store: BackupStore; phase: BackupPhase }> {
  const backup = await getBackup(deps, name);
  const phase = backup.status.phase ?? 'New';
  if (!PHASES_WITH_DATA.includes(phase)) {
    throw new ConflictError(`backup "${name}" is ${phase}: there is nothing to download (only Completed and PartiallyFailed backups have a tarball)`);
  }
  const found = await findBackup(deps, name);
  return { store: found.store, phase };
}

/**
 * Where to download a backup's tarball: a presigned GET URL valid `expiresInSeconds`,
 * as Velero's DownloadRequest answers one. Errors as downloadableBackup.
 */
export async function backupDownload(deps: BackupServiceDeps, name: string, expiresInSeconds = 600): Promise<{ url: string; phase: BackupPhase }> {
  const { store, phase } = await downloadableBackup(deps, name);
  return { url: await store.backupContentsUrl(name, expiresInSeconds), phase };
}

/**
 * Where a backup was found, and what of it: its progress record while it runs, is
 * paused or after it Failed (a failed backup writes nothing under backups/), else the
 * finished backup's velero-backup.json.
 */
type FoundBackup = { store: BackupStore } & ({ record: BackupProgressRecord } | { finished: Backup });

/**
 * Looks a backup up in every storage location, the progress record before the metadata
 * (a backup being finalized has both for a moment, and its record is the live one). A
 * location that cannot be read does not hide a backup another location holds; when the
 * backup is found nowhere and some location could not be read, that failure is the
 * answer, since "not found" would not be known to be true.
 */
async function findBackup(deps: BackupServiceDeps, name: string): Promise<FoundBackup> {
  const nameIssues = dns1123SubdomainIssues(name);
  if (nameIssues.length > 0) {
    throw new ValidationError('backup name', nameIssues.map((m) => ({ path: 'name', message: `${JSON.stringify(name)} ${m}` })));
  }
  let unreadable: unknown;
  for (const location of deps.config.storageLocations) {
    try {
      const store = deps.storeFor(location.name);
      const progress = await store.getProgress(name);
      if (progress) return { store, record: progress.record as BackupProgressRecord };
      const finished = await store.getBackupMetadata(name);
      if (finished) return { store, finished };
    } catch (error) {
      logger.error('could not look up a backup in a storage location', { backup: name, storageLocation: location.name, error });
      unreadable ??= error;
    }
  }
  if (unreadable !== undefined) throw unreadable;
  throw new NotFoundError('backup', name, 'it is in no configured storage location');
}

/** A backup as it is shown, and where it was found (absent when only its deletion marker is left). */
interface LookedUp {
  backup: Backup;
  found?: FoundBackup;
}

/**
 * A backup as GET /backups/{name} shows it: finished from its metadata, running from its
 * progress (with its stage, see progress-view.ts); one being deleted (it has a deletion
 * marker) in phase Deleting with the reason and what the deletion waits on, also once
 * its own objects are gone.
 */
async function lookUpBackup(deps: BackupServiceDeps, name: string): Promise<LookedUp> {
  let found: FoundBackup;
  try {
    found = await findBackup(deps, name);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    const deleting = await findDeleting(deps, name);
    if (!deleting) throw error;
    return { backup: deleting };
  }
  if ('record' in found) return { backup: backupInProgressView(found.record, deps.now()), found };
  const marker = await readDeletionMarker(found.store, name);
  return { backup: (marker && deletingBackupView(found.finished, marker.marker)) || found.finished, found };
}

/** The Backup object alone (see lookUpBackup); 404 when no location holds it. */
export async function getBackup(deps: BackupServiceDeps, name: string): Promise<Backup> {
  return (await lookUpBackup(deps, name)).backup;
}

/** GET /backups/{name}'s query: `details=true` as `velero backup describe --details`. */
export const describeQuerySchema = z.strictObject({
  details: z.enum(['true', 'false'], { error: 'allowed: true (adds the resource list) or false' }).optional(),
});

/** What describeBackup adds; `details` as `velero backup describe --details`. */
export interface DescribeOptions {
  /** Adds the resource list. */
  details?: boolean;
}

/**
 * The Backup with what `velero backup describe` shows besides (lib/backup/describe.ts):
 * its volumes, each PVC in scope snapshotted, skipped or failed, with the class, handle
 * or reason; the warning and error texts when there are any; with details the resource
 * list. A backup that has not finished is described from its progress record. 404 when
 * no location holds it.
 */
export async function describeBackup(deps: BackupServiceDeps, name: string, options: DescribeOptions = {}): Promise<DescribedBackup> {
  const { backup, found } = await lookUpBackup(deps, name);
  if (!found) return backup;
  const details = options.details === true;
  const more = 'record' in found ? detailsOfRecord(found.record, details) : await detailsOfStoredBackup(found.store, found.finished, details);
  return { ...backup, ...more };
}

/** A backup whose objects are gone but whose deletion is not finished, from its marker. */
async function findDeleting(deps: BackupServiceDeps, name: string): Promise<Backup | undefined> {
  for (const location of deps.config.storageLocations) {
    const marker = await readDeletionMarker(deps.storeFor(location.name), name);
    const view = marker && deletingBackupView(undefined, marker.marker);
    if (view) return view;
  }
  return undefined;
}

/**
 * A backup's log as text, in every phase: the lines of its progress record while it
 * runs, is paused or after it Failed; the stored `<b>-logs.gz` once it finished.
 */
export async function getBackupLog(deps: BackupServiceDeps, name: string): Promise<string> {
  const found = await findBackup(deps, name);
  return 'record' in found ? logText(found.record.log) : storedLogText(found.store, name);
}

/** The text of a finished backup's `<b>-logs.gz`, as Velero and Skiff write it. */
async function storedLogText(store: BackupStore, name: string): Promise<string> {
  const key = store.layout.backupLogKey(name);
  const bytes = await store.getObject(key);
  if (!bytes) throw new NotFoundError('log of backup', name, `the backup in storage location "${store.location}" has no ${key}`);
  try {
    return gunzipSync(bytes).toString('utf8');
  } catch (error) {
    throw new RemoteError(
      `object store location "${store.location}"`,
      `"${key}" is not gzip (${(error as Error).message}); it is damaged or was not written by Velero or Skiff`,
    );
  }
}

export const listFilterSchema = z.strictObject({
  cluster: z.string().min(1).optional(),
  schedule: z.string().min(1).optional(),
  phase: z.enum(BACKUP_PHASES).optional(),
});
export type ListFilter = z.infer<typeof listFilterSchema>;

/** The backups found, and what could not be read (a whole location, or one backup's record). */
export interface BackupList {
  items: Backup[];
  unreadable: { storageLocation: string; backup?: string }[];
  /** With a `schedule` filter: the schedule's slots a readiness check kept from starting, oldest first. */
  skippedSlots?: SkippedSlot[];
}

/**
 * Every backup of every storage location, finished and running, filtered: finished ones
 * from the location's catalog (one GET) and, when rediscovery has not catalogued one
 * yet, from its velero-backup.json. Catalogued ones carry what the catalog keeps
 * (GET /backups/{name} reads the whole backup). A location
 * or a stored record that cannot be read is logged and named in `unreadable`; it does
 * not hide the backups that can be read.
 */
export async function listBackups(deps: BackupServiceDeps, filter: ListFilter = {}): Promise<BackupList> {
  // A misspelt cluster would list nothing and look like "no backups yet".
  if (filter.cluster !== undefined) findCluster(deps.config, filter.cluster);
  const found = new Map<string, Backup>();
  const skipped = new Map<string, SkippedSlot>();
  const unreadable: BackupList['unreadable'] = [];
  const attempt = async <T>(what: { storageLocation: string; backup?: string }, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (error) {
      logger.error('could not read from a storage location while listing backups', { ...what, error });
      unreadable.push(what);
      return undefined;
    }
  };
  for (const location of deps.config.storageLocations) {
    const storageLocation = location.name;
    const listed = await attempt({ storageLocation }, async () => {
      const store = deps.storeFor(storageLocation);
      const [names, running, { catalog }] = await Promise.all([store.listBackupNames(), store.listProgressNames(), readCatalog(store)]);
      return { store, names, running, catalog };
    });
    if (!listed) continue;
    const { store, names, running, catalog } = listed;
    if (filter.schedule) {
      const slots = await attempt({ storageLocation }, () => readSkippedSlots(store, filter.schedule!));
      for (const slot of slots ?? []) if (!skipped.has(slot.backup)) skipped.set(slot.backup, slot);
    }
    // One GET of the catalog for what rediscovery has catalogued; a GET by name only
    // for a backup written since its last run.
    const finished = await Promise.all(
      names.map((n) => {
        const entry = catalog.backups[n];
        return entry ? backupFromCatalogEntry(entry) : attempt({ storageLocation, backup: n }, () => store.getBackupMetadata(n));
      }),
    );
    for (const backup of finished) if (backup && !found.has(backup.metadata.name)) found.set(backup.metadata.name, backup);
    const inProgress = await Promise.all(running.map((n) => attempt({ storageLocation, backup: n }, () => store.getProgress(n))));
    for (const p of inProgress) {
      const backup = p && backupInProgressView(p.record as BackupProgressRecord, deps.now());
      if (backup && !found.has(backup.metadata.name)) found.set(backup.metadata.name, backup);
    }
  }
  const items = [...found.values()]
    .filter((b) => !filter.cluster || b.metadata.labels?.[CLUSTER_LABEL] === filter.cluster)
    .filter((b) => !filter.schedule || b.metadata.labels?.[SCHEDULE_NAME_LABEL] === filter.schedule)
    .filter((b) => !filter.phase || b.status.phase === filter.phase)
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  if (!filter.schedule) return { items, unreadable };
  const skippedSlots = [...skipped.values()].sort((a, b) => (a.slot < b.slot ? -1 : a.slot > b.slot ? 1 : 0));
  return { items, unreadable, skippedSlots };
}

function findCluster(config: SkiffConfig, name: string): ClusterConfig {
  const cluster = config.clusters.find((c) => c.name === name);
  if (!cluster) {
    throw new NotFoundError('cluster', name, `configured clusters: ${config.clusters.map((c) => c.name).join(', ') || '(none)'}`);
  }
  return cluster;
}

/** The service's dependencies for a configured deployment: its stores and the real clock. */
export function backupServiceDeps(config: SkiffConfig): BackupServiceDeps {
  return { config, storeFor: storeResolver(config), now: () => new Date() };
}
