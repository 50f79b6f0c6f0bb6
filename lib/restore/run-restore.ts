import { gzipSync } from 'node:zlib';
import { DEFAULT_ARCHIVE_LIMITS, readBackupArchive, type ArchiveLimits, type ArchiveRecord } from '../archive/tar-reader';
import type { Clock } from '../core/clock';
import { NotFoundError } from '../core/errors';
import { JobLog } from '../core/job-log';
import { volumeSnapshotClassesPath } from '../csi/snapshot-api';
import type { VolumeSnapshotClassLike } from '../csi/snapshot-class';
import type { KubeClient } from '../kube/client';
import { listAll, type KubeObject } from '../kube/list-all';
import type { BackupStore } from '../store/backup-store';
import { addVeleroMessage, countMessages, serializeResults } from '../velero/results';
import { FINAL_RESTORE_PHASES } from '../velero/restore';
import { discoverApi } from '../kube/discovery';
import { chooseRestoreVersions, targetVersionsOf, type SourceVersions, type TargetVersions } from './api-versions';
import type { TargetSnapshotSupport } from './csi-volumes';
import { buildRestorePlan, DEFAULT_MAX_HELD_BYTES, type RestorePlan } from './plan';
import { readRestoreRecord, writeRestoreRecord, type RestoreRecord, type RestoreVolumeInfo } from './record';
import { rolloutConflictMessage } from './rollout-conflict';
import { runSteps } from './run-steps';
import { DEFAULT_PASS_BUDGET_BYTES, tierLoader } from './tiers';

/**
 * Runs one restore (Velero's restore controller and pkg/restore/restore.go, on Skiff's
 * terms): reads the backup's tarball as a stream into a plan, refuses rollout
 * conflicts, creates the objects in Velero's order from the record's cursor (reading
 * their JSON from the tarball again, tier by tier: tiers.ts), and
 * writes the results, log, resource list and volume info under restores/<r>/ in
 * Velero's layout. A run that nears the function's time limit checkpoints and answers
 * 'paused'; the next invocation plans again from the tarball and goes on from the cursor.
 */

export interface RestoreRunnerDeps {
  store: BackupStore;
  connect: (cluster: string) => Promise<KubeClient>;
  clock: Clock;
  remainingMs: () => number;
  concurrency?: number;
  chunkSize?: number;
  stopMarginMs?: number;
  archiveLimits?: ArchiveLimits;
  /** The most JSON one resource type may hold (bytes); a larger one is refused before anything is created. */
  maxHeldBytes?: number;
  /** JSON bytes one pass over the tarball gathers for the steps ahead (tiers.ts). */
  passBudgetBytes?: number;
  crdEstablishTimeoutMs?: number;
}

export type RestoreRunOutcome = { state: 'done'; phase: string } | { state: 'paused'; itemsRestored: number };

/** Invocations one restore may take before it is failed: a restore that never advances must end. */
const MAX_ATTEMPTS = 100;

/** What the target cluster offers for CSI snapshots; a CSIDriver list that cannot be read leaves drivers unchecked. */
async function targetSnapshotSupport(client: KubeClient): Promise<TargetSnapshotSupport> {
  const classes = await listAll<KubeObject & VolumeSnapshotClassLike>(client, volumeSnapshotClassesPath()).catch(() => []);
  const drivers = await listAll(client, '/apis/storage.k8s.io/v1/csidrivers')
    .then((items) => new Set(items.map((d) => d.metadata.name)))
    .catch(() => undefined);
  return { classes, drivers };
}

/** A fresh stream of the backup tarball's records: one GET of the object per pass. */
async function openRecords(deps: RestoreRunnerDeps, backupName: string): Promise<AsyncIterable<ArchiveRecord>> {
  const stream = await deps.store.openBackupContents(backupName);
  if (!stream) throw new NotFoundError('tarball of backup', backupName, `storage location "${deps.store.location}" has no ${deps.store.layout.backupContentsKey(backupName)}`);
  return readBackupArchive(stream, deps.archiveLimits ?? DEFAULT_ARCHIVE_LIMITS);
}

