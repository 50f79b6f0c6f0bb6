import type { Clock } from '../core/clock';
import { logger } from '../core/logger';
import { staticContentFor, staticVolumeSnapshotFor } from '../csi/builders';
import { deleteContentPatch } from '../csi/deletion-policy';
import { beingDeletedPatch } from '../csi/stalled-deletion';
import { volumeSnapshotContentPath, volumeSnapshotPath, volumeSnapshotsPath, SNAPSHOT_API_VERSION, type VolumeSnapshot, type VolumeSnapshotContent } from '../csi/snapshot-api';
import { watchByList } from '../csi/watch';
import type { KubeClient } from '../kube/client';
import { isAlreadyExists, isNotFound } from '../kube/errors';
import { listAll } from '../kube/list-all';
import type { BackupStore } from '../store/backup-store';
import { updateCatalog } from '../store/catalog';
import { createDeletionMarker, type DeletionMarker } from '../store/deletion-marker';
import { backupLabelValue, BACKUP_NAME_LABEL, TEMPORARY_CONTENT_LABEL } from '../velero/labels';
import { listContents } from './inventory';
import type { ExpiryAction } from './plan';
import { TEMPORARY_SNAPSHOT_NAMESPACE } from './plan-deletion';
import { readyToDelete } from './ready-to-delete';

/**
 * Carries out a plan's actions in their order (plan.ts ACTION_PHASES), one by one, and
 * logs each with its backup, cluster, object and outcome. A failed action stops the
 * rest of its backup's actions for this run (they are logged as skipped), never the
 * other backups'; the backup stays Deleting and the next run plans it again from what
 * is left. Waits are bounded and share one LIST per look per cluster.
 */

export type ActionOutcome = 'done' | 'failed' | 'skipped';

/** One line of a run's action log: the planned action and what became of it. */
export type ActionLogEntry = ExpiryAction & { outcome: ActionOutcome; detail?: string };

export interface ExecuteDeps {
  store: BackupStore;
  /** Clients of the clusters the plan acts in (connected while reading them). */
  clients: ReadonlyMap<string, KubeClient>;
  clock: Clock;
  /** How long to wait, per wait, for the driver (a temporary content looked up, contents gone), in ms. */
  waitTimeoutMs: number;
  /**
   * Milliseconds left before the function is stopped, and how long before that the
   * waits end (ms), so the run still records what it waits on; no limit when absent.
   */
  deadline?: { remainingMs: () => number; stopMarginMs: number };
  /** The marker a writeDeletionMarker action writes for a backup. */
  markerFor: (backup: string, cause: DeletionMarker['cause']) => DeletionMarker;
  /**
   * Called after each action with its log entry. Whatever it throws stops the run
   * there, as a crash would (tests stop runs part way with it).
   */
  afterAction?: (entry: ActionLogEntry) => void | Promise<void>;
}

type Group = { kind: ExpiryAction['kind']; actions: ExpiryAction[] };

/** Executes the actions; returns the log, one entry per action, in order. */
export async function executeActions(deps: ExecuteDeps, actions: readonly ExpiryAction[]): Promise<ActionLogEntry[]> {
  const log: ActionLogEntry[] = [];
  const failed = new Map<string, string>();
  const record = async (action: ExpiryAction, outcome: ActionOutcome, detail?: string) => {
    const entry: ActionLogEntry = { ...action, outcome, ...(detail ? { detail } : {}) };
    log.push(entry);
    if (outcome === 'failed') failed.set(action.backup, `${action.kind} ${action.object}: ${detail}`);
    const fields = { backup: action.backup, cluster: action.cluster, object: action.object, action: action.kind, outcome, detail };
    if (outcome === 'done') logger.info('expiry action', fields);
    else logger.warn('expiry action', fields);
    await deps.afterAction?.(entry);
  };
  for (const group of groups(actions)) {
    const runnable: ExpiryAction[] = [];
    for (const action of group.actions) {
      const stop = failed.get(action.backup);
      if (stop) await record(action, 'skipped', `an earlier step of this backup failed (${stop}); the next run continues`);
      else runnable.push(action);
    }
    if (runnable.length === 0) continue;
    for (const [action, result] of await runGroup(deps, group.kind, runnable)) {
      await record(action, result.ok ? 'done' : 'failed', result.detail);
    }
  }
  return log;
}

