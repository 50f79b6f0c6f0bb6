import { createHash } from 'node:crypto';
import type { VolumeSnapshotContent } from '../csi/snapshot-api';
import { BEING_DELETED_ANNOTATION, deletionStalled } from '../csi/stalled-deletion';
import type { ObjectStoreLayout } from '../store/layout';
import { backupLabelValue, BACKUP_NAME_LABEL } from '../velero/labels';
import { isReachable, type ClusterInventory, type ClusterView } from './inventory';
import type { DeletionCandidate, ExpiryAction } from './plan';
import { handleOf, type SnapshotUsage } from './usage';

/**
 * The actions that delete one backup, and what keeps it from finishing, as a pure
 * function of the clusters' inventories. The order (mission, job 4; velero-compat.md):
 *
 *   1. the deletion marker (never a rewrite of velero-backup.json);
 *   2. in every cluster, each content of the backup, unless a live volume may still
 *      depend on its snapshot: deletionPolicy Retain → Delete, then delete the
 *      VolumeSnapshot bound to it, and wait until the content is gone, i.e. the driver
 *      deleted the storage snapshot. A pre-provisioned content no VolumeSnapshot is bound
 *      to (a synced copy) is first claimed by one, at the name its volumeSnapshotRef gives
 *      (moved to namespace default when its own namespace is gone): the
 *      snapshot-controller holds only bound contents with its finalizer, and an unheld
 *      content deleted directly goes at once without the driver deleting anything. A
 *      dynamically provisioned content whose VolumeSnapshot is gone cannot be claimed
 *      again; it is deleted directly and its snapshot freed as a stored snapshot without
 *      a content is: a
 *      stored snapshot without a content anywhere gets a temporary static content with
 *      deletionPolicy Delete, claimed and deleted the same way, to free it (Velero
 *      #4764; Velero 1.16+ creates and deletes such a content in
 *      internal/delete/actions/csi/volumesnapshotcontent_action.go);
 *   3. only when no snapshot is held: the object-store data, the catalog entry, the marker.
 *
 * A failed backup known only by its progress record goes the same way, without a
 * marker (its record keeps it selected until it is removed): its labelled contents,
 * which a failed backup discards itself but a crash may leave, are freed as above; a
 * labelled VolumeSnapshot with no content of the backup bound to it keeps the record
 * and is reported; then the record and its resource-list parts go.
 *
 * Safety rails: only contents labelled velero.io/backup-name for this backup, or whose
 * snapshot handle is in its stored CSI list, are touched (and the VolumeSnapshot bound
 * to such a content); where a cluster could not be read, nothing of a backup that may
 * have snapshots there is touched in this run.
 */

export interface PlannedDeletion {
  /** True when nothing of the backup is touched this run. */
  blocked: boolean;
  actions: ExpiryAction[];
  waitingOn: string[];
}

/** The name of the temporary content for one stored snapshot: the same in every run, so a second create answers 409. */
export function temporaryContentName(backup: string, handle: string): string {
  return `skiff-expiry-${createHash('sha256').update(`${backup}\n${handle}`).digest('hex').slice(0, 24)}`;
}

