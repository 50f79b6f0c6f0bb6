import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors';
import type { KubeClient } from '../kube/client';
import { collectionPath, discoverApi, groupResource, type ApiResource, type DiscoveryProblem } from '../kube/discovery';
import { KubeApiError, KubeUnreachableError } from '../kube/errors';
import { listAll, type KubeObject } from '../kube/list-all';
import { logger } from '../core/logger';
import type { BackupStore } from '../store/backup-store';
import { formatTime } from '../velero/backup';
import { skippedVolumeInfo } from '../velero/volume-info';
import { BackupLog } from './backup-log';
import { addMessage } from '../velero/results';
import { API_GROUP_VERSIONS_ANNOTATION } from '../velero/labels';
import { planListTargets, itemKey } from './collect';
import { createBackupFilters, type BackupFilters, type ResolvedResource } from '../velero/filters';
import { ownMetadata, writeBackupObjects } from './finalize';
import { completeResourceList, saveResourceListPart } from './resource-list-parts';
import { clusterNamespacesOf, missingNamedNamespaces, namedNamespaces, NamespaceListForbiddenError, readableNamespaceObjects, readNamespaces } from './namespaces';
import type { BackupProgressRecord, SnapshotProgress, SnapshotStageResult } from './progress-record';
import { runTarballStage, type PartWriter } from './tarball-stage';

/** Takes the CSI snapshots of a backup's PVCs; see lib/backup/csi-snapshots.ts. */
export type SnapshotTaker = (input: {
  client: KubeClient;
  record: BackupProgressRecord;
  pvcs: KubeObject[];
  log: BackupLog;
  onProgress: (progress: SnapshotProgress) => Promise<void>;
  /** Whether the function must stop soon: then the snapshots still being cut are left to the next invocation. */
  shouldPause: () => boolean;
}) => Promise<SnapshotStageResult | 'paused'>;

export interface BackupRunnerDeps {
  store: BackupStore;
  connect: (cluster: string) => Promise<KubeClient>;
  takeSnapshots: SnapshotTaker;
  createWriter: (onPart: (bytes: Buffer) => Promise<void>) => PartWriter;
  now: () => Date;
  /** Milliseconds left before the function is stopped. */
  remainingMs: () => number;
  partSize: number;
  /** Stop this long before the limit, to leave time for the last part and checkpoint. */
  safetyMarginMs?: number;
  /** Config `features.enableAPIGroupVersions`: every backup writes every served version. */
  enableAPIGroupVersions?: boolean;
  /**
   * Why the store must not be written to (it ignores conditional writes, which the
   * run's lease stands on), or undefined; see lib/store/location-check.ts writeRefusal.
   */
  writeRefusal: () => Promise<string | undefined>;
}

export type RunOutcome =
  | { state: 'completed' | 'failed'; phase: string }
  | { state: 'paused' }
  | { state: 'busy'; owner: string };

/** Beyond this many invocations a backup is failed instead of resumed forever. */
const MAX_ATTEMPTS = 20;

/**
 * Runs (or continues) one backup until it is done, fails, or its function is about
 * to be stopped; then the record says where to go on. One invocation at a time owns
 * a backup: the record's lease is taken with a conditional write, so two
 * invocations can never both write its tarball. From the claim on, every log line
 * of the process names the backup and its cluster (`logger.appendKeys`); a function
 * drops them when its invocation ends.
 */
export async function runBackup(deps: BackupRunnerDeps, name: string): Promise<RunOutcome> {
  const owner = randomUUID();
  const claim = await claimBackup(deps, name, owner);
  if ('busy' in claim) return { state: 'busy', owner: claim.busy };
  logger.appendKeys({ backup: name, cluster: claim.record.cluster });
  const run = new BackupRun(deps, name, owner, claim.record, claim.etag);
  let client: KubeClient | undefined;
  try {
    // Before any work: without conditional writes two invocations could both own the backup.
    const refusal = await deps.writeRefusal();
    if (refusal) throw new ConflictError(refusal);
    client = await deps.connect(run.record.cluster);
    const { filters, resources, problems, missingNamespaces } = await prepare(client, run.record);
    if (run.record.stage === 'Snapshots') {
      warnUndiscoverable(run.record, problems, run.log);
      warnMissingNamespaces(run.record, missingNamespaces, run.log);
      if ((await snapshotStage(run, client, filters, resources)) === 'paused') {
        await run.release();
        return { state: 'paused' };
      }
    }
    if (run.record.stage === 'Resources' && (await resourcesStage(run, client, filters, resources)) === 'paused') {
      await run.release();
      return { state: 'paused' };
    }
    if (run.record.stage === 'Finalizing') return await finalizeStage(run);
    return { state: 'completed', phase: run.record.backup.status.phase ?? 'Completed' };
  } catch (error) {
    return await failRun(run, error);
  } finally {
    client?.close();
  }
}

