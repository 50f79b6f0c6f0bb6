/**
 * The csi-snapshotter sidecar of both drivers, for one cluster. It follows
 * external-snapshotter v8.7.0's sidecar controller step by step, because the bugs
 * Skiff must not have (snapshot storms, orphaned storage snapshots, contents stuck
 * on finalizers) live in exactly these details:
 *
 * - A content is deleted on the storage only when the API says so: it has a
 *   deletionTimestamp and either is an unbound pre-provisioned content, or carries
 *   the `volumesnapshot-being-deleted` annotation the snapshot-controller sets; never
 *   while `volumesnapshot-being-created` is set.
 * - deletionPolicy Delete calls DeleteSnapshot only when `status.snapshotHandle` is
 *   set, then clears the status, then removes the finalizer; Retain just removes
 *   the finalizer. (The finalizer itself is added by the snapshot-controller.) A
 *   failed DeleteSnapshot keeps the handle and the finalizer and is retried.
 * - Dynamic contents (`source.volumeHandle`) with no status get a new snapshot;
 *   pre-provisioned ones (`source.snapshotHandle`) are only looked up, never
 *   created: a content that asks for a snapshot that does not exist gets
 *   `readyToUse: false` and an error, as ListSnapshots would answer.
 */

import type { ControllerDeps } from './deps';
import { EventRecorder } from './events';
import type { Cluster } from './kube';
import { errorText, isConflict, pointer, resourcePath } from './kube';
import type { SnapshotRecord } from './ledger';
import { StorageError } from './ledger';
import { log, RepeatLog } from './log';
import type { Personality } from './personalities';
import { personalityFor } from './personalities';
import { Reflector } from './reflector';
import { sleep } from './time';
import type { KubeObject, VolumeSnapshotClass, VolumeSnapshotContent, VolumeSnapshotContentStatus } from './types';
import { WorkQueue } from './workqueue';

const GROUP_VERSION = 'snapshot.storage.k8s.io/v1';
export const CONTENT_FINALIZER = 'snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection';
export const ANN_BEING_DELETED = 'snapshot.storage.kubernetes.io/volumesnapshot-being-deleted';
export const ANN_BEING_CREATED = 'snapshot.storage.kubernetes.io/volumesnapshot-being-created';
const ANN_GROUP_MEMBER = 'groupsnapshot.storage.k8s.io/volumeGroupSnapshotHandle';
const ANN_DELETION_SECRET_NAME = 'snapshot.storage.kubernetes.io/deletion-secret-name';
const ANN_DELETION_SECRET_NAMESPACE = 'snapshot.storage.kubernetes.io/deletion-secret-namespace';


/** The sidecar's shouldDelete, verbatim in meaning. */
export function contentShouldBeDeleted(content: VolumeSnapshotContent): boolean {
  const meta = content.metadata;
  if (!meta.deletionTimestamp) return false;
  if (content.spec.source.snapshotHandle !== undefined && !content.spec.volumeSnapshotRef?.uid) return true;
  if (meta.annotations?.[ANN_BEING_CREATED] !== undefined) return false;
  return meta.annotations?.[ANN_BEING_DELETED] !== undefined;
}

function contentIsReady(content: VolumeSnapshotContent): boolean {
  return content.status?.readyToUse === true;
}

function contentPath(name: string, subresource?: string): string {
  return resourcePath(GROUP_VERSION, 'volumesnapshotcontents', { name, ...(subresource ? { subresource } : {}) });
}

function ref(content: KubeObject): string {
  return `VolumeSnapshotContent/${content.metadata.name}`;
}

export class Snapshotter {
  private readonly contents: Reflector<VolumeSnapshotContent>;
  private readonly classes: Reflector<VolumeSnapshotClass>;
  private readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;
  /** Last storage problem noted in the ledger per content, so retries do not flood it. */
  private readonly noted = new Map<string, string>();

