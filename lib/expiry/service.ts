import { systemClock, type Clock } from '../core/clock';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors';
import { logger } from '../core/logger';
import type { SkiffConfig, StorageLocationConfig } from '../config';
import type { KubeClient } from '../kube/client';
import { clusterConnector } from '../kube/connect';
import type { BackupStore } from '../store/backup-store';
import { createDeletionMarker, readDeletionMarker, recordDeletionProgress, type DeletionMarker } from '../store/deletion-marker';
import { assertWritable } from '../store/location-check';
import { storeResolver, type StoreFor } from '../store/resolver';
import { isExpired, type Backup } from '../velero/backup';
import { CLUSTER_LABEL } from '../velero/labels';
import { dns1123SubdomainIssues } from '../velero/names';
import { executeActions, type ActionLogEntry, type ExecuteDeps } from './execute';
import { isReachable, readClusterInventory, type ClusterView } from './inventory';
import { inPhaseOrder, type BackupPlan, type DeletionCandidate, type ExpiryAction, type ExpiryPlan } from './plan';
import { planDeletion } from './plan-deletion';
import { readLocation, summaryOf, type LocationState } from './read-location';
import { EXPIRABLE_PHASES, selectForDeletion, type Verdict } from './select';
import { snapshotUsage } from './usage';

/**
 * The expiry job's service: a run over one storage location (every gcFrequency, or for
 * one backup on request), its dry run, and the request to delete one backup.
 */

export interface ExpiryDeps {
  config: SkiffConfig;
  storeFor: StoreFor;
  /** A client for a configured cluster; a failure makes that cluster unreachable for the run. */
  connect: (cluster: string) => Promise<KubeClient>;
  clock: Clock;
  /** Longest wait for the drivers (temporary contents looked up, contents gone), per wait, in ms. */
  waitTimeoutMs: number;
  /** The invocation's time left; waits end stopMarginMs before it (see execute.ts waitBudgetMs). */
  deadline?: ExecuteDeps['deadline'];
  /** Called after each executed action; what it throws stops the run there (tests stop runs part way with it). */
  afterAction?: ExecuteDeps['afterAction'];
}

export interface ExpiryRequest {
  location: string;
  /** Delete this one backup now (a requested deletion), whatever its TTL and retention. */
  backup?: string;
  /** Plan only: read everything, change nothing, answer the plan. */
  dryRun?: boolean;
}

export interface ExpiryRunResult {
  plan: ExpiryPlan;
  /** The executed actions with their outcomes (real runs). */
  log: ActionLogEntry[];
  /** Backups removed by this run. */
  deleted: string[];
  /** Backups being deleted that this run could not finish; the next run continues. */
  unfinished: string[];
}

/**
 * Runs expiry over one storage location: selects what to delete (select.ts), reads what
 * it needs of those backups and of every configured cluster, plans (plan-deletion.ts),
 * and unless `dryRun` executes the plan and records on each unfinished deletion's marker
 * what it waits on.
 *
 * @throws NotFoundError for an unknown location, or (with `backup`) an unknown backup.
 * @throws ConflictError (with `backup`) for a backup still being written or in a ReadOnly location.
 * @throws the store's error when the location cannot be listed: nothing is deleted then.
 */