/** One invocation's hold on a backup: its record, its log, and the writes that keep the lease. */
class BackupRun {
  readonly log: BackupLog;

  constructor(
    readonly deps: BackupRunnerDeps,
    readonly name: string,
    private readonly owner: string,
    readonly record: BackupProgressRecord,
    private etag: string,
  ) {
    this.log = new BackupLog(record.log, deps.now);
  }

  /** Saves the record with the log so far, extending the lease to the function's deadline. */
  readonly checkpoint = async (next: BackupProgressRecord = this.record): Promise<void> => {
    next.log = this.log.snapshot();
    next.lease = { owner: this.owner, until: formatTime(new Date(this.deps.now().getTime() + this.deps.remainingMs())) };
    this.etag = await this.deps.store.putProgress(this.name, next, this.etag);
  };

  /** A paused run gives its lease back, so the invocation it hands on to can take over at once. */
  async release(): Promise<void> {
    this.record.log = this.log.snapshot();
    delete this.record.lease;
    this.etag = await this.deps.store.putProgress(this.name, this.record, this.etag);
  }

  /** Whether the function must stop soon: the stages then pause. */
  readonly shouldPause = (): boolean => this.deps.remainingMs() < (this.deps.safetyMarginMs ?? 60_000);
}

/**
 * Takes the CSI snapshots (or records that there are none) and moves on to the
 * resources; 'paused' when the function's time runs out while snapshots are still
 * being cut (the stage stays Snapshots, and the next invocation takes them over).
 */
async function snapshotStage(run: BackupRun, client: KubeClient, filters: BackupFilters, resources: readonly ApiResource[]): Promise<'done' | 'paused'> {
  const { record, log } = run;
  warnTerminatingNamespaces(record, filters, log);
  if (record.attempts > 1) log.info('backup continued', { cluster: record.cluster, attempt: record.attempts });
  const pvcs = await includedPvcs(client, record, filters, resources);
  // A volume policy's snapshot action applies even with snapshotVolumes false, as in Velero.
  const snapshots =
    record.backup.spec.snapshotVolumes === false && !record.backup.spec.resourcePolicy
      ? emptySnapshots(pvcs)
      : await run.deps.takeSnapshots({
          client,
          record,
          pvcs,
          log,
          onProgress: async (progress) => {
            record.snapshotProgress = progress;
            record.backup.status.csiVolumeSnapshotsAttempted = progress.attempted;
            record.backup.status.csiVolumeSnapshotsCompleted = progress.completed;
            // Shown by GET /backups/{name} while the snapshots are being cut.
            await run.checkpoint();
          },
          shouldPause: run.shouldPause,
        });
  if (snapshots === 'paused') {
    log.info('snapshots still being cut as the function time runs out; the next invocation takes them over');
    return 'paused';
  }
  record.snapshots = snapshots;
  record.backup.status.csiVolumeSnapshotsAttempted = record.snapshots.attempted;
  record.backup.status.csiVolumeSnapshotsCompleted = record.snapshots.completed;
  record.stage = 'Resources';
  // Snapshots taken must never be taken again; with none, the tarball stage's first
  // checkpoint records this stage's end as well, one write less.
  if (record.snapshots.attempted > 0) await run.checkpoint();
  return 'done';
}

/** Streams the resources into the tarball; 'paused' when the function's time runs out first. */
async function resourcesStage(
  run: BackupRun,
  client: KubeClient,
  filters: BackupFilters,
  resources: readonly ApiResource[],
): Promise<'done' | 'paused'> {
  const { record, log, deps, name } = run;
  const scope = filters.namespaceFilter.listScope();
  const allVersions = record.tarball ? record.tarball.allApiGroupVersions === true : wantsAllVersions(record, deps);
  const targets = planListTargets(resources, filters, {
    allNamespaces: scope.allNamespaces,
    ...(scope.allNamespaces ? {} : { includedNamespaces: scope.namespaces }),
    relatedPersistentVolumes: new Set(record.snapshots?.relatedPersistentVolumes ?? []),
    allVersions,
  });
  log.info('collecting resources', { types: targets.length, ...(allVersions ? { apiGroupVersions: 'all' } : {}) });
  const crdType = resources.find(
    (r) => r.group === 'apiextensions.k8s.io' && r.resource === 'customresourcedefinitions' && r.version === r.preferredVersion,
  );
  const outcome = await runTarballStage({
    client,
    record,
    filters,
    targets,
    listNamespaces: () => readableNamespaceObjects(client, filters, record, log),
    multipart: deps.store.multipart,
    saveResourceListPart: (part, names) => saveResourceListPart(deps.store, name, part, names),
    tarballKey: deps.store.layout.backupContentsKey(name),
    createWriter: deps.createWriter,
    checkpoint: run.checkpoint,
    shouldPause: run.shouldPause,
    log,
    partSize: deps.partSize,
    labelSelector: serverSideSelector(record),
    allApiGroupVersions: allVersions,
    ...(crdType && addsDefinitions(filters, crdType) ? { customResourceDefinitions: crdType } : {}),
  });
  if (outcome === 'paused') return 'paused';
  record.stage = 'Finalizing';
  return 'done';
}