  constructor(private readonly deps: ControllerDeps) {
    const { cluster, resyncMs } = deps;
    this.recorder = new EventRecorder(cluster, 'csi-snapshotter');
    const failures = new RepeatLog(cluster.name);
    this.queue = new WorkQueue((key) => this.sync(key), {
      isTransient: isConflict,
      onError: (key, err) => failures.failed(`content ${key}`, errorText(err)),
    });
    this.contents = new Reflector<VolumeSnapshotContent>({
      cluster,
      path: resourcePath(GROUP_VERSION, 'volumesnapshotcontents'),
      apiVersion: GROUP_VERSION,
      kind: 'VolumeSnapshotContent',
      resyncMs,
      onKey: (key) => this.queue.add(key),
    });
    this.classes = new Reflector<VolumeSnapshotClass>({
      cluster,
      path: resourcePath(GROUP_VERSION, 'volumesnapshotclasses'),
      apiVersion: GROUP_VERSION,
      kind: 'VolumeSnapshotClass',
      // Classes change rarely; contents are looked at again on their own resync.
      resyncMs: resyncMs * 5,
      onKey: () => {},
    });
  }

  async start(): Promise<void> {
    await this.classes.start();
    await this.contents.start();
  }

  stop(): void {
    this.queue.stop();
    this.contents.stop();
    this.classes.stop();
  }

  private get cluster(): Cluster {
    return this.deps.cluster;
  }

  /** The sidecar's isDriverMatch: our driver, a source, and a class of our driver if one is named. */
  private personalityOf(content: VolumeSnapshotContent): Personality | undefined {
    const personality = personalityFor(content.spec?.driver);
    if (!personality) return undefined;
    const source = content.spec.source ?? {};
    if (source.volumeHandle === undefined && source.snapshotHandle === undefined) return undefined;
    const className = content.spec.volumeSnapshotClassName;
    const cls = className ? this.classes.get(className) : undefined;
    if (cls && cls.driver !== personality.driver) return undefined;
    return personality;
  }

  private async sync(name: string): Promise<void> {
    const cached = this.contents.get(name);
    if (!cached) {
      this.noted.delete(name);
      return;
    }
    const personality = this.personalityOf(cached);
    if (!personality) return;
    // Ready contents that nobody deletes need nothing (the common case on resync).
    if (!contentShouldBeDeleted(cached) && contentIsReady(cached) && cached.metadata.annotations?.[ANN_BEING_CREATED] === undefined) {
      return;
    }
    // Act on the current object, not on a cache entry that may be a step behind.
    const content = await this.cluster.find<VolumeSnapshotContent>(contentPath(name));
    if (!content) return;

    if (contentShouldBeDeleted(content)) {
      await this.deleteContent(content, personality);
      return;
    }
    const groupMember = content.metadata.annotations?.[ANN_GROUP_MEMBER] !== undefined;
    if (content.spec.source.volumeHandle !== undefined && !content.status && !groupMember) {
      await this.createSnapshot(content, personality);
      return;
    }
    if (contentIsReady(content)) {
      await this.removeBeingCreated(content);
      return;
    }
    if (content.spec.source.snapshotHandle !== undefined) {
      await this.checkPreProvisioned(content, personality);
      return;
    }
    if (!groupMember) await this.createSnapshot(content, personality);
  }

  // ----- creation -------------------------------------------------------------

  private async createSnapshot(content: VolumeSnapshotContent, personality: Personality): Promise<void> {
    const name = content.metadata.name;
    let current = content;
    try {
      const className = content.spec.volumeSnapshotClassName;
      if (!className) throw new Error(`failed to take snapshot ${name} without a snapshot class`);
      const cls =
        this.classes.get(className) ??
        (await this.cluster.find<VolumeSnapshotClass>(resourcePath(GROUP_VERSION, 'volumesnapshotclasses', { name: className })));
      if (!cls) throw new Error(`failed to get input parameters to create snapshot for content ${name}: volumesnapshotclass "${className}" not found`);
      const vsUid = content.spec.volumeSnapshotRef?.uid;
      if (!vsUid) throw new Error(`cannot create snapshot. Snapshot content ${name} not bound to a snapshot`);

      // Tells the snapshot-controller a CreateSnapshot call is in flight: the
      // content must not be deleted until the storage has answered.
      current = await this.setBeingCreated(current);
      await sleep(this.deps.config.current.snapshotDelayMs);

      const snapshot = this.cutSnapshot(current, personality, `snapshot-${vsUid}`);
      current = await this.updateStatus(current, snapshot.handle, snapshot);
      await this.removeBeingCreated(current);
      this.noted.delete(name);
      log(this.cluster.name, `snapshot ${snapshot.handle} of ${snapshot.sourceVolume} ready for ${name}`);
    } catch (err) {
      // Someone else changed the content meanwhile: look again, nothing failed.
      if (isConflict(err)) throw err;
      const message = `Failed to create snapshot: ${errorText(err)}`;
      // A final answer of the storage ends the in-flight state. Failures of API
      // calls leave the annotation, as the sidecar does when it cannot tell whether
      // the storage cut a snapshot.
      if (err instanceof StorageError) {
        await this.removeBeingCreated(current).catch(() => undefined);
        this.note(name, 'SnapshotCreateFailed', message, current.spec.source.volumeHandle);
      }
      await this.setErrorStatus(current, message);
      this.recorder.warning(current, 'SnapshotCreationFailed', message);
      throw err;
    }
  }