export function planDeletion(
  candidate: DeletionCandidate,
  views: readonly ClusterView[],
  usage: SnapshotUsage,
  layout: ObjectStoreLayout,
): PlannedDeletion {
  const { backup } = candidate;
  if (candidate.unreadable) {
    return { blocked: true, actions: [], waitingOn: [`${candidate.unreadable}; nothing of it is deleted in this run`] };
  }
  const unreachable = views.filter((v) => !isReachable(v));
  const mayLiveThere = candidate.storedContents.length > 0 || unreachable.some((v) => v.cluster === candidate.cluster);
  if (unreachable.length > 0 && mayLiveThere) {
    return {
      blocked: true,
      actions: [],
      waitingOn: unreachable.map(
        (v) => `cluster ${v.cluster} could not be read (${'unreachable' in v ? v.unreachable : ''}); it may hold snapshots of this backup, so nothing of it is deleted in this run`,
      ),
    };
  }
  const clusters = views.filter(isReachable);
  const actions: ExpiryAction[] = [];
  const waitingOn: string[] = [];
  if (!candidate.marked && !candidate.progressRecord) {
    actions.push({
      kind: 'writeDeletionMarker',
      backup,
      object: layout.deletionMarkerKey(backup),
      cause: candidate.cause,
      why: `the backup shows as Deleting from now on, and a stopped run is continued (${candidate.why})`,
    });
  }
  const storedHandles = new Set(candidate.storedContents.map(handleOf).filter((h): h is string => h !== undefined));
  const found = new Set<string>();
  for (const view of clusters) {
    for (const content of contentsOfBackup(view, backup, storedHandles)) {
      const handle = handleOf(content);
      if (handle) found.add(handle);
      const held = holdOn(content, `cluster ${view.cluster}`, usage, true);
      if (held) {
        waitingOn.push(held);
        continue;
      }
      const taken = refTakenByAnother(view, content);
      if (taken) {
        waitingOn.push(taken);
        continue;
      }
      actions.push(...releaseContent(backup, view, content, handle));
    }
  }
  if (candidate.progressRecord) waitingOn.push(...unboundSnapshotsOf(clusters, backup));
  for (const stored of candidate.storedContents) {
    const handle = handleOf(stored);
    if (!handle || found.has(handle)) continue;
    found.add(handle);
    const held = holdOn(stored, 'the stored CSI list; no cluster has a content of it', usage, false);
    if (held) {
      waitingOn.push(held);
      continue;
    }
    const cluster = clusterForDriver(clusters, stored.spec.driver, candidate.cluster);
    if (!cluster) {
      waitingOn.push(
        `storage snapshot ${handle} has no VolumeSnapshotContent in any cluster, and no configured cluster has its CSI driver ${stored.spec.driver} ` +
          'to free it through; add such a cluster, or delete the snapshot in the storage system and then the backup again',
      );
      continue;
    }
    actions.push(...freeThroughTemporaryContent(backup, cluster, stored.spec.driver, handle));
  }
  if (waitingOn.length === 0) actions.push(...dataActions(candidate, layout));
  return { blocked: false, actions, waitingOn };
}

/** The cluster's contents that belong to the backup: its label, or a handle of its stored CSI list. */
function contentsOfBackup(view: ClusterInventory, backup: string, storedHandles: ReadonlySet<string>): VolumeSnapshotContent[] {
  const label = backupLabelValue(backup);
  return view.contents.filter((c) => {
    if (c.metadata.labels?.[BACKUP_NAME_LABEL] === label) return true;
    const handle = handleOf(c);
    return handle !== undefined && storedHandles.has(handle);
  });
}

/**
 * The VolumeSnapshots labelled for the backup that no content of it is bound to, one
 * sentence each: what they stand for is unknown (a snapshot still being cut?), so the
 * failed backup's record stays and they are reported, never deleted on a guess.
 */
function unboundSnapshotsOf(clusters: readonly ClusterInventory[], backup: string): string[] {
  const label = backupLabelValue(backup);
  const out: string[] = [];
  for (const view of clusters) {
    const ours = new Set(view.contents.filter((c) => c.metadata.labels?.[BACKUP_NAME_LABEL] === label).map((c) => c.metadata.name));
    for (const vs of view.snapshots) {
      if (vs.metadata.labels?.[BACKUP_NAME_LABEL] !== label) continue;
      const bound = vs.status?.boundVolumeSnapshotContentName ?? vs.spec.source.volumeSnapshotContentName;
      if (bound && ours.has(bound)) continue;
      out.push(
        `VolumeSnapshot ${vs.metadata.namespace}/${vs.metadata.name} in cluster ${view.cluster} is labelled for the failed backup but bound to no content of it ` +
          `(${bound ? `it names ${bound}` : 'it names none'}); the progress record is kept until it is gone: delete it by hand once its snapshot is not needed`,
      );
    }
  }
  return out;
}

