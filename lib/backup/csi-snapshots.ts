import { systemClock, type Clock } from '../core/clock';
import type { KubeClient } from '../kube/client';
import { createOnce } from '../kube/create-once';
import { KubeAmbiguousWriteError, isNotFound } from '../kube/errors';
import { listAll, type KubeObject } from '../kube/list-all';
import {
  volumeSnapshotClassesPath,
  volumeSnapshotContentPath,
  volumeSnapshotPath,
  volumeSnapshotsPath,
  type VolumeSnapshot,
  type VolumeSnapshotClass,
  type VolumeSnapshotContent,
} from '../csi/snapshot-api';
import { logger } from '../core/logger';
import { VELERO_DEFAULTS, type BackupSpec } from '../velero/backup';
import { formatDuration, parseDuration } from '../velero/duration';
import type { BackupVolumeInfo } from '../velero/volume-info';
import { discardVolumeSnapshot, type DiscardOptions } from '../csi/release';
import { volumeSnapshotAnnotations } from '../csi/backup-items';
import { retainContentPatch } from '../csi/deletion-policy';
import { backupLabelSelector } from '../velero/labels';
import { volumeSnapshotFor } from '../csi/builders';
import {
  completedOutcome,
  csiBackupObjects,
  csiSnapshotResults,
  csiVolumeInfos,
  countCsiSnapshots,
  skippedOutcome,
  unsnapshottableOutcome,
  type CsiSnapshotOutcome,
  type FailedSnapshot,
} from './csi-outcomes';
import {
  leavesDataUnprotected,
  planCsiSnapshots,
  type CsiSnapshotPlan,
  type PersistentVolumeClaimLike,
  type PersistentVolumeLike,
  type StorageClassLike,
} from '../csi/plan';
import { assessSnapshot, contentNeeded } from '../csi/readiness';
import { DEFAULT_POLL_SCHEDULE, nextPollDelayMs, type PollSchedule } from '../csi/polling';
import { adoptedStartedAt, adoptionFor } from './csi-resume';
import type { BackupResults } from '../velero/results';
import type { ResourcePolicies } from '../velero/resource-policies';

/**
 * Takes the CSI snapshots of a backup's PVCs, as Velero's CSI plugin does: a
 * VolumeSnapshot per PVC bound to a CSI volume, then wait, within the backup's
 * csiSnapshotTimeout, until it is bound to a content that holds the storage system's
 * snapshot handle and is ready to use; then the content is labelled for the backup
 * and kept (deletionPolicy Retain) for the backup's life. A snapshot that fails or
 * runs out of time is an error of its PVC's namespace, and what was created for it is
 * taken back (see csi-cleanup.ts); so is a bound CSI volume that cannot be snapshotted at
 * all (no VolumeSnapshotClass can be chosen for its driver).
 *
 * Snapshots are taken concurrently and watched together: each look at them is one
 * LIST of the backup's VolumeSnapshots, however many there are (a content is read
 * only for a snapshot in trouble). Per snapshot there are three more requests: create
 * the VolumeSnapshot, and once it is ready, patch its content (label, Retain) and
 * annotate it as Velero does. Contents are left alone until then on purpose: the
 * snapshot-controller and the CSI sidecar update them while the snapshot is cut, and
 * a write in between makes their updates conflict and retry with backoff. The PVs,
 * classes and StorageClasses are listed once per backup, or taken from the caller,
 * and one more list finds the VolumeSnapshots an interrupted earlier run of the same
 * backup left, to take them over (csi-resume.ts).
 *
 * How fast N snapshots go is mostly up to the cluster: the snapshot-controller makes
 * several API requests per snapshot (the content, finalizers, status, events) through
 * its own client rate limit (5 per second by default, --kube-api-qps), and the CSI
 * sidecar cuts a bounded number at once (--worker-threads).
 */

/** Counts for the backup's status while snapshots are being taken. */
export interface CsiSnapshotProgress {
  /** PVCs that get a snapshot. */
  total: number;
  /** VolumeSnapshots created so far. */
  attempted: number;
  completed: number;
  failed: number;
}

/** The backup the snapshots are for: its name, annotations (they may choose classes) and spec. */
export interface SnapshotBackup {
  name: string;
  annotations?: Record<string, string>;
  spec: Pick<BackupSpec, 'csiSnapshotTimeout' | 'snapshotVolumes'>;
}

