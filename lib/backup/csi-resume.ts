import type { VolumeSnapshot } from '../csi/snapshot-api';

/**
 * A backup's snapshot step may run again after its function was stopped half way (a
 * Lambda timeout, a crash). The VolumeSnapshots the earlier run created are still
 * there, labelled with the backup's name: they are taken over instead of cut again,
 * so a retry neither doubles the snapshots nor leaves the first ones behind.
 */

/** What to do with the VolumeSnapshots an earlier run left for one PVC. */
export interface Adoption {
  /** The one to go on waiting for: a ready one if there is, else the newest. */
  adopt?: VolumeSnapshot;
  /** Any others: extra copies, to be deleted. */
  discard: VolumeSnapshot[];
}

function createdAt(snapshot: VolumeSnapshot): number {
  return Date.parse(String(snapshot.metadata.creationTimestamp ?? '')) || 0;
}

/** Picks, among a backup's existing VolumeSnapshots, the one of a PVC to take over. */
export function adoptionFor(existing: readonly VolumeSnapshot[], pvc: { namespace: string; name: string }): Adoption {
  const mine = existing.filter(
    (vs) =>
      vs.metadata.namespace === pvc.namespace &&
      vs.spec.source.persistentVolumeClaimName === pvc.name &&
      // One being deleted is on its way out already.
      !vs.metadata.deletionTimestamp,
  );
  if (mine.length === 0) return { discard: [] };
  const ranked = [...mine].sort(
    (a, b) => Number(b.status?.readyToUse === true) - Number(a.status?.readyToUse === true) || createdAt(b) - createdAt(a),
  );
  return { adopt: ranked[0], discard: ranked.slice(1) };
}

/** When an adopted VolumeSnapshot was created: its wait started then, and so did its timeout. */
export function adoptedStartedAt(snapshot: VolumeSnapshot, now: number): number {
  return createdAt(snapshot) || now;
}