export async function runExpiry(deps: ExpiryDeps, request: ExpiryRequest): Promise<ExpiryRunResult> {
  const location = locationConfig(deps.config, request.location);
  if (!request.dryRun) await assertWritable(location, deps.clock);
  const store = deps.storeFor(location.name);
  const now = deps.clock.now();
  const state = await readLocation(store, request.backup);
  const verdicts = request.backup ? [requestedVerdict(state, location, request.backup)] : selectAll(deps.config, location, state, now);
  const candidates = await candidatesFor(store, state, verdicts, now);
  const clients = new Map<string, KubeClient>();
  try {
    const views = candidates.length > 0 ? await readClusters(deps, clients) : [];
    const plan = buildPlan(location.name, now, request.dryRun === true, verdicts, candidates, views, store, state);
    if (request.dryRun) return { plan, log: [], deleted: [], unfinished: unfinishedOf(plan, []) };
    const markers = new Map(candidates.map((c) => [c.backup, markerOf(c, now)]));
    const log = await executeActions(
      {
        store,
        clients,
        clock: deps.clock,
        waitTimeoutMs: deps.waitTimeoutMs,
        ...(deps.deadline ? { deadline: deps.deadline } : {}),
        markerFor: (backup) => markers.get(backup)!.marker,
        ...(deps.afterAction ? { afterAction: deps.afterAction } : {}),
      },
      plan.actions,
    );
    const deleted = plan.backups
      .filter((b) => log.some((e) => e.backup === b.backup && (e.kind === 'deleteDeletionMarker' || e.kind === 'deleteProgressRecord') && e.outcome === 'done'))
      .map((b) => b.backup);
    const unfinished = unfinishedOf(plan, deleted);
    await recordProgress(store, plan, log, unfinished, deps.clock);
    logger.info('expiry run finished', { storageLocation: location.name, deleted: deleted.length, unfinished });
    return { plan, log, deleted, unfinished };
  } finally {
    for (const client of clients.values()) client.close();
  }
}

function locationConfig(config: SkiffConfig, name: string): StorageLocationConfig {
  const location = config.storageLocations.find((l) => l.name === name);
  if (!location) throw new NotFoundError('storage location', name, `configured: ${config.storageLocations.map((l) => l.name).join(', ') || '(none)'}`);
  return location;
}

function selectAll(config: SkiffConfig, location: StorageLocationConfig, state: LocationState, now: Date): Verdict[] {
  const keepLast = new Map(config.schedules.filter((s) => s.keepLast).map((s) => [s.name, s.keepLast!]));
  const verdicts = selectForDeletion({
    backups: state.summaries,
    marked: new Map([...state.markers].map(([name, { marker }]) => [name, { since: marker.since, why: marker.why }])),
    inProgress: state.inProgress,
    progressRecords: state.progressRecords,
    now,
    policy: { keepLast, maxDeletions: config.defaults.maxDeletionsPerRun, readOnly: location.accessMode === 'ReadOnly' },
  });
  for (const [backup, problem] of state.unreadable) {
    if (!state.markers.has(backup)) verdicts.push({ backup, verdict: 'keep', why: `${problem}; it is kept rather than guessed at` });
  }
  return verdicts;
}

/**
 * The verdict on one backup whose deletion is requested (DELETE /backups/{name}, or an
 * invocation naming it): TTL and keepLast do not apply, being asked is the reason.
 */
function requestedVerdict(state: LocationState, location: StorageLocationConfig, backup: string): Verdict {
  const marker = state.markers.get(backup);
  if (marker) return { backup, verdict: 'delete', cause: 'marked', why: `being deleted since ${marker.marker.since}: ${marker.marker.why}` };
  const summary = state.summaries.find((s) => s.name === backup);
  assertDeletable(backup, location, summary?.phase, state.inProgress.has(backup) || !summary);
  return { backup, verdict: 'delete', cause: 'requested', why: 'its deletion was requested' };
}

/**
 * Refuses a requested deletion that must not happen: 404 for a backup the location
 * does not have, 409 while it is being written, 409 from a ReadOnly location.
 */
function assertDeletable(backup: string, location: StorageLocationConfig, phase: string | undefined, missing: boolean): void {
  if (phase === undefined && missing) throw new NotFoundError('backup', backup, `storage location "${location.name}" does not hold it`);
  if (phase === undefined || !EXPIRABLE_PHASES.has(phase)) {
    throw new ConflictError(`backup "${backup}" is in progress (phase ${phase ?? 'New'}); it can be deleted once it finished`);
  }
  if (location.accessMode === 'ReadOnly') {
    throw new ConflictError(
      `backup "${backup}" is in storage location "${location.name}", which is ReadOnly: Skiff never deletes from it; set its accessMode to ReadWrite to allow deletions`,
    );
  }
}