/** What takeCsiSnapshots works with: the cluster, the backup, its PVCs, and how to pace itself. */
export interface TakeCsiSnapshotsOptions {
  client: KubeClient;
  backup: SnapshotBackup;
  /** The PVCs the backup includes (already filtered), as the API server returns them. */
  pvcs: readonly PersistentVolumeClaimLike[];
  /** Most snapshots in progress at once; the rest wait for a free slot. Default 50. */
  concurrency?: number;
  clock?: Clock;
  /**
   * Called whenever a count changes, one call at a time and in order, so the caller
   * can persist progress; the snapshots go on meanwhile. A failing callback is logged.
   */
  onProgress?: (progress: CsiSnapshotProgress) => void | Promise<void>;
  /** Objects the caller has already listed, to save the requests. */
  known?: {
    persistentVolumes?: readonly PersistentVolumeLike[];
    storageClasses?: readonly StorageClassLike[];
    snapshotClasses?: readonly VolumeSnapshotClass[];
  };
  pollSchedule?: PollSchedule;
  /** The backup's volume policies (spec.resourcePolicy), which decide first: skip, snapshot, or an action Skiff cannot take. */
  volumePolicies?: ResourcePolicies;
  /** How long a failed snapshot's cleanup waits for its VolumeSnapshot to be gone. Default 60 s. */
  cleanupTimeoutMs?: number;
  /**
   * Whether the function must stop soon (asked before each look): then no more
   * VolumeSnapshots are created, the ones still being cut are left as they are, and
   * takeCsiSnapshots answers 'paused'. The next invocation takes them over
   * (csi-resume.ts), their csiSnapshotTimeout counted from their creation, so a
   * snapshot may take longer than one invocation lasts. One that failed before the
   * pause was taken back and is tried again then, as after an interruption.
   */
  shouldPause?: () => boolean;
}

/** Everything a backup needs from its snapshots. */
export interface CsiSnapshotsResult {
  /** One per PVC, in the order given. */
  outcomes: CsiSnapshotOutcome[];
  /**
   * The completed snapshots' VolumeSnapshots, contents and classes as they are in the
   * cluster after Skiff's patches: the CSI lists (`<b>-csi-volumesnapshots.json.gz`, ...)
   * take them as they are; the tarball takes volumeSnapshotBackupItem(vs) and
   * volumeSnapshotContentBackupItem(vsc) of them, and the classes as they are.
   */
  volumeSnapshots: VolumeSnapshot[];
  volumeSnapshotContents: VolumeSnapshotContent[];
  volumeSnapshotClasses: VolumeSnapshotClass[];
  /** Entries for `<b>-volumeinfo.json.gz`. */
  volumeInfos: BackupVolumeInfo[];
  /** Warnings (skipped PVCs) and errors (failed snapshots), per namespace. */
  results: BackupResults;
  /** For status.csiVolumeSnapshotsAttempted / csiVolumeSnapshotsCompleted. */
  attempted: number;
  completed: number;
  /** Requests the client sent while this ran (its own and any concurrent user's). */
  apiRequests: number;
}

const DEFAULT_CONCURRENCY = 50;
const DEFAULT_CLEANUP_TIMEOUT_MS = 60_000;

/**
 * Takes the CSI snapshots of a backup's PVCs; never throws for one PVC's trouble, only
 * for the lists it needs. Answers 'paused' when options.shouldPause said to stop first.
 */
export async function takeCsiSnapshots(options: TakeCsiSnapshotsOptions): Promise<CsiSnapshotsResult | 'paused'> {
  const requestsBefore = options.client.requestCount;
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now().getTime();
  const plans = options.pvcs.length === 0 ? [] : planCsiSnapshots(await planInput(options));
  const run = new SnapshotRun(options, plans);
  const outcomes = await run.execute();
  if (outcomes === 'paused') {
    logger.info('CSI snapshots still being cut: the next invocation takes them over', {
      cluster: options.client.cluster,
      backup: options.backup.name,
      ms: clock.now().getTime() - startedAt,
    });
    return 'paused';
  }
  const counts = countCsiSnapshots(outcomes);
  const result: CsiSnapshotsResult = {
    outcomes,
    ...csiBackupObjects(outcomes),
    volumeInfos: csiVolumeInfos(outcomes),
    results: csiSnapshotResults(outcomes),
    ...counts,
    apiRequests: options.client.requestCount - requestsBefore,
  };
  logger.info('CSI snapshots taken', {
    cluster: options.client.cluster,
    backup: options.backup.name,
    pvcs: outcomes.length,
    attempted: counts.attempted,
    completed: counts.completed,
    failed: outcomes.filter((o) => o.kind === 'failed').length,
    skipped: outcomes.filter((o) => o.kind === 'skipped').length,
    apiRequests: result.apiRequests,
    ms: clock.now().getTime() - startedAt,
  });
  return result;
}