/**
 * Whether a backup writes every served version of its types: the config's
 * `features.enableAPIGroupVersions`, or the backup's annotation
 * skiff.io/api-group-versions: all.
 */
function wantsAllVersions(record: BackupProgressRecord, deps: BackupRunnerDeps): boolean {
  return deps.enableAPIGroupVersions === true || record.backup.metadata.annotations?.[API_GROUP_VERSIONS_ANNOTATION] === 'all';
}

/**
 * Writes the backup's other objects and velero-backup.json last. The record says
 * Finalizing before velero-backup.json can exist, so a run that stops now is continued
 * here and not in the tarball stage it has left.
 */
async function finalizeStage(run: BackupRun): Promise<RunOutcome> {
  const { record, deps, name } = run;
  // Written by an earlier invocation that stopped before removing the record: only that is left.
  const backup =
    (await ownMetadata(deps.store, record.backup)) ??
    (await writeBackupObjects(deps.store, record, run.log, deps.now(), await completeResourceList(deps.store, name, record.tarball), () => run.checkpoint()));
  record.stage = 'Done';
  record.backup = backup;
  const phase = backup.status.phase ?? 'Completed';
  try {
    await deps.store.deleteProgress(name, record.tarball?.resourceListParts);
  } catch (error) {
    // The backup is complete and visible: never call it Failed now. The record stays at
    // Finalizing; the next invocation writes nothing new and removes it.
    logger.warn('backup completed, but its progress record could not be removed; the next invocation removes it', { backup: name, error });
  }
  return { state: 'completed', phase };
}

/**
 * Records the failure with its reason; nothing of a failed backup may look like a backup.
 * A run that failed while finalizing may have written velero-backup.json already (its
 * answer lost): then the backup is complete and is never called Failed; when the store
 * cannot tell, nothing is recorded and the next invocation goes on.
 */
async function failRun(run: BackupRun, error: unknown): Promise<RunOutcome> {
  const { record, deps, name } = run;
  if (record.stage === 'Finalizing') {
    const written = await ownMetadata(deps.store, record.backup).then(
      (own) => own ?? false,
      () => undefined,
    );
    if (written) return { state: 'completed', phase: written.status.phase ?? 'Completed' };
    if (written === undefined) {
      logger.warn('finalizing failed and the store cannot say whether velero-backup.json was written; the next invocation goes on', { backup: name, error });
      return { state: 'paused' };
    }
  }
  const reason = failureReason(error);
  run.log.error(`backup failed: ${reason}`);
  logger.error('backup failed', { backup: name, cluster: record.cluster, error });
  if (record.tarball) {
    await deps.store.multipart.abort(deps.store.layout.backupContentsKey(name), record.tarball.uploadId).catch(() => undefined);
    await deps.store.deleteResourceListParts(name, record.tarball.resourceListParts ?? 0).catch(() => undefined);
  }
  record.stage = 'Failed';
  // A spec that turns out invalid only against the cluster (its resource policy
  // ConfigMap) ends as Velero's does: FailedValidation, with the reasons.
  if (error instanceof ValidationError) {
    record.backup.status.phase = 'FailedValidation';
    record.backup.status.validationErrors = error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  } else {
    record.backup.status.phase = 'Failed';
  }
  record.backup.status.failureReason = reason;
  record.backup.status.completionTimestamp = formatTime(deps.now());
  await run.checkpoint().catch((e: unknown) => logger.error('could not record the failure', { backup: name, error: e }));
  return { state: 'failed', phase: record.backup.status.phase };
}