/**
 * Why a content's snapshot must not be deleted this run, or undefined when it may.
 * `inCluster`: the content is a live object (not one of the stored list), whose driver
 * must have confirmed the snapshot before it is deleted.
 */
function holdOn(content: VolumeSnapshotContent, where: string, usage: SnapshotUsage, inCluster: boolean): string | undefined {
  const handle = handleOf(content);
  const what = `snapshot ${handle ?? '(no handle)'} (VolumeSnapshotContent ${content.metadata.name} in ${where})`;
  const users = handle ? usage.inUse.get(handle) : undefined;
  if (users) {
    return `${what} is the source of ${users.join(', ')}; it is kept while they exist (the storage may still depend on it) and retried next run`;
  }
  const releasing = usage.releasing.get(content.spec.driver);
  if (releasing) {
    return `${what} waits until the volumes of driver ${content.spec.driver} being deleted are gone (${releasing.join(', ')}): one may have been made from it`;
  }
  const unconfirmed = content.spec.source?.snapshotHandle && !content.status?.snapshotHandle && !content.status?.error;
  if (inCluster && unconfirmed && content.metadata.deletionTimestamp === undefined) {
    return `${what} is not confirmed by its driver yet; deleted now, the driver would not be asked to delete the snapshot; retried next run`;
  }
  return undefined;
}

function releaseContent(backup: string, view: ClusterInventory, content: VolumeSnapshotContent, handle: string | undefined): ExpiryAction[] {
  const { cluster } = view;
  const name = content.metadata.name;
  const object = `VolumeSnapshotContent/${name}`;
  const frees = handle ? `frees storage snapshot ${handle}` : 'has no storage snapshot to free';
  const actions: ExpiryAction[] = [];
  if (content.spec.deletionPolicy !== 'Delete') {
    actions.push({ kind: 'setDeletionPolicyDelete', backup, cluster, object, content: name, why: `deleting it then ${frees}` });
  }
  const bound = boundSnapshot(view, content);
  if (content.metadata.deletionTimestamp === undefined) {
    const ref = content.spec.volumeSnapshotRef ?? {};
    if (bound) {
      actions.push(deleteSnapshotAction(backup, cluster, bound, name, `bound to ${object}: the snapshot-controller deletes the content with it (a bound content deleted alone stays stuck)`));
    } else if (handle && !content.spec.source?.snapshotHandle) {
      // Dynamically provisioned (the backup's own content, its VolumeSnapshot deleted, e.g.
      // with its namespace): the snapshot-controller binds a VolumeSnapshot that names a
      // content only to a pre-provisioned one ("expects a pre-provisioned
      // VolumeSnapshotContent"), so it cannot be claimed again. As Velero 1.16+ does, a
      // temporary static content hands the snapshot back to the driver; this one goes
      // directly, which asks the driver nothing (the CSI sidecar deletes snapshots only
      // of bound or pre-provisioned contents).
      actions.push(...freeThroughTemporaryContent(backup, cluster, content.spec.driver, handle));
      actions.push({ kind: 'deleteContent', backup, cluster, object, content: name, why: `bound to no VolumeSnapshot and dynamically provisioned, so it cannot be claimed again: deleted directly, it asks the driver nothing; the temporary content ${frees}` });
    } else if (handle && ref.namespace && ref.name) {
      const namespaceGone = view.namespaces !== undefined && !view.namespaces.includes(ref.namespace);
      if (namespaceGone) {
        // A VolumeSnapshot cannot be made in a deleted namespace (nor should the namespace
        // come back for it): the ref moves to one every cluster has.
        const claim = { namespace: TEMPORARY_SNAPSHOT_NAMESPACE, name };
        const why = `no VolumeSnapshot is bound to ${object} and namespace ${ref.namespace} of its volumeSnapshotRef no longer exists; its ref is moved to ${claim.namespace}/${claim.name}, and a VolumeSnapshot there claims it, so deleting that ${frees}`;
        actions.push(claimAction(backup, cluster, claim, name, why, `${ref.namespace}/${ref.name}`));
        actions.push(deleteSnapshotAction(backup, cluster, claim, name, `the snapshot-controller deletes ${object} with it, and the driver ${frees}`));
      } else {
        const claim = { namespace: ref.namespace, name: ref.name };
        // A uid left in the ref names the VolumeSnapshot that is gone; the snapshot-controller
        // binds a new one only once it is cleared.
        const staleUid = ref.uid ? `${ref.namespace}/${ref.name}` : undefined;
        actions.push(claimAction(backup, cluster, claim, name, `no VolumeSnapshot is bound to ${object}; one that claims it makes the snapshot-controller hold it, so deleting it ${frees}`, staleUid));
        actions.push(deleteSnapshotAction(backup, cluster, claim, name, `the snapshot-controller deletes ${object} with it, and the driver ${frees}`));
      }
    } else {
      actions.push({ kind: 'deleteContent', backup, cluster, object, content: name, why: `no VolumeSnapshot is bound to it and it ${frees}` });
    }
  } else if (bound) {
    // Deleted while bound: the CSI sidecar acts only once the snapshot-controller marks it, which it does when the VolumeSnapshot goes.
    actions.push(deleteSnapshotAction(backup, cluster, bound, name, `${object} is being deleted while bound to it; the snapshot-controller lets the driver delete the content only once it goes`));
  } else if (deletionStalled(content, view.snapshots)) {
    const why = `being deleted, but without the snapshot-controller's ${BEING_DELETED_ANNOTATION} annotation and with its VolumeSnapshot gone, so the CSI sidecar would never act on it; set as the controller meant to, deleting it then ${frees}`;
    actions.push({ kind: 'setBeingDeletedAnnotation', backup, cluster, object, content: name, why });
  }
  actions.push({ kind: 'waitUntilContentGone', backup, cluster, object, content: name, why: `gone means the driver ${handle ? 'deleted the storage snapshot' : 'let it go'}` });
  return actions;
}