async function planInput(options: TakeCsiSnapshotsOptions) {
  const { client, known } = options;
  const [persistentVolumes, storageClasses, snapshotClasses] = await Promise.all([
    known?.persistentVolumes ?? listAll<KubeObject & PersistentVolumeLike>(client, '/api/v1/persistentvolumes'),
    known?.storageClasses ?? listAll<KubeObject & StorageClassLike>(client, '/apis/storage.k8s.io/v1/storageclasses'),
    known?.snapshotClasses ?? snapshotClassesOrNone(client),
  ]);
  return {
    pvcs: options.pvcs,
    persistentVolumes,
    storageClasses,
    snapshotClasses: snapshotClasses ?? [],
    snapshotApiServed: snapshotClasses !== undefined,
    backup: { annotations: options.backup.annotations, snapshotVolumes: options.backup.spec.snapshotVolumes },
    ...(options.volumePolicies ? { volumePolicies: options.volumePolicies } : {}),
  };
}

/** The cluster's VolumeSnapshotClasses, or undefined when it has no snapshot API (the CRDs are not installed). */
async function snapshotClassesOrNone(client: KubeClient): Promise<VolumeSnapshotClass[] | undefined> {
  try {
    return await listAll<VolumeSnapshotClass>(client, volumeSnapshotClassesPath());
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

type SnapshotPlan = Extract<CsiSnapshotPlan, { kind: 'snapshot' }>;

/** One snapshot in progress. */
interface Pending {
  index: number;
  plan: SnapshotPlan;
  startedAt: number;
  deadline: number;
  /** Who the created VolumeSnapshot is, even after it vanished. */
  created: { namespace: string; name: string; uid?: string };
  /** As last read; undefined once it has vanished. */
  volumeSnapshot: VolumeSnapshot | undefined;
  /** The driver's last error while the snapshot was still being retried. */
  lastError?: string;
}

/** The state of one takeCsiSnapshots call: the queue, the snapshots in progress, the outcomes. */
class SnapshotRun {
  private readonly client: KubeClient;
  private readonly clock: Clock;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly timeoutText: string;
  private readonly schedule: PollSchedule;
  private readonly labelSelector: string;
  private readonly outcomes: (CsiSnapshotOutcome | undefined)[];
  private readonly queue: { index: number; plan: SnapshotPlan }[] = [];
  private pending: Pending[] = [];
  private readonly cleanups: Promise<void>[] = [];
  private readonly progress: CsiSnapshotProgress;
  private progressChain: Promise<void> = Promise.resolve();
  private lastReported = '';
  /** When a snapshot was last started or settled; the polling backs off from it. */
  private lastChangeAt = 0;

  constructor(
    private readonly options: TakeCsiSnapshotsOptions,
    plans: CsiSnapshotPlan[],
  ) {
    this.client = options.client;
    this.clock = options.clock ?? systemClock;
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.schedule = options.pollSchedule ?? DEFAULT_POLL_SCHEDULE;
    this.labelSelector = backupLabelSelector(options.backup.name);
    const timeout = options.backup.spec.csiSnapshotTimeout;
    const parsed = timeout ? parseDuration(timeout, 'spec.csiSnapshotTimeout') : 0;
    // Velero's server replaces a zero timeout with its default, and so does Skiff.
    this.timeoutMs = parsed > 0 ? parsed : parseDuration(VELERO_DEFAULTS.csiSnapshotTimeout);
    this.timeoutText = formatDuration(this.timeoutMs);
    this.outcomes = plans.map((plan, index) => {
      if (plan.kind === 'skip') return leavesDataUnprotected(plan.reason) ? unsnapshottableOutcome(plan) : skippedOutcome(plan);
      this.queue.push({ index, plan });
      return undefined;
    });
    this.progress = { total: this.queue.length, attempted: 0, completed: 0, failed: 0 };
  }

  /** Milliseconds since the epoch, by the run's clock. */
  private ms(): number {
    return this.clock.now().getTime();
  }

  /** The outcomes, one per plan; 'paused' when the function must stop first (options.shouldPause). */
  async execute(): Promise<CsiSnapshotOutcome[] | 'paused'> {
    await this.adoptEarlierSnapshots();
    let paused = false;
    while (this.queue.length > 0 || this.pending.length > 0) {
      if (this.options.shouldPause?.()) {
        paused = true;
        break;
      }
      await this.startSnapshots();
      if (this.pending.length === 0) continue;
      const now = this.ms();
      await this.clock.sleep(
        nextPollDelayMs(
          {
            now,
            lastChangeAt: this.lastChangeAt,
            earliestDeadlineAt: Math.min(...this.pending.map((p) => p.deadline)),
          },
          this.schedule,
        ),
      );
      await this.look();
    }
    await Promise.all(this.cleanups);
    await this.progressChain;
    return paused ? 'paused' : this.outcomes.map((outcome) => outcome!);
  }

  /**
   * Takes over the VolumeSnapshots an earlier, interrupted run of this backup created
   * (see csi-resume.ts), and deletes extra copies.
   */
  private async adoptEarlierSnapshots(): Promise<void> {
    if (this.queue.length === 0) return;
    const existing = await this.listSnapshots(new Set(this.queue.map((item) => item.plan.pvc.namespace)));
    if (!existing || existing.length === 0) return;
    const now = this.ms();
    const queued = this.queue.splice(0);
    for (const item of queued) {
      const { adopt, discard } = adoptionFor(existing, item.plan.pvc);
      for (const extra of discard) this.cleanups.push(this.discardQuietly(extra));
      if (!adopt) {
        this.queue.push(item);
        continue;
      }
      const startedAt = adoptedStartedAt(adopt, now);
      this.progress.attempted += 1;
      this.pending.push({
        index: item.index,
        plan: item.plan,
        startedAt,
        deadline: startedAt + this.timeoutMs,
        created: { namespace: adopt.metadata.namespace, name: adopt.metadata.name, uid: adopt.metadata.uid },
        volumeSnapshot: adopt,
      });
    }
    if (this.pending.length > 0) {
      logger.info('taking over VolumeSnapshots of an earlier run of this backup', {
        cluster: this.client.cluster,
        backup: this.options.backup.name,
        adopted: this.pending.length,
      });
      this.lastChangeAt = now;
      this.report();
    }
  }

  private async discardQuietly(snapshot: VolumeSnapshot): Promise<void> {
    const problems = await discardVolumeSnapshot(this.client, snapshot, this.discardOptions());
    if (problems.length > 0) {
      logger.warn('could not delete an extra VolumeSnapshot of this backup', { backup: this.options.backup.name, problems });
    }
  }

  /** Creates VolumeSnapshots for queued PVCs while there are free slots. */
  private async startSnapshots(): Promise<void> {
    const batch = this.queue.splice(0, Math.max(0, this.concurrency - this.pending.length));
    if (batch.length === 0) return;
    await Promise.all(batch.map((item) => this.start(item.index, item.plan)));
    this.lastChangeAt = this.ms();
    this.report();
  }

  private async start(index: number, plan: SnapshotPlan): Promise<void> {
    const startedAt = this.ms();
    const manifest = volumeSnapshotFor(
      { ...plan.pvc, labels: plan.labels },
      plan.snapshotClass.metadata.name,
      this.options.backup.name,
    );
    try {
      const created = await createOnce<VolumeSnapshot>(this.client, volumeSnapshotsPath(plan.pvc.namespace), manifest, () =>
        this.findCreated(plan),
      );
      this.progress.attempted += 1;
      this.pending.push({
        index,
        plan,
        startedAt,
        deadline: startedAt + this.timeoutMs,
        created: { namespace: created.metadata.namespace, name: created.metadata.name, uid: created.metadata.uid },
        volumeSnapshot: created,
      });
    } catch (error) {
      this.progress.failed += 1;
      const advice =
        error instanceof KubeAmbiguousWriteError
          ? `look for it with kubectl get volumesnapshots -n ${plan.pvc.namespace} -l ${this.labelSelector} ` +
            'and delete it if it is there'
          : `check that Skiff may create volumesnapshots in namespace ${plan.pvc.namespace}`;
      this.outcomes[index] = {
        kind: 'failed',
        pvc: plan.pvc,
        reason: 'error',
        message:
          `could not create a VolumeSnapshot of PVC ${plan.pvc.namespace}/${plan.pvc.name} (class ${plan.snapshotClass.metadata.name}): ` +
          `${(error as Error).message}; ${advice}`,
        pv: plan.pv,
        notes: plan.notes,
      };
    }
  }

  /**
   * After a create that may have been applied: the PVC's VolumeSnapshot of this backup,
   * if the API server made one (createOnce). More than one (each create applied, but
   * neither answered) is the case csi-resume.ts handles: the best is kept, the others
   * deleted. A failed list throws, so the create is not sent again blindly.
   */
  private async findCreated(plan: SnapshotPlan): Promise<VolumeSnapshot | undefined> {
    const listed = await listAll<VolumeSnapshot>(this.client, volumeSnapshotsPath(plan.pvc.namespace), {
      labelSelector: this.labelSelector,
    });
    const { adopt, discard } = adoptionFor(listed, plan.pvc);
    for (const extra of discard) this.cleanups.push(this.discardQuietly(extra));
    return adopt;
  }

  /** One look at every pending snapshot: one list of their VolumeSnapshots, then settle the finished. */
  private async look(): Promise<void> {
    await this.refreshVolumeSnapshots();
    const verdicts = await Promise.all(
      this.pending.map(async (p) => {
        const elapsedMs = this.ms() - p.startedAt;
        const snapshot = p.volumeSnapshot;
        const content = snapshot && contentNeeded(snapshot, elapsedMs, this.timeoutMs) ? await this.contentOf(snapshot) : undefined;
        const assessment = this.assess(p, content, elapsedMs);
        if (assessment.kind === 'pending' && assessment.error) p.lastError = assessment.error;
        if (assessment.kind === 'ready') await this.complete(p);
        else if (assessment.kind !== 'pending') this.fail(p, assessment.kind, assessment.message);
        return assessment.kind === 'pending';
      }),
    );
    if (verdicts.includes(false)) this.lastChangeAt = this.ms();
    this.pending = this.pending.filter((_, i) => verdicts[i]);
    this.report();
  }

  private assess(p: Pending, content: VolumeSnapshotContent | undefined, elapsedMs: number) {
    return assessSnapshot({
      pvc: p.plan.pvc,
      driver: p.plan.driver,
      volumeSnapshot: p.volumeSnapshot,
      content,
      elapsedMs,
      timeoutMs: this.timeoutMs,
      timeoutText: this.timeoutText,
    });
  }

  /** The bound content of a VolumeSnapshot in trouble; undefined if it cannot be read. */
  private async contentOf(snapshot: VolumeSnapshot): Promise<VolumeSnapshotContent | undefined> {
    const name = snapshot.status!.boundVolumeSnapshotContentName!;
    try {
      return await this.client.get<VolumeSnapshotContent>(volumeSnapshotContentPath(name));
    } catch (error) {
      // Judged without it: the VolumeSnapshot's own error and the deadline still decide.
      logger.warn('could not read a VolumeSnapshotContent', { cluster: this.client.cluster, content: name, error });
      return undefined;
    }
  }

  /**
   * Reads the pending VolumeSnapshots again. When the list fails they keep their last
   * known state, so that deadlines still pass and the next look tries again.
   */
  private async refreshVolumeSnapshots(): Promise<void> {
    const listed = await this.listSnapshots(new Set(this.pending.map((p) => p.plan.pvc.namespace)));
    if (!listed) return;
    const byUid = new Map(listed.map((vs) => [vs.metadata.uid, vs]));
    for (const p of this.pending) p.volumeSnapshot = byUid.get(p.created.uid);
  }

  /** The backup's VolumeSnapshots in these namespaces; undefined when the list failed. */
  private async listSnapshots(namespaces: Set<string>): Promise<VolumeSnapshot[] | undefined> {
    // One namespace needs only namespaced rights; several are cheaper as one cluster-wide list.
    const scope = namespaces.size === 1 ? [...namespaces][0] : undefined;
    try {
      return await listAll<VolumeSnapshot>(this.client, volumeSnapshotsPath(scope), { labelSelector: this.labelSelector });
    } catch (error) {
      logger.warn('could not list the backup\'s VolumeSnapshots; trying again', {
        cluster: this.client.cluster,
        backup: this.options.backup.name,
        error,
      });
      return undefined;
    }
  }

  /**
   * Keeps the ready snapshot for the backup: labels its content and makes it Retain,
   * then annotates the VolumeSnapshot as Velero does. Both patches answer with the
   * object as it now is, which is what the backup stores.
   */
  private async complete(p: Pending): Promise<void> {
    const snapshot = p.volumeSnapshot!;
    const { plan } = p;
    const vsText = `VolumeSnapshot ${snapshot.metadata.namespace}/${snapshot.metadata.name}`;
    const contentName = snapshot.status!.boundVolumeSnapshotContentName!;
    let content: VolumeSnapshotContent;
    try {
      content = await this.client.patch<VolumeSnapshotContent>(
        volumeSnapshotContentPath(contentName),
        retainContentPatch(plan.snapshotClass.deletionPolicy, this.options.backup.name),
        'merge',
      );
    } catch (error) {
      this.fail(
        p,
        'failed',
        `could not label VolumeSnapshotContent ${contentName} of PVC ${plan.pvc.namespace}/${plan.pvc.name} for the backup ` +
          `and set it to Retain: ${(error as Error).message}; Skiff needs patch on volumesnapshotcontents`,
      );
      return;
    }
    if (!content.status?.snapshotHandle) {
      this.fail(p, 'failed', `${vsText} is ready but its VolumeSnapshotContent ${contentName} has no snapshot handle; check the CSI driver ${plan.driver}`);
      return;
    }
    const annotations = volumeSnapshotAnnotations(content);
    const notes = [...plan.notes];
    if (p.lastError) {
      // Said in the backup's warnings and log, so a flaky storage system is noticed.
      notes.push(`the snapshot of PVC ${plan.pvc.namespace}/${plan.pvc.name} recovered after the CSI driver's error "${p.lastError}"`);
    }
    let annotated: VolumeSnapshot;
    try {
      annotated = await this.client.patch<VolumeSnapshot>(
        volumeSnapshotPath(snapshot.metadata.namespace, snapshot.metadata.name),
        { metadata: { annotations } },
        'merge',
      );
    } catch (error) {
      if (isNotFound(error)) {
        // Deleted while its content was still Delete: the storage snapshot may be going too.
        this.fail(p, 'failed', `${vsText} was deleted by someone else before it was kept for the backup; run the backup again`);
        return;
      }
      // The snapshot is kept all the same; only the cluster's copy lacks what the backup's copy has.
      annotated = { ...snapshot, metadata: { ...snapshot.metadata, annotations: { ...snapshot.metadata.annotations, ...annotations } } };
      notes.push(
        `could not annotate ${vsText} with its snapshot handle (${(error as Error).message}); ` +
          'the backup has the annotations, the cluster\'s object does not; Skiff needs patch on volumesnapshots',
      );
    }
    const outcome = completedOutcome({
      plan,
      volumeSnapshot: annotated,
      content,
      backupName: this.options.backup.name,
      notes,
      startedAt: new Date(p.startedAt),
      completedAt: new Date(this.ms()),
    });
    this.progress.completed += 1;
    this.outcomes[p.index] = outcome;
  }

  /** Records the failure and takes back what was created for it, in the background. */
  private fail(p: Pending, kind: 'failed' | 'timed-out', message: string): void {
    this.progress.failed += 1;
    const outcome: FailedSnapshot = {
      kind: 'failed',
      pvc: p.plan.pvc,
      reason: kind,
      message,
      volumeSnapshot: p.created,
      contentName: p.volumeSnapshot?.status?.boundVolumeSnapshotContentName,
      pv: p.plan.pv,
      notes: p.plan.notes,
    };
    this.outcomes[p.index] = outcome;
    logger.warn('CSI snapshot failed; deleting its VolumeSnapshot', {
      cluster: this.client.cluster,
      backup: this.options.backup.name,
      pvc: `${p.plan.pvc.namespace}/${p.plan.pvc.name}`,
      reason: kind,
      message,
    });
    this.cleanups.push(this.discard(p, outcome));
  }

  private async discard(p: Pending, outcome: FailedSnapshot): Promise<void> {
    // A VolumeSnapshot that vanished is deleted again all the same: harmless, and its content is still released.
    const snapshot = p.volumeSnapshot ?? { metadata: p.created };
    const problems = await discardVolumeSnapshot(this.client, snapshot, this.discardOptions());
    if (problems.length > 0) outcome.message += `; cleanup incomplete: ${problems.join('; ')}`;
  }

  private discardOptions(): DiscardOptions {
    return {
      clock: this.clock,
      timeoutMs: this.options.cleanupTimeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS,
      schedule: this.schedule,
    };
  }

  /** Tells the caller the counts, when they changed since the last time. */
  private report(): void {
    const { onProgress } = this.options;
    const key = JSON.stringify(this.progress);
    if (!onProgress || key === this.lastReported) return;
    this.lastReported = key;
    const snapshot = { ...this.progress };
    this.progressChain = this.progressChain
      .then(() => onProgress(snapshot))
      .catch((error: unknown) => logger.warn('could not report CSI snapshot progress', { backup: this.options.backup.name, error }));
  }
}