async function claimBackup(
  deps: BackupRunnerDeps,
  name: string,
  owner: string,
): Promise<{ record: BackupProgressRecord; etag: string } | { busy: string }> {
  const stored = await deps.store.getProgress(name);
  if (!stored) throw new NotFoundError('backup in progress', name, 'it was never created, or it has already finished');
  const record = stored.record as BackupProgressRecord;
  if (record.stage === 'Done' || record.stage === 'Failed') return { busy: 'nobody: it has finished' };
  const now = deps.now();
  if (record.lease && Date.parse(record.lease.until) > now.getTime()) return { busy: record.lease.owner };
  record.attempts = (record.attempts ?? 0) + 1;
  if (record.stage === 'New') {
    // Shown as running from the moment an invocation owns it, with the claim's own write.
    record.stage = 'Snapshots';
    record.backup.status.phase = 'InProgress';
    const log = new BackupLog(record.log, deps.now);
    log.info('backup started', { cluster: record.cluster });
    record.log = log.snapshot();
  }
  if (record.attempts > MAX_ATTEMPTS) {
    record.stage = 'Failed';
    record.backup.status.phase = 'Failed';
    record.backup.status.failureReason = `gave up after ${MAX_ATTEMPTS} invocations without finishing`;
  }
  record.lease = { owner, until: formatTime(new Date(now.getTime() + deps.remainingMs())) };
  try {
    const etag = await deps.store.putProgress(name, record, stored.etag);
    return record.stage === 'Failed' ? { busy: 'nobody: it has failed' } : { record, etag };
  } catch (error) {
    if (error instanceof ConflictError) return { busy: 'another invocation' };
    throw error;
  }
}

/**
 * Discovery and the backup's filters. A backup that names its namespaces needs no
 * cluster-wide read of namespaces (see lib/backup/namespaces.ts).
 */
async function prepare(client: KubeClient, record: BackupProgressRecord) {
  const [{ resources, problems }, namespaces] = await Promise.all([
    discoverApi(client),
    readNamespaces(client, namedNamespaces(record.backup.spec)),
  ]);
  const resolve = resourceResolver(resources);
  const clusterNamespaces = clusterNamespacesOf(namespaces);
  const filters = createBackupFilters(record.backup.spec, {
    namespaces: clusterNamespaces,
    resolveResource: resolve,
  });
  const missingNamespaces = missingNamedNamespaces(
    record.backup.spec,
    clusterNamespaces.map((ns) => ns.name),
  );
  return { filters, resources, problems, missingNamespaces };
}

/**
 * One warning per namespace includedNamespaces names that the cluster does not have,
 * in that namespace's results; said once even when the snapshot stage runs again.
 */
function warnMissingNamespaces(record: BackupProgressRecord, missing: readonly string[], log: BackupLog): void {
  for (const namespace of missing) {
    const message =
      `namespace ${namespace} is named in includedNamespaces but does not exist in cluster ${record.cluster}; ` +
      'nothing of it is backed up (check the name and the cluster)';
    if (record.results.warnings.namespaces[namespace]?.includes(message)) continue;
    addMessage(record.results.warnings, namespace, message);
    log.warn(message);
  }
}

/**
 * One warning per API group version discovery could not describe (an aggregated API
 * whose server is down): its objects cannot be listed, so they are not in the backup,
 * and the backup says so instead of failing or thinning silently.
 */
function warnUndiscoverable(record: BackupProgressRecord, problems: readonly DiscoveryProblem[], log: BackupLog): void {
  for (const problem of problems) {
    const message = `API group version ${problem.groupVersion} could not be discovered: ${problem.reason}; its objects are not in the backup`;
    if (record.results.warnings.cluster.includes(message)) continue;
    addMessage(record.results.warnings, undefined, message);
    log.warn(message);
  }
}

/**
 * One warning per included namespace that is being deleted, whose objects the filters
 * leave out; said once even when the snapshot stage runs again after a stop.
 */
function warnTerminatingNamespaces(record: BackupProgressRecord, filters: BackupFilters, log: BackupLog): void {
  for (const namespace of filters.terminatingNamespaces()) {
    const message = `namespace ${namespace} is being deleted (Terminating); nothing of it is backed up or snapshotted`;
    if (record.results.warnings.namespaces[namespace]?.includes(message)) continue;
    addMessage(record.results.warnings, namespace, message);
    log.warn(message);
  }
}

/**
 * Whether the definitions of backed-up custom resources are added one by one (Velero's
 * backupCRD): only when CRDs are neither included (then they are all listed anyway)
 * nor excluded (includeClusterResources false, or left out by the resource filters).
 */