function deleteSnapshotAction(backup: string, cluster: string, vs: { namespace: string; name: string }, content: string, why: string): ExpiryAction {
  return { kind: 'deleteVolumeSnapshot', backup, cluster, object: `VolumeSnapshot/${vs.namespace}/${vs.name}`, namespace: vs.namespace, name: vs.name, content, why };
}

function claimAction(backup: string, cluster: string, vs: { namespace: string; name: string }, content: string, why: string, repointFrom?: string): ExpiryAction {
  return { kind: 'claimContent', backup, cluster, object: `VolumeSnapshot/${vs.namespace}/${vs.name}`, namespace: vs.namespace, name: vs.name, content, why, ...(repointFrom ? { repointFrom } : {}) };
}

/**
 * Why an unbound content cannot be claimed at the name its volumeSnapshotRef gives
 * (another VolumeSnapshot of that name claims something else), or undefined.
 */
function refTakenByAnother(view: ClusterInventory, content: VolumeSnapshotContent): string | undefined {
  if (content.metadata.deletionTimestamp !== undefined || boundSnapshot(view, content)) return undefined;
  const { namespace, name } = content.spec.volumeSnapshotRef ?? {};
  const vs = view.snapshots.find((s) => s.metadata.namespace === namespace && s.metadata.name === name);
  if (!vs) return undefined;
  return (
    `VolumeSnapshotContent ${content.metadata.name} in cluster ${view.cluster} is bound to no VolumeSnapshot, and VolumeSnapshot ${namespace}/${name}, ` +
    'which its volumeSnapshotRef names, claims another content; it is left as it is: free its snapshot by hand or delete that VolumeSnapshot'
  );
}

