import { staticContentFor, staticVolumeSnapshotFor } from '../csi/builders';
import type { MergePatch } from '../csi/deletion-policy';
import { checkHandle, hasStorageRecords } from '../csi/handles';
import { volumeSnapshotContentPath, volumeSnapshotContentsPath, volumeSnapshotPath, volumeSnapshotsPath, type VolumeSnapshot, type VolumeSnapshotContent } from '../csi/snapshot-api';
import type { KubeClient } from '../kube/client';
import { isAlreadyExists, isNotFound } from '../kube/errors';
import type { CatalogEntry } from '../store/catalog';
import {
  backupLabelValue,
  BACKUP_NAME_LABEL,
  DELETION_SECRET_NAME_ANNOTATION,
  DELETION_SECRET_NAMESPACE_ANNOTATION,
  REPLACED_BY_ANNOTATION,
  REPLACES_ANNOTATION,
  RETIRED_BACKUP_ANNOTATION,
} from '../velero/labels';
import type { Watched } from './contents';
import { placeholderSnapshotRef, syncedContentName, type HeldContents } from './decisions';
import type { ClusterSyncResult } from './report';
import { storageRecords } from './storage-records';

/**
 * Contents already in a cluster whose snapshot handle is wrong for their driver
 * (source document 001, Harvester #7539: Longhorn contents written as
 * `bs://<pvcName>/<backup>` restore nothing elsewhere and, deleted, orphan the storage
 * backup). A content's `spec.source` cannot be edited, so a repair creates a correct
 * content with the handle from the storage system's records (and a VolumeSnapshot for
 * it where the wrong one was bound to one), and retires the wrong content: Retain, so
 * the storage backup is never deleted through it, and without its backup label, so
 * expiry acts on the correct one only. Nothing is deleted.
 */

/** A content found with a wrong handle, and the right handle when the records give it. */
export interface WrongContent {
  content: VolumeSnapshotContent;
  /** The catalogued backup it is labelled for. */
  backup: string;
  handle: string;
  repair?: string;
  reason: string;
}

/**
 * Checks the handles of the contents the cluster holds for catalogued backups and
 * reports the wrong ones in `result.wrongHandles`. Only contents whose handle already
 * looks wrong by its shape cost a LIST of the storage system's records.
 */
export async function findWrongHandles(
  client: KubeClient,
  cluster: string,
  contents: readonly VolumeSnapshotContent[],
  entries: readonly CatalogEntry[],
  result: ClusterSyncResult,
): Promise<WrongContent[]> {
  const byLabel = new Map(entries.map((e) => [backupLabelValue(e.name), e.name]));
  const suspects = contents.flatMap((content) => {
    const backup = byLabel.get(content.metadata.labels?.[BACKUP_NAME_LABEL] ?? '');
    const handle = content.status?.snapshotHandle ?? content.spec.source?.snapshotHandle;
    if (backup === undefined || !handle) return [];
    const verdict = checkHandle(content.spec.driver, handle);
    return verdict.kind === 'wrong' || verdict.kind === 'malformed' ? [{ content, backup, handle }] : [];
  });
  if (suspects.length === 0) return [];
  const records = suspects.some((s) => hasStorageRecords(s.content.spec.driver)) ? await storageRecords(client, result, cluster) : undefined;
  const wrong: WrongContent[] = [];
  for (const { content, backup, handle } of suspects) {
    const verdict = checkHandle(content.spec.driver, handle, records);
    if (verdict.kind !== 'wrong' && verdict.kind !== 'malformed') continue;
    const repair = verdict.kind === 'wrong' ? verdict.repair : undefined;
    result.wrongHandles.push({ content: content.metadata.name, backup, handle, reason: verdict.reason, ...(repair ? { repair } : {}) });
    wrong.push({ content, backup, handle, reason: verdict.reason, ...(repair ? { repair } : {}) });
  }
  return wrong;
}

/** The name of the VolumeSnapshot made in place of one bound to a wrong content. */
export function repairedSnapshotName(name: string): string {
  return `${name.slice(0, 253 - '-repaired'.length)}-repaired`;
}

/**
 * Repairs each wrong content whose right handle is known; returns the contents to wait
 * for. Failures are reported and leave the wrong content as it was (it is tried again
 * in the next run).
 */
export async function repairWrongContents(
  client: KubeClient,
  cluster: string,
  wrong: readonly WrongContent[],
  held: HeldContents,
  result: ClusterSyncResult,
): Promise<Watched[]> {
  const toWatch: Watched[] = [];
  for (const w of wrong) {
    if (!w.repair) continue;
    try {
      toWatch.push(await repairOne(client, cluster, w as WrongContent & { repair: string }, held, result));
    } catch (error) {
      result.problems.push(`could not repair ${w.content.metadata.name} (backup ${w.backup}, handle ${w.handle}): ${(error as Error).message}; left as it was`);
    }
  }
  return toWatch;
}