function addsDefinitions(filters: BackupFilters, crdType: ApiResource): boolean {
  const gr = groupResource(crdType);
  return !filters.shouldIncludeResource(gr, false) && !filters.shouldExcludeResource(gr, false);
}

/** Resolves `deploy`, `Deployment`, `deployments`, `deployments.apps` through discovery. */
function resourceResolver(resources: readonly ApiResource[]): (name: string) => ResolvedResource | undefined {
  const byName = new Map<string, ResolvedResource>();
  for (const r of resources) {
    if (r.version !== r.preferredVersion) continue;
    const resolved = { groupResource: groupResource(r), namespaced: r.namespaced };
    for (const alias of [groupResource(r), r.resource, r.kind.toLowerCase()]) {
      if (!byName.has(alias)) byName.set(alias, resolved);
    }
  }
  return (name) => byName.get(name.toLowerCase());
}

/**
 * The PVCs whose volumes this backup snapshots: included by namespace, labels and type.
 * Listed per namespace when the backup's namespaces are known, as the collection lists
 * them: fewer objects, and all that namespace-limited credentials may list.
 */
async function includedPvcs(
  client: KubeClient,
  record: BackupProgressRecord,
  filters: BackupFilters,
  resources: readonly ApiResource[],
): Promise<KubeObject[]> {
  const pvcType = resources.find((r) => r.group === '' && r.resource === 'persistentvolumeclaims');
  if (!pvcType || !filters.shouldIncludeResource('persistentvolumeclaims', true)) return [];
  const scope = filters.namespaceFilter.listScope();
  const paths = scope.allNamespaces ? [collectionPath(pvcType)] : scope.namespaces.map((ns) => collectionPath(pvcType, ns));
  const all: KubeObject[] = [];
  for (const path of paths) all.push(...(await listAll(client, path, { labelSelector: serverSideSelector(record) })));
  return all
    .filter((pvc) => filters.shouldIncludeNamespace(pvc.metadata.namespace ?? ''))
    .filter((pvc) => filters.matchesLabels(pvc.metadata.labels))
    .filter(
      (pvc) =>
        filters.shouldBackUpItem({
          groupResource: 'persistentvolumeclaims',
          namespace: pvc.metadata.namespace,
          labels: pvc.metadata.labels,
          deletionTimestamp: pvc.metadata.deletionTimestamp as string | undefined,
        }).include,
    )
    .sort((a, b) => (itemKey(a) < itemKey(b) ? -1 : 1));
}

function emptySnapshots(pvcs: KubeObject[]): SnapshotStageResult {
  return {
    volumeSnapshots: [],
    volumeSnapshotContents: [],
    volumeSnapshotClasses: [],
    tarballItems: [],
    pvcAdditions: {},
    // Every PVC in scope is accounted for, also when the backup asked for no snapshots.
    volumeInfos: pvcs.map((pvc) =>
      skippedVolumeInfo({
        pvcNamespace: pvc.metadata.namespace ?? '',
        pvcName: pvc.metadata.name,
        volumeName: (pvc.spec as { volumeName?: string } | undefined)?.volumeName,
        reason: 'the backup has snapshotVolumes set to false',
      }),
    ),
    attempted: 0,
    completed: 0,
    relatedPersistentVolumes: pvcs
      .map((pvc) => (pvc.spec as { volumeName?: string } | undefined)?.volumeName)
      .filter((name): name is string => !!name),
  };
}

/**
 * A plain `labelSelector` (matchLabels only) is sent to the API server so it filters
 * before sending; everything else is decided here from the full objects.
 */
function serverSideSelector(record: BackupProgressRecord): string | undefined {
  const selector = record.backup.spec.labelSelector;
  if (!selector || record.backup.spec.orLabelSelectors?.length || selector.matchExpressions?.length) return undefined;
  const pairs = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  return pairs.length > 0 ? pairs.join(',') : undefined;
}

/** What a person can act on; the Kubernetes error's own words, never credentials. */
function failureReason(error: unknown): string {
  if (error instanceof KubeUnreachableError) return `${error.message}; check the cluster's server URL, CA and network access`;
  if (error instanceof NamespaceListForbiddenError) {
    return `${error.message}; name the namespaces to back up in includedNamespaces, without wildcards, or allow the credentials to list namespaces`;
  }
  if (error instanceof KubeApiError && (error.code === 401 || error.code === 403)) {
    return `${error.message}; check the cluster's credentials and that they are allowed to read what the backup includes`;
  }
  if (error instanceof ValidationError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  if (error instanceof Error) return error.message;
  return String(error);
}