/** The VolumeSnapshot bound to the content, both ways, or undefined. */
function boundSnapshot(view: ClusterInventory, content: VolumeSnapshotContent): { namespace: string; name: string } | undefined {
  const { namespace, name } = content.spec.volumeSnapshotRef ?? {};
  if (!namespace || !name) return undefined;
  const vs = view.snapshots.find((s) => s.metadata.namespace === namespace && s.metadata.name === name);
  if (!vs) return undefined;
  const bindsIt = vs.status?.boundVolumeSnapshotContentName === content.metadata.name || vs.spec.source.volumeSnapshotContentName === content.metadata.name;
  return bindsIt ? { namespace, name } : undefined;
}

/** The backup's own cluster when it has the driver, else the first (by name) that has it. */
function clusterForDriver(clusters: readonly ClusterInventory[], driver: string, preferred: string | undefined): string | undefined {
  const withDriver = clusters.filter((c) => c.drivers.includes(driver)).map((c) => c.cluster).sort();
  return preferred && withDriver.includes(preferred) ? preferred : withDriver[0];
}

/** Where temporary contents' VolumeSnapshots are made: a namespace every cluster has. */
export const TEMPORARY_SNAPSHOT_NAMESPACE = 'default';

function freeThroughTemporaryContent(backup: string, cluster: string, driver: string, handle: string): ExpiryAction[] {
  const content = temporaryContentName(backup, handle);
  const object = `VolumeSnapshotContent/${content}`;
  const claim = { namespace: TEMPORARY_SNAPSHOT_NAMESPACE, name: content };
  return [
    {
      kind: 'createTemporaryContent',
      backup,
      cluster,
      object,
      content,
      driver,
      handle,
      why: `storage snapshot ${handle} has no VolumeSnapshotContent in any cluster; a static one with deletionPolicy Delete hands it back to driver ${driver} (Velero #4764)`,
    },
    claimAction(backup, cluster, claim, content, `claims ${object}, so the snapshot-controller holds it until the driver deleted the snapshot`),
    deleteSnapshotAction(backup, cluster, claim, content, `the snapshot-controller deletes ${object} with it, and the driver frees storage snapshot ${handle}`),
    { kind: 'waitUntilContentGone', backup, cluster, object, content, why: 'gone means the driver deleted the storage snapshot' },
  ];
}

function failedBackupDataAction(backup: string, layout: ObjectStoreLayout): ExpiryAction {
  return {
    kind: 'deleteBackupData',
    backup,
    object: layout.backupDir(backup),
    why: 'no snapshot of the failed backup is left; the objects it uploaded before failing go (it has no velero-backup.json)',
  };
}

function dataActions(candidate: DeletionCandidate, layout: ObjectStoreLayout): ExpiryAction[] {
  const { backup } = candidate;
  if (candidate.progressRecord) {
    const { resourceListParts } = candidate.progressRecord;
    // The record goes last: while it is there, the next run finds what is left.
    return [
      ...(candidate.hasData ? [failedBackupDataAction(backup, layout)] : []),
      {
        kind: 'deleteProgressRecord',
        backup,
        object: layout.backupInProgressKey(backup),
        resourceListParts,
        why: `no snapshot of the failed backup is left; its progress record goes${resourceListParts > 0 ? ` with its ${resourceListParts} resource-list part(s), in one DeleteObjects` : ''}`,
      },
    ];
  }
  const actions: ExpiryAction[] = [];
  if (candidate.hasData) {
    actions.push({
      kind: 'deleteBackupData',
      backup,
      object: layout.backupDir(backup),
      why: 'every snapshot of the backup is gone; its objects go (1 LIST + 1 DeleteObjects per 1,000 keys, velero-backup.json first)',
    });
  }
  if (candidate.inCatalog) {
    actions.push({ kind: 'removeCatalogEntry', backup, object: layout.catalogKey(), why: 'the backup no longer exists' });
  }
  actions.push({ kind: 'deleteDeletionMarker', backup, object: layout.deletionMarkerKey(backup), why: 'the deletion is complete' });
  return actions;
}