/**
 * What each backup to delete needs besides its verdict: its velero-backup.json (the
 * truth, where the catalog gave the verdict) and its stored CSI list. A backup whose
 * velero-backup.json no longer says it expired (a stale catalog) is kept.
 */
async function candidatesFor(store: BackupStore, state: LocationState, verdicts: Verdict[], now: Date): Promise<DeletionCandidate[]> {
  const candidates: DeletionCandidate[] = [];
  const wanted = verdicts.filter((v): v is Extract<Verdict, { verdict: 'delete' }> => v.verdict === 'delete');
  await Promise.all(
    wanted.map(async (verdict) => {
      const { backup } = verdict;
      if (verdict.cause === 'failedRecord') {
        candidates.push(await failedRecordCandidate(store, verdict, state));
        return;
      }
      const marker = state.markers.get(backup)?.marker;
      const hasData = state.folders.has(backup);
      let stored: Backup | undefined = state.read.get(backup) ?? marker?.storedBackup;
      try {
        if (!stored && hasData) stored = await store.getBackupMetadata(backup);
        if (verdict.cause === 'expired' && stored && !stillExpired(stored, now)) {
          // The verdict in the list changes with it, so the plan says why the backup stays.
          Object.assign(verdict, { verdict: 'keep', why: `the catalog said it expired, but its velero-backup.json says ${summaryOf(stored).expiration ?? 'no expiration'} (phase ${stored.status.phase})` });
          return;
        }
        const storedContents = hasData ? await store.getCsiVolumeSnapshotContents(backup) : [];
        candidates.push(candidate(verdict, marker, stored, hasData, state, storedContents));
      } catch (error) {
        candidates.push({ ...candidate(verdict, marker, stored, hasData, state, []), unreadable: `what is stored of backup ${backup} could not be read: ${(error as Error).message}` });
      }
    }),
  );
  return candidates.sort((a, b) => (a.backup < b.backup ? -1 : 1));
}

/**
 * A failed backup known by its progress record: no velero-backup.json, no catalog entry.
 * Its snapshots, if any are left, are found by their label, and by its CSI list when it
 * failed after uploading that (then its objects under backups/ go too).
 */
async function failedRecordCandidate(store: BackupStore, verdict: Extract<Verdict, { verdict: 'delete' }>, state: LocationState): Promise<DeletionCandidate> {
  const record = state.progressRecords.find((r) => r.name === verdict.backup)!;
  const hasData = state.folders.has(verdict.backup);
  return {
    backup: verdict.backup,
    cause: 'expired',
    why: verdict.why,
    marked: false,
    hasData,
    inCatalog: false,
    storedContents: hasData ? await store.getCsiVolumeSnapshotContents(verdict.backup) : [],
    progressRecord: { resourceListParts: record.resourceListParts },
    ...(record.cluster ? { cluster: record.cluster } : {}),
  };
}

function stillExpired(backup: Backup, now: Date): boolean {
  return EXPIRABLE_PHASES.has(backup.status.phase ?? 'New') && isExpired(backup, now);
}

function candidate(
  verdict: Extract<Verdict, { verdict: 'delete' }>,
  marker: DeletionMarker | undefined,
  stored: Backup | undefined,
  hasData: boolean,
  state: LocationState,
  storedContents: DeletionCandidate['storedContents'],
): DeletionCandidate {
  const cluster = stored?.metadata.labels?.[CLUSTER_LABEL];
  return {
    backup: verdict.backup,
    cause: marker?.cause ?? (verdict.cause === 'requested' ? 'requested' : 'expired'),
    why: marker?.why ?? verdict.why,
    marked: marker !== undefined,
    hasData,
    inCatalog: state.catalog.has(verdict.backup),
    storedContents,
    ...(cluster ? { cluster } : {}),
    ...(stored ? { stored } : {}),
  };
}