  /** CreateSnapshot on the storage. */
  private cutSnapshot(content: VolumeSnapshotContent, personality: Personality, requestName: string): SnapshotRecord {
    const { ledger, config } = this.deps;
    const volumeHandle = content.spec.source.volumeHandle!;
    const volume = ledger.volume(volumeHandle);
    if (!volume || volume.driver !== personality.driver) {
      throw new StorageError('NotFound', `volume ${volumeHandle} not found`);
    }
    if (config.snapshotFails(volume.claim)) {
      throw new StorageError(
        'Internal',
        `injected failure: snapshots of PVC ${volume.claim?.namespace}/${volume.claim?.name} fail (failSnapshotsFor)`,
      );
    }
    // A retry of the same request finds the snapshot cut before (CSI idempotency).
    const fresh = personality.newSnapshot(volumeHandle, requestName);
    return ledger.createSnapshot(
      {
        handle: fresh.handle,
        name: requestName,
        driver: personality.driver,
        sourceVolume: volumeHandle,
        cluster: this.cluster.name,
        ...(fresh.backupVolume !== undefined ? { backupVolume: fresh.backupVolume } : {}),
        ...(fresh.backupName !== undefined ? { backupName: fresh.backupName } : {}),
      },
      { cluster: this.cluster.name, object: ref(content) },
    );
  }

  // ----- pre-provisioned contents -----------------------------------------------

  private async checkPreProvisioned(content: VolumeSnapshotContent, personality: Personality): Promise<void> {
    const name = content.metadata.name;
    const handle = content.status?.snapshotHandle ?? content.spec.source.snapshotHandle!;
    const lookup = personality.resolveSnapshotHandle(handle);
    const snapshot = lookup.ok ? this.deps.ledger.snapshot(lookup.key) : undefined;
    if (!snapshot || snapshot.driver !== personality.driver) {
      const reason = lookup.ok ? `snapshot ${handle} not found` : lookup.reason;
      const message = `Failed to check and update snapshot content: failed to list snapshot for content ${name}: "rpc error: code = NotFound desc = ${reason}"`;
      this.note(name, 'SnapshotNotFound', reason, handle);
      await this.setErrorStatus(content, message);
      this.recorder.warning(content, 'SnapshotContentCheckandUpdateFailed', message);
      throw new Error(message);
    }
    // The status keeps the handle as the content names it (a legacy `bs://` stays `bs://`).
    await this.updateStatus(content, handle, snapshot);
    this.noted.delete(name);
    log(this.cluster.name, `pre-provisioned content ${name} ready: ${handle}`);
  }

  // ----- deletion -----------------------------------------------------------------

  private async deleteContent(content: VolumeSnapshotContent, personality: Personality): Promise<void> {
    const name = content.metadata.name;
    const handle = content.status?.snapshotHandle ?? undefined;
    let current = content;
    if (content.spec.deletionPolicy === 'Delete' && handle && !content.status?.volumeGroupSnapshotHandle) {
      try {
        await this.deletionCredentials(content);
      } catch (err) {
        this.recorder.warning(content, 'SnapshotDeleteError', 'Failed to get snapshot credentials');
        throw err;
      }
      await sleep(this.deps.config.current.deleteDelayMs);
      await this.deleteSnapshot(content, personality, handle);
      // With the handle cleared a retry cannot delete twice.
      current = await this.clearStatus(name);
    } else if (content.spec.deletionPolicy === 'Delete' && !content.status?.volumeGroupSnapshotHandle) {
      // No handle in the status: the sidecar removes the finalizer without calling
      // the storage, so whatever the content pointed at stays (an orphan, if it existed).
      const target = content.spec.source.snapshotHandle ?? content.spec.source.volumeHandle;
      this.note(name, 'SnapshotDeleteSkipped', 'content has no status.snapshotHandle; storage not called', target);
    }
    if (await this.cluster.removeFinalizer(contentPath(name), CONTENT_FINALIZER)) {
      log(this.cluster.name, `content ${name} released (${current.spec.deletionPolicy})`);
    }
    this.noted.delete(name);
  }

