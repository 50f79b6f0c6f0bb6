import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SkiffConfig } from '../config';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors';
import { logText } from '../core/job-log';
import { logger } from '../core/logger';
import type { BackupStore } from '../store/backup-store';
import { assertWritable } from '../store/location-check';
import { storeResolver, type StoreFor } from '../store/resolver';
import type { Backup } from '../velero/backup';
import { CLUSTER_LABEL } from '../velero/labels';
import { defaultBackupName, dns1123SubdomainIssues } from '../velero/names';
import { emptyResults, type BackupResults } from '../velero/results';
import { newRestore, RESTORE_PHASES, type Restore, type RestorePhase } from '../velero/restore';
import { readRestoreRecord, writeRestoreRecord, type RestoreRecord } from './record';
import { parseRestoreRequest } from './request';

/**
 * What the restores API does (POST /restores, GET /restores[/{name}[/logs]], direct
 * invocation, the CLI): validate and record a restore for a runner to take; read
 * restores back from their records.
 */

export interface RestoreServiceDeps {
  config: SkiffConfig;
  storeFor: StoreFor;
  now: () => Date;
  /** A fresh uid for each restore (it names the restore's VolumeSnapshots). */
  newUid?: () => string;
}

export interface CreatedRestore {
  name: string;
  phase: RestorePhase;
  backupName: string;
  cluster: string;
  storageLocation: string;
}

/** Backups in these phases can be restored (Velero's restore controller refuses others). */
const RESTORABLE_PHASES = ['Completed', 'PartiallyFailed'];

/**
 * The backup and the store that holds it; 404 when no location has it. A location that
 * cannot be read does not hide the backup in another one: its error is the answer only
 * when no readable location has the backup (then "not found" is unknowable).
 */
async function findBackup(deps: RestoreServiceDeps, name: string): Promise<{ backup: Backup; store: BackupStore }> {
  const issues = dns1123SubdomainIssues(name);
  if (issues.length > 0) throw new ValidationError('restore request', issues.map((m) => ({ path: 'backupName', message: `${JSON.stringify(name)} ${m}` })));
  let unreadable: unknown;
  for (const location of deps.config.storageLocations) {
    const store = deps.storeFor(location.name);
    try {
      const backup = await store.getBackupMetadata(name);
      if (backup) return { backup, store };
    } catch (error) {
      logger.error('could not look up a backup in a storage location', { backup: name, storageLocation: location.name, error });
      unreadable ??= error;
    }
  }
  if (unreadable !== undefined) throw unreadable;
  throw new NotFoundError('backup', name, 'it is in no configured storage location');
}

/** Refuses backups that cannot be restored now: 409 naming the backup and why. */
async function assertRestorable(store: BackupStore, backup: Backup): Promise<void> {
  const name = backup.metadata.name;
  if (!RESTORABLE_PHASES.includes(backup.status.phase ?? '')) {
    throw new ConflictError(`backup "${name}" is ${backup.status.phase}; only Completed or PartiallyFailed backups can be restored`);
  }
  if (await store.headObject(store.layout.deletionMarkerKey(name))) {
    throw new ConflictError(`backup "${name}" is being deleted; it can no longer be restored`);
  }
}

function targetCluster(config: SkiffConfig, requested: string | undefined, backup: Backup): string {
  const name = requested ?? backup.metadata.labels?.[CLUSTER_LABEL];
  const configured = config.clusters.map((c) => c.name);
  if (!name) {
    throw new ValidationError('restore request', [
      { path: 'cluster', message: `required: backup "${backup.metadata.name}" does not say which cluster it was taken of; configured: ${configured.join(', ')}` },
    ]);
  }
  if (!configured.includes(name)) {
    throw new ValidationError('restore request', [{ path: 'cluster', message: `"${name}" is not a configured cluster; configured: ${configured.join(', ') || '(none)'}` }]);
  }
  return name;
}

/**
 * Validates a restore request and records the restore (phase New) next to its backup.
 * 400 for a bad request (every field named), 404 for an unknown backup, 409 for a
 * backup that is not Completed or PartiallyFailed or is being deleted, and for a name
 * already taken.
 */