/** Every configured cluster's inventory, read in parallel; the clients are kept for the actions. */
async function readClusters(deps: ExpiryDeps, clients: Map<string, KubeClient>): Promise<ClusterView[]> {
  const connect = async (cluster: string) => {
    const client = await deps.connect(cluster);
    clients.set(cluster, client);
    return client;
  };
  const views = await Promise.all(deps.config.clusters.map((c) => readClusterInventory(c.name, connect)));
  for (const view of views) if (!isReachable(view)) logger.warn('expiry: a cluster could not be read', { cluster: view.cluster, problem: view.unreachable });
  return views;
}

function buildPlan(
  location: string,
  now: Date,
  dryRun: boolean,
  verdicts: Verdict[],
  candidates: DeletionCandidate[],
  views: ClusterView[],
  store: BackupStore,
  state: LocationState,
): ExpiryPlan {
  const usage = snapshotUsage(views.filter(isReachable));
  const byBackup = new Map(candidates.map((c) => [c.backup, planDeletion(c, views, usage, store.layout)]));
  const backups: BackupPlan[] = verdicts.map((v) => {
    const planned = byBackup.get(v.backup);
    const record = v.progressRecord ? { progressRecord: true as const } : {};
    if (v.verdict !== 'delete' || !planned) return { backup: v.backup, ...record, verdict: v.verdict === 'delete' ? 'keep' : v.verdict, why: v.why, finishes: false, waitingOn: [] };
    return { backup: v.backup, ...record, verdict: planned.blocked ? 'blocked' : 'delete', why: v.why, finishes: !planned.blocked && planned.waitingOn.length === 0, waitingOn: planned.waitingOn };
  });
  const actions: ExpiryAction[] = inPhaseOrder(candidates.flatMap((c) => byBackup.get(c.backup)!.actions));
  const warnings = [...usage.untraced];
  if (state.unreadable.size > 0) warnings.push(`${state.unreadable.size} backup(s) could not be read and are kept: ${[...state.unreadable.keys()].join(', ')}`);
  return {
    location,
    at: now.toISOString(),
    dryRun,
    backups: backups.sort((a, b) => (a.backup < b.backup ? -1 : 1)),
    actions,
    clusters: views.map((v) => (isReachable(v) ? { cluster: v.cluster, reachable: true } : { cluster: v.cluster, reachable: false, problem: v.unreachable })),
    warnings,
  };
}

function markerOf(candidate: DeletionCandidate, now: Date): { marker: DeletionMarker } {
  return {
    marker: {
      version: 1,
      backup: candidate.backup,
      cause: candidate.cause,
      why: candidate.cause === 'requested' ? 'its deletion was requested' : candidate.why,
      since: now.toISOString(),
      ...(candidate.stored ? { storedBackup: candidate.stored } : {}),
    },
  };
}

function unfinishedOf(plan: ExpiryPlan, deleted: string[]): string[] {
  return plan.backups.filter((b) => (b.verdict === 'delete' || b.verdict === 'blocked') && !deleted.includes(b.backup)).map((b) => b.backup);
}

/**
 * Writes on each unfinished deletion's marker what it waits on (the plan's reasons and
 * the failed actions), so GET /backups/{name} shows it. Best effort: a failure here is
 * logged; the next run finds the same and writes it again.
 */
async function recordProgress(store: BackupStore, plan: ExpiryPlan, log: ActionLogEntry[], unfinished: string[], clock: Clock): Promise<void> {
  for (const backup of unfinished) {
    const planned = plan.backups.find((b) => b.backup === backup)!;
    if (planned.progressRecord) continue; // No marker: the plan and the log say what it waits on.
    const failures = log.filter((e) => e.backup === backup && e.outcome === 'failed').map((e) => `${e.kind} ${e.object}${e.cluster ? ` in cluster ${e.cluster}` : ''} failed: ${e.detail}`);
    try {
      const current = await readDeletionMarker(store, backup);
      if (current) await recordDeletionProgress(store, current, [...planned.waitingOn, ...failures], clock);
    } catch (error) {
      logger.warn('expiry: could not record what a deletion waits on', { backup, storageLocation: store.location, error });
    }
  }
}

/** The state of a backup's deletion, as DELETE /backups/{name} answers it. */
export interface DeletionState {
  backup: string;
  storageLocation: string;
  phase: 'Deleting';
  why: string;
  since: string;
  waitingOn: string[];
  /** False when the backup was being deleted already (the request changed nothing). */
  accepted: boolean;
}

