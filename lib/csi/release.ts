import type { Clock } from '../core/clock';
import type { KubeClient } from '../kube/client';
import { isNotFound } from '../kube/errors';
import {
  dynamicContentName,
  volumeSnapshotContentPath,
  volumeSnapshotPath,
  type VolumeSnapshot,
  type VolumeSnapshotContent,
} from './snapshot-api';
import { BACKUP_NAME_LABEL } from '../velero/labels';
import { discardContentPatch } from './deletion-policy';
import { DEFAULT_POLL_SCHEDULE, nextPollDelayMs, type PollSchedule } from './polling';

/**
 * Takes back a VolumeSnapshot whose snapshot failed or ran out of time, so that a
 * failed backup leaves neither a VolumeSnapshot nor a storage snapshot behind.
 *
 * Deleting the VolumeSnapshot alone is not enough. Its content may be (or have been
 * set to) Retain, and the driver may still be cutting the snapshot, or have cut it
 * just after the deadline: a Retain content outlives its VolumeSnapshot and keeps the
 * storage snapshot, which no backup then knows about (Velero #4764's orphan). So the
 * content goes to deletionPolicy Delete first. The snapshot-controller then deletes
 * the content with the VolumeSnapshot, and the CSI sidecar, which never deletes a
 * content while its snapshot is being cut, deletes the storage snapshot once the cut
 * is done. A failed cut leaves a content without a handle, which goes without asking
 * the storage system anything.
 *
 * The content also takes the VolumeSnapshot's backup label: a content the
 * snapshot-controller never deletes (see discardContentPatch) then stays the backup's,
 * and the backup's expiry frees its storage snapshot instead of nobody.
 *
 * The content is found by its name even when the VolumeSnapshot's status does not name
 * it yet (the snapshot-controller names dynamic contents after the VolumeSnapshot's
 * uid), and looked at again once the VolumeSnapshot is gone, in case the controller
 * created it in between.
 */

/** Time and patience for discardVolumeSnapshot. */
export interface DiscardOptions {
  clock: Clock;
  /** How long to wait for the VolumeSnapshot to be gone. */
  timeoutMs: number;
  schedule?: PollSchedule;
}

/** Deletes a VolumeSnapshot and lets its storage snapshot go; returns what could not be done, if anything. */
export async function discardVolumeSnapshot(
  client: KubeClient,
  snapshot: Pick<VolumeSnapshot, 'metadata' | 'status'>,
  options: DiscardOptions,
): Promise<string[]> {
  const { namespace, name, uid } = snapshot.metadata;
  const vsText = `VolumeSnapshot ${namespace}/${name}`;
  const contentName = snapshot.status?.boundVolumeSnapshotContentName ?? (uid ? dynamicContentName(uid) : undefined);
  const backupLabel = snapshot.metadata.labels?.[BACKUP_NAME_LABEL];
  const problems: string[] = [];

  if (contentName) {
    const problem = await releaseContent(client, contentName, backupLabel);
    if (problem) problems.push(problem);
  }
  try {
    await client.delete(volumeSnapshotPath(namespace, name));
  } catch (error) {
    if (!isNotFound(error)) {
      problems.push(
        `could not delete ${vsText} (${(error as Error).message}); delete it by hand: kubectl delete volumesnapshot -n ${namespace} ${name}`,
      );
      return problems;
    }
  }
  let remaining: VolumeSnapshot | undefined;
  try {
    remaining = await waitUntilGone(client, namespace, name, options);
  } catch (error) {
    problems.push(`could not check that ${vsText} is gone (${(error as Error).message}); make sure it is: kubectl get volumesnapshot -n ${namespace} ${name}`);
  }
  if (remaining) {
    problems.push(
      `${vsText} is still being deleted after ${Math.round(options.timeoutMs / 1000)}s ` +
        `(finalizers: ${remaining.metadata.finalizers?.join(', ') || 'none'}); the snapshot-controller removes it once the ` +
        'driver has deleted its snapshot; if it stays, check the snapshot-controller and the CSI driver',
    );
  }
  if (contentName) {
    const problem = await releaseContent(client, contentName, backupLabel);
    if (problem) problems.push(problem);
  }
  return problems;
}

/**
 * Sets a content to Delete and labels it for the backup, unless it is gone or already
 * so; returns a problem, if any. A label of another backup is left as it is.
 */
async function releaseContent(client: KubeClient, contentName: string, backupLabel: string | undefined): Promise<string | undefined> {
  const path = volumeSnapshotContentPath(contentName);
  try {
    const content = await client.get<VolumeSnapshotContent>(path);
    const label = content.metadata.labels?.[BACKUP_NAME_LABEL] === undefined ? backupLabel : undefined;
    if (content.spec.deletionPolicy !== 'Delete' || label !== undefined) await client.patch(path, discardContentPatch(label), 'merge');
    return undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    return (
      `could not set VolumeSnapshotContent ${contentName} to deletionPolicy Delete (${(error as Error).message}); ` +
      `its storage snapshot may be left behind: kubectl patch volumesnapshotcontent ${contentName} --type merge ` +
      `-p '{"spec":{"deletionPolicy":"Delete"}}' and then delete it`
    );
  }
}

/** Polls until the VolumeSnapshot is gone; returns it if it is still there at the deadline. */
async function waitUntilGone(
  client: KubeClient,
  namespace: string,
  name: string,
  options: DiscardOptions,
): Promise<VolumeSnapshot | undefined> {
  const start = options.clock.now().getTime();
  const deadline = start + options.timeoutMs;
  for (;;) {
    let current: VolumeSnapshot;
    try {
      current = await client.get<VolumeSnapshot>(volumeSnapshotPath(namespace, name));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const now = options.clock.now().getTime();
    if (now >= deadline) return current;
    await options.clock.sleep(nextPollDelayMs({ now, lastChangeAt: start, earliestDeadlineAt: deadline }, options.schedule ?? DEFAULT_POLL_SCHEDULE));
  }
}