async function plan(deps: RestoreRunnerDeps, record: RestoreRecord, client: KubeClient, log: JobLog): Promise<RestorePlan> {
  const { restore } = record;
  const backupName = restore.spec.backupName;
  return buildRestorePlan(await openRecords(deps, backupName), {
    spec: restore.spec,
    restoreName: restore.metadata.name,
    restoreUid: restore.metadata.uid,
    backupName,
    targetCluster: record.cluster,
    ...(record.resourceModifiers ? { modifiers: record.resourceModifiers } : {}),
    target: await targetSnapshotSupport(client),
    storedSnapshots: async () => ({
      volumeSnapshots: await deps.store.getCsiVolumeSnapshots(backupName),
      contents: await deps.store.getCsiVolumeSnapshotContents(backupName),
    }),
    maxHeldBytes: deps.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES,
    results: record.results,
    log: (message) => log.info(message),
    chooseVersions: (sources) => restoreVersions(record, client, log, sources),
  });
}

/**
 * The API versions the restore reads (api-versions.ts): the record's choice when an
 * earlier invocation made it, else chosen now from the target cluster's discovery.
 * Discovery is asked only when the backup holds several versions of something; when it
 * cannot be read, the backup's preferred copies are restored, with a warning.
 */
async function restoreVersions(record: RestoreRecord, client: KubeClient, log: JobLog, sources: ReadonlyMap<string, SourceVersions>): Promise<Map<string, string>> {
  if (record.apiVersions) return new Map(Object.entries(record.apiVersions));
  const choosing = [...sources.values()].some((s) => s.versions.length > 1 || s.preferred === undefined);
  let target = new Map<string, TargetVersions>();
  if (choosing) {
    try {
      target = targetVersionsOf((await discoverApi(client)).resources);
    } catch (error) {
      const message = `the API versions the target cluster serves could not be read (${(error as Error).message}); restoring the backup's preferred versions`;
      addVeleroMessage(record.results.warnings, message);
      log.warn(message);
    }
  }
  const chosen = chooseRestoreVersions(sources, target, (groupResource, choice) =>
    log.info(`restoring ${groupResource} in API version ${choice.version}: ${choice.reason}`),
  );
  record.apiVersions = Object.fromEntries(chosen);
  return chosen;
}

function volumeInfos(plan: RestorePlan, record: RestoreRecord): RestoreVolumeInfo[] {
  const mapping = record.restore.spec.namespaceMapping ?? {};
  return [...plan.pvcSnapshots].map(([pvc, snapshot]) => {
    const [namespace, name] = pvc.split('/') as [string, string];
    return {
      pvcName: name,
      pvcNamespace: mapping[namespace] ?? namespace,
      restoreMethod: 'CSISnapshot',
      snapshotDataMoved: false,
      csiSnapshotInfo: { snapshotHandle: snapshot.snapshotHandle, driver: snapshot.driver, vscName: snapshot.volumeSnapshotName },
    };
  });
}

/** Uploads what Velero keeps of a restore; each is needed to describe it, so a failure fails this invocation. */
async function uploadResults(store: BackupStore, record: RestoreRecord, log: JobLog): Promise<void> {
  const name = record.restore.metadata.name;
  const json = (value: unknown) => gzipSync(`${JSON.stringify(value)}\n`);
  await store.putObject(store.layout.restoreResultsKey(name), gzipSync(serializeResults(record.results)));
  await store.putObject(store.layout.restoreResourceListKey(name), json(record.resourceList));
  await store.putObject(store.layout.restoreVolumeInfoKey(name), json(record.volumeInfos));
  await store.putObject(store.layout.restoreLogKey(name), log.gzip());
}

function finish(record: RestoreRecord, now: Date, phase: 'Completed' | 'PartiallyFailed' | 'Failed' | 'FailedValidation'): void {
  const status = record.restore.status;
  status.phase = phase;
  status.completionTimestamp = now.toISOString();
  status.warnings = countMessages(record.results.warnings);
  status.errors = countMessages(record.results.errors);
}

/**
 * Runs restore `name` until it finishes or the invocation nears its end.
 *
 * @throws NotFoundError when the restore has no record in this location.
 * @throws ConflictError when another invocation took the restore over (its record changed).
 */