/** Consecutive actions of one kind: each phase is one group, so waits and catalog updates are shared. */
function groups(actions: readonly ExpiryAction[]): Group[] {
  const out: Group[] = [];
  for (const action of actions) {
    const last = out[out.length - 1];
    if (last && last.kind === action.kind) last.actions.push(action);
    else out.push({ kind: action.kind, actions: [action] });
  }
  return out;
}

type Result = { ok: boolean; detail?: string };

/**
 * How long the next wait may last, in ms: waitTimeoutMs, or less when the function's
 * time runs out first (stopMarginMs before it); 0 leaves one look. What a shortened wait
 * leaves is left for the next run, as after any wait that ran out.
 */
export function waitBudgetMs(deps: Pick<ExecuteDeps, 'waitTimeoutMs' | 'deadline'>): number {
  if (!deps.deadline) return deps.waitTimeoutMs;
  return Math.max(0, Math.min(deps.waitTimeoutMs, deps.deadline.remainingMs() - deps.deadline.stopMarginMs));
}

async function runGroup(deps: ExecuteDeps, kind: ExpiryAction['kind'], actions: ExpiryAction[]): Promise<[ExpiryAction, Result][]> {
  switch (kind) {
    case 'createTemporaryContent':
      return createTemporaryContents(deps, actions);
    case 'waitUntilContentGone':
      return waitUntilGone(deps, actions);
    case 'deleteVolumeSnapshot':
    case 'deleteContent':
      return deleteHeldContents(deps, actions);
    case 'removeCatalogEntry':
      return batch(actions, async () => {
        const names = new Set(actions.map((a) => a.backup));
        await updateCatalog(deps.store, (catalog) => names.forEach((name) => delete catalog.backups[name]), deps.clock);
      });
    case 'deleteDeletionMarker':
      return batch(actions, () => deps.store.deleteDeletionMarkers(actions.map((a) => a.backup)));
    default: {
      const results: [ExpiryAction, Result][] = [];
      for (const action of actions) results.push([action, await attempt(() => runOne(deps, action))]);
      return results;
    }
  }
}

/** One action of the kinds that act alone; answers a detail worth logging, if any. */
async function runOne(deps: ExecuteDeps, action: ExpiryAction): Promise<string | undefined> {
  switch (action.kind) {
    case 'writeDeletionMarker':
      // Create-only: when another run (or DELETE /backups/{name}) marked it first, the deletion is the same.
      return (await createDeletionMarker(deps.store, deps.markerFor(action.backup, action.cause))) ? undefined : 'already marked';
    case 'setDeletionPolicyDelete':
      return gone404(() => client(deps, action.cluster).patch(volumeSnapshotContentPath(action.content), deleteContentPatch(), 'merge'));
    case 'deleteVolumeSnapshot':
      return gone404(() => client(deps, action.cluster).delete(volumeSnapshotPath(action.namespace, action.name)));
    case 'deleteContent':
      return gone404(() => client(deps, action.cluster).delete(volumeSnapshotContentPath(action.content)));
    case 'setBeingDeletedAnnotation':
      return gone404(() => client(deps, action.cluster).patch(volumeSnapshotContentPath(action.content), beingDeletedPatch(), 'merge'));
    case 'claimContent': {
      if (action.repointFrom) {
        // The ref's uid names a VolumeSnapshot that is gone (or its namespace is gone); the
        // snapshot-controller binds only a ref without a uid, or with the claiming one's.
        const repoint = { spec: { volumeSnapshotRef: { namespace: action.namespace, name: action.name, uid: null, resourceVersion: null } } };
        if ((await gone404(() => client(deps, action.cluster).patch(volumeSnapshotContentPath(action.content), repoint, 'merge'))) !== undefined) return 'already gone';
      }
      const body = staticVolumeSnapshotFor({
        namespace: action.namespace,
        name: action.name,
        contentName: action.content,
        labels: { [BACKUP_NAME_LABEL]: backupLabelValue(action.backup) },
      });
      try {
        await client(deps, action.cluster).create(`/apis/${SNAPSHOT_API_VERSION}/namespaces/${action.namespace}/volumesnapshots`, body);
        return undefined;
      } catch (error) {
        // Made by an earlier run that stopped; if it claims another content, the snapshot-controller will not bind it and the wait says so.
        if (isAlreadyExists(error)) return 'already there';
        throw error;
      }
    }
    case 'deleteBackupData': {
      const keys = await deps.store.deleteBackup(action.backup);
      return `${keys} object(s) deleted`;
    }
    case 'deleteProgressRecord':
      // The parts first, the record last, in one DeleteObjects when there are parts.
      await deps.store.deleteProgress(action.backup, action.resourceListParts);
      return undefined;
    default:
      throw new Error(`${action.kind} is not an action that runs alone`);
  }
}