  /**
   * deleteCSISnapshotOperation's storage step. A refusal leaves everything as it
   * was (handle, finalizer) and is thrown, so the queue retries with backoff until
   * the storage agrees; the content is never released over a snapshot it still holds.
   */
  private async deleteSnapshot(content: VolumeSnapshotContent, personality: Personality, handle: string): Promise<void> {
    try {
      this.dropSnapshot(content, personality, handle);
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      const message = `Failed to delete snapshot: ${errorText(err)}`;
      // As v8.7.0's sidecar: an event only, no error in the content's status
      // (pkg/sidecar-controller/snapshot_controller.go); the ledger keeps the reason.
      this.note(content.metadata.name, 'SnapshotDeleteFailed', message, handle);
      this.recorder.warning(content, 'SnapshotDeleteError', 'Failed to delete snapshot');
      throw err;
    }
  }

  /** DeleteSnapshot on the storage. */
  private dropSnapshot(content: VolumeSnapshotContent, personality: Personality, handle: string): void {
    const { ledger, config } = this.deps;
    const name = content.metadata.name;
    const lookup = personality.resolveSnapshotHandle(handle);
    const ctx = { cluster: this.cluster.name, object: ref(content) };
    if (!lookup.ok) {
      ledger.note('SnapshotDeleteNotFound', ctx, { snapshot: handle, message: lookup.reason });
      return;
    }
    // By the source volume's claim even when that volume is gone: backups expire
    // after the namespace they were taken in has been deleted.
    const claim = ledger.snapshotSourceClaim(lookup.key);
    if (claim && config.deleteFails(claim)) {
      throw new StorageError(
        'Internal',
        `injected failure: deletes of snapshots of PVC ${claim.namespace}/${claim.name} fail (failDeletesFor)`,
      );
    }
    const { deleted, split } = ledger.deleteSnapshot(lookup.key, ctx);
    log(
      this.cluster.name,
      deleted
        ? `deleted snapshot ${handle} for ${name}${split.length ? `; split clones ${split.join(', ')}` : ''}`
        : `snapshot ${handle} of ${name} was already gone`,
    );
  }

  /** Deletion secrets named by annotations must be readable, as for the real sidecar; their data is never used or logged. */
  private async deletionCredentials(content: VolumeSnapshotContent): Promise<void> {
    const annotations = content.metadata.annotations ?? {};
    if (!(ANN_DELETION_SECRET_NAME in annotations) || !(ANN_DELETION_SECRET_NAMESPACE in annotations)) return;
    const name = annotations[ANN_DELETION_SECRET_NAME];
    const namespace = annotations[ANN_DELETION_SECRET_NAMESPACE];
    if (!name || !namespace) {
      throw new Error(`cannot retrieve secrets for snapshot content ${content.metadata.name}: secret name or namespace not specified`);
    }
    const secret = await this.cluster.find(resourcePath('v1', 'secrets', { namespace, name }));
    if (!secret) throw new Error(`cannot get credentials for snapshot content ${content.metadata.name}`);
  }

  // ----- API writes -----------------------------------------------------------------

  private async setBeingCreated(content: VolumeSnapshotContent): Promise<VolumeSnapshotContent> {
    if (content.metadata.annotations?.[ANN_BEING_CREATED] !== undefined) return content;
    const annotations = { ...(content.metadata.annotations ?? {}), [ANN_BEING_CREATED]: 'yes' };
    return this.cluster.patchIfUnchanged<VolumeSnapshotContent>(contentPath(content.metadata.name), content.metadata.resourceVersion, [
      { op: 'add', path: '/metadata/annotations', value: annotations },
    ]);
  }