export async function runRestore(deps: RestoreRunnerDeps, name: string): Promise<RestoreRunOutcome> {
  const stored = await readRestoreRecord(deps.store, name);
  if (!stored) throw new NotFoundError('restore', name, `storage location "${deps.store.location}" has no record of it`);
  const { record } = stored;
  let etag = stored.etag;
  const status = record.restore.status;
  if (FINAL_RESTORE_PHASES.includes(status.phase)) return { state: 'done', phase: status.phase };
  const log = new JobLog(record.log, () => deps.clock.now());
  const save = async () => {
    record.log = log.snapshot();
    etag = await writeRestoreRecord(deps.store, record, etag);
  };
  record.attempts += 1;
  if (status.phase === 'New') {
    status.phase = 'InProgress';
    status.startTimestamp = deps.clock.now().toISOString();
    log.info('restore started', { backup: record.restore.spec.backupName, cluster: record.cluster });
  }
  if (record.attempts > MAX_ATTEMPTS) {
    status.failureReason = `the restore did not finish within ${MAX_ATTEMPTS} invocations`;
    finish(record, deps.clock.now(), 'Failed');
    await save();
    return { state: 'done', phase: status.phase };
  }
  // Claims the run: a second invocation of the same restore fails here (ConflictError).
  await save();
  const client = await deps.connect(record.cluster);
  try {
    return await runWithClient(deps, record, client, log, save);
  } finally {
    client.close();
  }
}

async function runWithClient(
  deps: RestoreRunnerDeps,
  record: RestoreRecord,
  client: KubeClient,
  log: JobLog,
  save: () => Promise<void>,
): Promise<RestoreRunOutcome> {
  const status = record.restore.status;
  let restorePlan: RestorePlan;
  try {
    restorePlan = await plan(deps, record, client, log);
  } catch (error) {
    status.failureReason = (error as Error).message;
    log.error('restore failed', { reason: status.failureReason });
    addVeleroMessage(record.results.errors, status.failureReason);
    finish(record, deps.clock.now(), 'Failed');
    await uploadResults(deps.store, record, log);
    await save();
    return { state: 'done', phase: status.phase };
  }
  const conflicts = restorePlan.conflicts.map(rolloutConflictMessage);
  if (conflicts.length > 0 && !record.acceptRolloutRisk) {
    status.validationErrors = conflicts;
    for (const message of conflicts) log.error(message);
    finish(record, deps.clock.now(), 'FailedValidation');
    await save();
    return { state: 'done', phase: status.phase };
  }
  if (record.cursor.step === 0 && record.cursor.item === 0) {
    for (const message of conflicts) addVeleroMessage(record.results.warnings, `${message} (accepted: acceptRolloutRisk)`);
    record.volumeInfos = volumeInfos(restorePlan, record);
  }
  status.progress = { totalItems: restorePlan.totalItems, itemsRestored: status.progress?.itemsRestored ?? 0 };
  const state = await runSteps(
    {
      client,
      clock: deps.clock,
      log,
      remainingMs: deps.remainingMs,
      checkpoint: save,
      concurrency: deps.concurrency ?? 16,
      chunkSize: deps.chunkSize ?? 200,
      stopMarginMs: deps.stopMarginMs ?? 60_000,
      crdEstablishTimeoutMs: deps.crdEstablishTimeoutMs ?? 60_000,
    },
    {
      spec: record.restore.spec,
      restoreName: record.restore.metadata.name,
      backupName: record.restore.spec.backupName,
      ...(record.resourceModifiers ? { modifiers: record.resourceModifiers } : {}),
      plan: restorePlan,
      loadStep: tierLoader(restorePlan.steps, {
        open: () => openRecords(deps, record.restore.spec.backupName),
        budgetBytes: deps.passBudgetBytes ?? DEFAULT_PASS_BUDGET_BYTES,
        onPass: (report) => log.info('read the tarball for the next resource types', { groupResources: report.groupResources.join(', '), heldBytes: report.heldBytes }),
      }),
    },
    record,
  );
  if (state === 'paused') {
    log.info('pausing before the time limit; a fresh invocation goes on', { itemsRestored: status.progress.itemsRestored });
    await save();
    return { state: 'paused', itemsRestored: status.progress.itemsRestored };
  }
  finish(record, deps.clock.now(), countMessages(record.results.errors) > 0 ? 'PartiallyFailed' : 'Completed');
  log.info('restore completed', { phase: status.phase, items: status.progress.itemsRestored });
  await uploadResults(deps.store, record, log);
  await save();
  return { state: 'done', phase: status.phase };
}