async function gone404(request: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await request();
    return undefined;
  } catch (error) {
    if (isNotFound(error)) return 'already gone';
    throw error;
  }
}

async function attempt(work: () => Promise<string | undefined>): Promise<Result> {
  try {
    const detail = await work();
    return { ok: true, ...(detail ? { detail } : {}) };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  }
}

async function batch(actions: ExpiryAction[], work: () => Promise<unknown>): Promise<[ExpiryAction, Result][]> {
  const result = await attempt(async () => {
    await work();
    return undefined;
  });
  return actions.map((action) => [action, result]);
}

function client(deps: ExecuteDeps, cluster: string | undefined): KubeClient {
  const found = cluster ? deps.clients.get(cluster) : undefined;
  if (!found) throw new Error(`no connection to cluster "${cluster}" in this run`);
  return found;
}

/**
 * Creates the temporary contents, then waits (one LIST per look per cluster) until the
 * driver has looked each up: a content deleted before its status names the snapshot is
 * let go without the driver being asked to delete anything (the CSI sidecar deletes
 * only what `status.snapshotHandle` names). Velero sleeps 2 s instead and hopes.
 */
async function createTemporaryContents(deps: ExecuteDeps, actions: ExpiryAction[]): Promise<[ExpiryAction, Result][]> {
  const results = new Map<ExpiryAction, Result>();
  const created: Extract<ExpiryAction, { kind: 'createTemporaryContent' }>[] = [];
  for (const action of actions) {
    if (action.kind !== 'createTemporaryContent') continue;
    const body = staticContentFor({
      name: action.content,
      driver: action.driver,
      snapshotHandle: action.handle,
      deletionPolicy: 'Delete',
      // The VolumeSnapshot that claims it next (claimContent), in a namespace every cluster has.
      volumeSnapshotRef: { namespace: TEMPORARY_SNAPSHOT_NAMESPACE, name: action.content },
      labels: { [BACKUP_NAME_LABEL]: backupLabelValue(action.backup), [TEMPORARY_CONTENT_LABEL]: 'true' },
    });
    const result = await attempt(async () => {
      try {
        await client(deps, action.cluster).create(`/apis/${SNAPSHOT_API_VERSION}/volumesnapshotcontents`, body);
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
      return undefined;
    });
    results.set(action, result);
    if (result.ok) created.push(action);
  }
  for (const [cluster, waiting] of byCluster(created)) {
    const timeoutMs = waitBudgetMs(deps);
    const { settled } = await watchByList<VolumeSnapshotContent, string>({
      list: () => listContents(client(deps, cluster)),
      keys: waiting.map((a) => a.content),
      keyOf: (c) => c.metadata.name,
      settle: (_, c) => {
        if (!c) return 'gone before the driver looked it up';
        if (c.status?.snapshotHandle) return 'the driver found the snapshot';
        if (c.status?.error) return `the driver did not find the snapshot (${c.status.error.message ?? 'no message'}); nothing is left to free`;
        return undefined;
      },
      clock: deps.clock,
      timeoutMs,
      what: `temporary VolumeSnapshotContents in cluster ${cluster}`,
    });
    for (const action of waiting) {
      const verdict = settled.get(action.content);
      results.set(
        action,
        verdict
          ? { ok: true, detail: verdict }
          : { ok: false, detail: `driver ${action.driver} did not look it up within ${Math.round(timeoutMs / 1000)}s; it is left for the next run` },
      );
    }
  }
  return actions.map((action) => [action, results.get(action)!]);
}

/**
 * Deletes what frees each content's snapshot (its VolumeSnapshot, or the content) once
 * the snapshot-controller holds the content with its finalizer, looked for with one LIST
 * per look per cluster. Without it the content would go at once and the driver would
 * never be asked to delete the snapshot: right after a content is created, or flipped
 * to Delete, the controller may not have got to it yet (Velero sleeps 2 s before deleting
 * its temporary content for the same race). A content with no snapshot handle has
 * nothing for the driver to delete and goes as it is.
 */
async function deleteHeldContents(deps: ExecuteDeps, actions: ExpiryAction[]): Promise<[ExpiryAction, Result][]> {
  const results = new Map<ExpiryAction, Result>();
  for (const [cluster, waiting] of byCluster(actions)) {
    const kube = client(deps, cluster);
    const names = [...new Set(waiting.map((a) => (a as { content: string }).content))];
    // The VolumeSnapshot each content is freed through, looked at with the contents.
    const claimedBy = new Map(waiting.flatMap((a) => (a.kind === 'deleteVolumeSnapshot' ? [[a.content, `${a.namespace}/${a.name}`] as const] : [])));
    let snapshots = new Map<string, VolumeSnapshot>();
    const timeoutMs = waitBudgetMs(deps);
    const { settled } = await watchByList<VolumeSnapshotContent, true>({
      list: async () => {
        const [contents, listed] = await Promise.all([listContents(kube), claimedBy.size > 0 ? listAll<VolumeSnapshot>(kube, volumeSnapshotsPath()) : []]);
        snapshots = new Map(listed.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
        return contents;
      },
      keys: names,
      keyOf: (c) => c.metadata.name,
      settle: (name, c) => {
        const claim = claimedBy.get(name);
        return readyToDelete(c, claim ? { snapshot: snapshots.get(claim) } : undefined) ? true : undefined;
      },
      clock: deps.clock,
      timeoutMs,
      what: `the snapshot-controller's finalizer on VolumeSnapshotContents in cluster ${cluster}`,
    });
    for (const action of waiting) {
      const content = (action as { content: string }).content;
      results.set(
        action,
        settled.has(content)
          ? await attempt(() => runOne(deps, action))
          : {
              ok: false,
              detail:
                `VolumeSnapshotContent ${content} was not confirmed by its driver, held by the snapshot-controller's finalizer and bound to its VolumeSnapshot within ${Math.round(timeoutMs / 1000)}s ` +
                '(is its VolumeSnapshot bound to it?); deleted now, it would go without the driver deleting the snapshot; the next run tries again',
            },
      );
    }
  }
  return actions.map((action) => [action, results.get(action)!]);
}

/** Waits, per cluster with one LIST per look, until the contents are gone; names what holds those that stay. */
async function waitUntilGone(deps: ExecuteDeps, actions: ExpiryAction[]): Promise<[ExpiryAction, Result][]> {
  const results = new Map<ExpiryAction, Result>();
  for (const [cluster, waiting] of byCluster(actions)) {
    const names = [...new Set(waiting.map((a) => (a as { content: string }).content))];
    let outcome: Awaited<ReturnType<typeof watchByList<VolumeSnapshotContent, true>>>;
    const timeoutMs = waitBudgetMs(deps);
    try {
      outcome = await watchByList<VolumeSnapshotContent, true>({
        list: () => listContents(client(deps, cluster)),
        keys: names,
        keyOf: (c) => c.metadata.name,
        settle: (_, c) => (c ? undefined : true),
        clock: deps.clock,
        timeoutMs,
        what: `VolumeSnapshotContents being deleted in cluster ${cluster}`,
      });
    } catch (error) {
      for (const action of waiting) results.set(action, { ok: false, detail: (error as Error).message });
      continue;
    }
    for (const action of waiting) {
      const name = (action as { content: string }).content;
      results.set(action, outcome.settled.has(name) ? { ok: true } : { ok: false, detail: stillThere(outcome.pending.get(name), timeoutMs) });
    }
  }
  return actions.map((action) => [action, results.get(action)!]);
}

/** Why a content is still there after the wait: its finalizers by name, or that nothing deletes it. */
function stillThere(content: VolumeSnapshotContent | undefined, timeoutMs: number): string {
  const after = `still there after ${Math.round(timeoutMs / 1000)}s`;
  if (!content) return `${after} (it could not be listed)`;
  const finalizers = (content.metadata.finalizers as string[] | undefined) ?? [];
  if (content.metadata.deletionTimestamp === undefined) {
    return `${after} and not being deleted (deletionPolicy ${content.spec.deletionPolicy}); the snapshot-controller deletes a content with its VolumeSnapshot, check it runs`;
  }
  const error = content.status?.error?.message ? `; the driver reports: ${content.status.error.message}` : '';
  return `${after}, held by finalizer(s) ${finalizers.join(', ') || '(none)'}${error}; the CSI driver's sidecar removes them once it deleted the snapshot`;
}

function byCluster<T extends ExpiryAction>(actions: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const action of actions) out.set(action.cluster!, [...(out.get(action.cluster!) ?? []), action]);
  return out;
}