export async function createRestore(deps: RestoreServiceDeps, input: unknown): Promise<CreatedRestore> {
  const request = parseRestoreRequest(input);
  const { backup, store } = await findBackup(deps, request.spec.backupName);
  await assertRestorable(store, backup);
  // The record is created once and leased with If-Match: a store must honour both.
  await assertWritable(deps.config.storageLocations.find((l) => l.name === store.location)!, { now: deps.now });
  const cluster = targetCluster(deps.config, request.cluster, backup);
  const now = deps.now();
  const name = request.name ?? defaultBackupName(backup.metadata.name, now);
  const record: RestoreRecord = {
    restore: newRestore({ name, uid: (deps.newUid ?? randomUUID)(), spec: request.spec, now, labels: { [CLUSTER_LABEL]: cluster } }),
    cluster,
    storageLocation: store.location,
    ...(request.resourceModifiers ? { resourceModifiers: request.resourceModifiers } : {}),
    acceptRolloutRisk: request.acceptRolloutRisk,
    cursor: { step: 0, item: 0 },
    attempts: 0,
    results: emptyResults(),
    resourceList: {},
    volumeInfos: [],
    log: [],
  };
  try {
    await writeRestoreRecord(store, record, undefined);
  } catch (error) {
    if (error instanceof ConflictError) throw new ConflictError(`restore "${name}" already exists; choose another name`);
    throw error;
  }
  return { name, phase: 'New', backupName: backup.metadata.name, cluster, storageLocation: store.location };
}

/** A restore's record and the location that holds it; 404 when none does. */
export async function findRestore(deps: RestoreServiceDeps, name: string): Promise<{ record: RestoreRecord; store: BackupStore }> {
  const issues = dns1123SubdomainIssues(name);
  if (issues.length > 0) throw new ValidationError('restore name', issues.map((m) => ({ path: 'name', message: `${JSON.stringify(name)} ${m}` })));
  for (const location of deps.config.storageLocations) {
    const store = deps.storeFor(location.name);
    const found = await readRestoreRecord(store, name);
    if (found) return { record: found.record, store };
  }
  throw new NotFoundError('restore', name, 'it is in no configured storage location');
}

/** A restore as GET /restores/{name} shows it: the Restore object, its cluster, and warnings and errors per namespace. */
export interface RestoreView extends Restore {
  cluster: string;
  results: BackupResults;
}

export async function getRestore(deps: RestoreServiceDeps, name: string): Promise<RestoreView> {
  const { record } = await findRestore(deps, name);
  return { ...record.restore, cluster: record.cluster, results: record.results };
}

/** A restore's log (logfmt lines, as `velero restore logs` prints them), in every phase. */
export async function getRestoreLog(deps: RestoreServiceDeps, name: string): Promise<string> {
  return logText((await findRestore(deps, name)).record.log);
}

export const restoreListFilterSchema = z.strictObject({
  backup: z.string().min(1).optional(),
  cluster: z.string().min(1).optional(),
  phase: z.enum(RESTORE_PHASES).optional(),
});
export type RestoreListFilter = z.infer<typeof restoreListFilterSchema>;

/** Every restore of every location (one LIST per location, one GET per restore), filtered. */
export async function listRestores(deps: RestoreServiceDeps, filter: RestoreListFilter = {}): Promise<{ items: Restore[]; unreadable: string[] }> {
  const items: Restore[] = [];
  const unreadable: string[] = [];
  for (const location of deps.config.storageLocations) {
    try {
      const store = deps.storeFor(location.name);
      const records = await Promise.all((await store.listRestoreNames()).map((n) => readRestoreRecord(store, n)));
      for (const found of records) if (found) items.push({ ...found.record.restore });
    } catch (error) {
      logger.error('could not list the restores of a storage location', { storageLocation: location.name, error });
      unreadable.push(location.name);
    }
  }
  return {
    items: items
      .filter((r) => !filter.backup || r.spec.backupName === filter.backup)
      .filter((r) => !filter.cluster || r.metadata.labels?.[CLUSTER_LABEL] === filter.cluster)
      .filter((r) => !filter.phase || r.status.phase === filter.phase)
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1)),
    unreadable,
  };
}

/** The service's dependencies for a configured deployment. */
export function restoreServiceDeps(config: SkiffConfig): RestoreServiceDeps {
  return { config, storeFor: storeResolver(config), now: () => new Date() };
}