/**
 * Starts deleting one backup: writes its deletion marker (create-only), after which the
 * API shows it as Deleting; the caller starts a run for its location to do the rest.
 * A backup being deleted already answers its current state (`accepted: false`).
 * With `dryRun`, nothing is written and the plan of that run is answered instead.
 *
 * @throws ValidationError for a name that cannot be a backup's; NotFoundError for an
 *   unknown backup; ConflictError while it is being written or from a ReadOnly location.
 */
export async function requestDeletion(
  deps: ExpiryDeps,
  name: string,
  options: { dryRun?: boolean } = {},
): Promise<DeletionState | ExpiryPlan> {
  const issues = dns1123SubdomainIssues(name);
  if (issues.length > 0) throw new ValidationError('backup name', issues.map((m) => ({ path: 'name', message: `${JSON.stringify(name)} ${m}` })));
  const found = await locate(deps, name);
  if ('marker' in found) {
    const { marker } = found;
    return { backup: name, storageLocation: found.location.name, phase: 'Deleting', why: marker.why, since: marker.since, waitingOn: marker.waitingOn ?? [], accepted: false };
  }
  assertDeletable(name, found.location, found.backup.status.phase ?? 'New', false);
  if (options.dryRun) return (await runExpiry(deps, { location: found.location.name, backup: name, dryRun: true })).plan;
  await assertWritable(found.location, deps.clock);
  const now = deps.clock.now();
  const marker: DeletionMarker = { version: 1, backup: name, cause: 'requested', why: 'its deletion was requested', since: now.toISOString(), storedBackup: found.backup };
  const store = deps.storeFor(found.location.name);
  if (!(await createDeletionMarker(store, marker))) {
    const current = await readDeletionMarker(store, name);
    if (current) return { backup: name, storageLocation: found.location.name, phase: 'Deleting', why: current.marker.why, since: current.marker.since, waitingOn: current.marker.waitingOn ?? [], accepted: false };
  }
  logger.info('backup deletion requested', { backup: name, storageLocation: found.location.name });
  return { backup: name, storageLocation: found.location.name, phase: 'Deleting', why: marker.why, since: marker.since, waitingOn: [], accepted: true };
}

type Located = { location: StorageLocationConfig } & ({ marker: DeletionMarker } | { backup: Backup });

/**
 * Finds a backup in the configured locations: its marker first (being deleted), then a
 * progress record (being written: 409), then its velero-backup.json. A location that
 * cannot be read makes "not found" unknowable, so its error is the answer then.
 */
async function locate(deps: ExpiryDeps, name: string): Promise<Located> {
  let unreadable: unknown;
  for (const location of deps.config.storageLocations) {
    try {
      const store = deps.storeFor(location.name);
      const marker = await readDeletionMarker(store, name);
      if (marker) return { location, marker: marker.marker };
      if (await store.getProgress(name)) {
        throw new ConflictError(`backup "${name}" is in progress (it is being written); it can be deleted once it finished`);
      }
      const backup = await store.getBackupMetadata(name);
      if (backup) return { location, backup };
    } catch (error) {
      if (error instanceof ConflictError) throw error;
      logger.error('could not look up a backup in a storage location', { backup: name, storageLocation: location.name, error });
      unreadable ??= error;
    }
  }
  if (unreadable !== undefined) throw unreadable;
  throw new NotFoundError('backup', name, 'it is in no configured storage location');
}

/** Default wait for drivers per wait: long enough for slow storage, well inside a 15-minute invocation. */
export const DEFAULT_WAIT_TIMEOUT_MS = 5 * 60_000;

/** The service's dependencies for a configured deployment. */
export function expiryServiceDeps(config: SkiffConfig): ExpiryDeps {
  return { config, storeFor: storeResolver(config), connect: clusterConnector(config), clock: systemClock, waitTimeoutMs: DEFAULT_WAIT_TIMEOUT_MS };
}