  private async removeBeingCreated(content: VolumeSnapshotContent): Promise<VolumeSnapshotContent> {
    if (content.metadata.annotations?.[ANN_BEING_CREATED] === undefined) return content;
    try {
      return await this.cluster.patch<VolumeSnapshotContent>(contentPath(content.metadata.name), [
        { op: 'remove', path: `/metadata/annotations/${pointer(ANN_BEING_CREATED)}` },
      ]);
    } catch (err) {
      // Someone else removed it between our read and the patch (422: path missing).
      const fresh = await this.cluster.find<VolumeSnapshotContent>(contentPath(content.metadata.name));
      if (fresh && fresh.metadata.annotations?.[ANN_BEING_CREATED] === undefined) return fresh;
      throw err;
    }
  }

  /** updateSnapshotContentStatus: fills what is missing, never overwrites a handle. */
  private async updateStatus(
    content: VolumeSnapshotContent,
    handle: string,
    snapshot: SnapshotRecord,
  ): Promise<VolumeSnapshotContent> {
    const name = content.metadata.name;
    const fresh = (await this.cluster.find<VolumeSnapshotContent>(contentPath(name))) ?? content;
    const createdAtNs = Date.parse(snapshot.createdAt) * 1e6;
    const status: VolumeSnapshotContentStatus = { ...(fresh.status ?? {}) };
    let updated = !fresh.status;
    if (status.snapshotHandle == null) {
      status.snapshotHandle = handle;
      updated = true;
    }
    if (status.readyToUse !== true) {
      status.readyToUse = true;
      delete status.error;
      updated = true;
    }
    if (status.creationTime == null) {
      status.creationTime = createdAtNs;
      updated = true;
    }
    if (status.restoreSize == null && snapshot.sizeBytes > 0) {
      status.restoreSize = snapshot.sizeBytes;
      updated = true;
    }
    if (!updated) return fresh;
    return this.cluster.patchIfUnchanged<VolumeSnapshotContent>(contentPath(name, 'status'), fresh.metadata.resourceVersion, [
      { op: 'add', path: '/status', value: status },
    ]);
  }

  /** updateContentErrorStatusWithEvent: readyToUse false plus the error, unless the same error is already there. */
  private async setErrorStatus(content: VolumeSnapshotContent, message: string): Promise<void> {
    const fresh = await this.cluster.find<VolumeSnapshotContent>(contentPath(content.metadata.name));
    if (!fresh) return;
    if (fresh.status?.error?.message === message) return;
    const error = { time: new Date().toISOString(), message };
    const status: VolumeSnapshotContentStatus = fresh.status
      ? { ...fresh.status, error, readyToUse: false }
      : { readyToUse: false, error };
    try {
      await this.cluster.patchIfUnchanged(contentPath(fresh.metadata.name, 'status'), fresh.metadata.resourceVersion, [
        { op: 'add', path: '/status', value: status },
      ]);
    } catch (err) {
      log(this.cluster.name, `content ${fresh.metadata.name}: error status not written: ${errorText(err)}`);
    }
  }

  /** clearVolumeContentStatus: after DeleteSnapshot the status forgets the snapshot. */
  private async clearStatus(name: string): Promise<VolumeSnapshotContent> {
    const fresh = await this.cluster.get<VolumeSnapshotContent>(contentPath(name));
    if (!fresh.status) return fresh;
    const status = { ...fresh.status };
    delete status.snapshotHandle;
    delete status.readyToUse;
    delete status.creationTime;
    delete status.restoreSize;
    return this.cluster.put<VolumeSnapshotContent>(contentPath(name, 'status'), { ...fresh, status });
  }

  private note(
    name: string,
    type: 'SnapshotCreateFailed' | 'SnapshotNotFound' | 'SnapshotDeleteSkipped' | 'SnapshotDeleteFailed',
    message: string,
    target?: string,
  ): void {
    const key = `${type}|${message}`;
    if (this.noted.get(name) === key) return;
    this.noted.set(name, key);
    this.deps.ledger.note(
      type,
      { cluster: this.cluster.name, object: `VolumeSnapshotContent/${name}` },
      { message, ...(target !== undefined ? (type === 'SnapshotCreateFailed' ? { volume: target } : { snapshot: target }) : {}) },
    );
  }
}