async function repairOne(
  client: KubeClient,
  cluster: string,
  w: WrongContent & { repair: string },
  held: HeldContents,
  result: ClusterSyncResult,
): Promise<Watched> {
  const old = w.content;
  const name = syncedContentName(w.backup, w.repair);
  const boundTo = await boundSnapshot(client, old);
  const snapshot = boundTo ? { namespace: boundTo.metadata.namespace, name: repairedSnapshotName(boundTo.metadata.name) } : undefined;
  // The right content may exist already (made by sync from the stored list, now or
  // earlier): then it is handed to the new VolumeSnapshot when nothing claimed it yet.
  const created =
    !held.names.has(name) &&
    (await createIfMissing(client, volumeSnapshotContentsPath(), {
      ...staticContentFor({
        name,
        driver: old.spec.driver,
        snapshotHandle: w.repair,
        deletionPolicy: 'Retain',
        volumeSnapshotRef: snapshot ?? placeholderSnapshotRef(name),
        ...(old.spec.volumeSnapshotClassName ? { volumeSnapshotClassName: old.spec.volumeSnapshotClassName } : {}),
        labels: { [BACKUP_NAME_LABEL]: backupLabelValue(w.backup) },
        annotations: { ...deletionSecretOf(old), [REPLACES_ANNOTATION]: old.metadata.name },
      }),
    }));
  if (!created && snapshot) {
    const existing = await client.get<VolumeSnapshotContent>(volumeSnapshotContentPath(name));
    const ref = existing.spec.volumeSnapshotRef;
    const ours = ref?.namespace === snapshot.namespace && ref.name === snapshot.name;
    if (ref?.uid && !ours) throw new Error(`the right content ${name} is bound to ${ref.namespace}/${ref.name} already`);
    if (!ours) await client.patch(volumeSnapshotContentPath(name), { spec: { volumeSnapshotRef: snapshot } });
  }
  if (snapshot && boundTo) {
    await createIfMissing(
      client,
      volumeSnapshotsPath(snapshot.namespace),
      staticVolumeSnapshotFor({ ...snapshot, contentName: name, ...(boundTo.metadata.labels ? { labels: boundTo.metadata.labels } : {}) }),
    );
  }
  const retire: MergePatch = {
    metadata: {
      labels: { [BACKUP_NAME_LABEL]: null },
      annotations: { [REPLACED_BY_ANNOTATION]: name, [RETIRED_BACKUP_ANNOTATION]: backupLabelValue(w.backup) },
    },
    spec: { deletionPolicy: 'Retain' },
  };
  await client.patch(volumeSnapshotContentPath(old.metadata.name), retire);
  result.repairs.push({
    backup: w.backup,
    storedContent: old.metadata.name,
    content: name,
    oldHandle: w.handle,
    newHandle: w.repair,
    cluster,
    reason: w.reason,
    retired: old.metadata.name,
    ...(snapshot ? { volumeSnapshot: `${snapshot.namespace}/${snapshot.name}` } : {}),
  });
  return { name, backup: w.backup, snapshotHandle: w.repair };
}

/** The VolumeSnapshot a content is bound to, when it still exists and claims it. */
async function boundSnapshot(client: KubeClient, content: VolumeSnapshotContent): Promise<VolumeSnapshot | undefined> {
  const ref = content.spec.volumeSnapshotRef;
  if (!ref?.uid || !ref.namespace || !ref.name) return undefined;
  try {
    const snapshot = await client.get<VolumeSnapshot>(volumeSnapshotPath(ref.namespace, ref.name));
    const claims =
      snapshot.spec.source.volumeSnapshotContentName === content.metadata.name || snapshot.status?.boundVolumeSnapshotContentName === content.metadata.name;
    return claims ? snapshot : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The Secret the driver needs to delete the snapshot, which the right content needs as much as the wrong one had. */
function deletionSecretOf(content: VolumeSnapshotContent): Record<string, string> {
  const annotations = content.metadata.annotations ?? {};
  return Object.fromEntries(
    [DELETION_SECRET_NAME_ANNOTATION, DELETION_SECRET_NAMESPACE_ANNOTATION].flatMap((key) => (annotations[key] ? [[key, annotations[key]]] : [])),
  );
}

/** Creates an object of a fixed name; false when it exists already (409). */
async function createIfMissing(client: KubeClient, path: string, body: unknown): Promise<boolean> {
  try {
    await client.create(path, body);
    return true;
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    return false;
  }
}
