import { SNAPSHOT_GROUP, type VolumeSnapshotContent } from '../csi/snapshot-api';
import type { ClaimObject, ClusterInventory } from './inventory';

/**
 * Which storage snapshots live volumes may still depend on, across every cluster (one
 * storage system can serve several). A volume restored from a snapshot can need it for
 * its whole life: ONTAP's FlexClone shares the snapshot's blocks, and deleting the
 * snapshot splits the clone into a full copy, doubling its space over hours (source
 * document 000; Velero #8772). Velero's fix waits one minute for the volume to go and
 * then deletes anyway; Skiff never does: a held snapshot is kept and retried next run.
 */

export interface SnapshotUsage {
  /** Storage snapshot handle → the claims made from it ("cluster beta: PVC shop/data"). */
  inUse: Map<string, string[]>;
  /**
   * CSI driver → its volumes being deleted right now (PV released with reclaim Delete,
   * or terminating). Their claims are gone, so what they were made from is unknown; one
   * may be a clone of the snapshot about to be deleted, and seed 000's order is "the
   * volume is really gone, then the snapshot". Snapshots of that driver wait for them.
   */
  releasing: Map<string, string[]>;
  /** Claims made from a VolumeSnapshot that could not be traced to a handle (reported, not held). */
  untraced: string[];
}

/** The storage snapshot a content stands for: its status, or the handle a static content names. */
export function handleOf(content: Pick<VolumeSnapshotContent, 'spec' | 'status'>): string | undefined {
  return content.status?.snapshotHandle ?? content.spec.source?.snapshotHandle;
}

/** The VolumeSnapshot a claim was made from (dataSourceRef first: it may name another namespace), or undefined. */
export function snapshotSourceOf(claim: ClaimObject): { namespace: string; name: string } | undefined {
  const namespace = claim.metadata.namespace ?? '';
  const refs: { apiGroup?: string; kind?: string; name?: string; namespace?: string }[] = [claim.spec?.dataSourceRef ?? {}, claim.spec?.dataSource ?? {}];
  for (const ref of refs) {
    if (ref.kind === 'VolumeSnapshot' && ref.apiGroup === SNAPSHOT_GROUP && ref.name) return { namespace: ref.namespace ?? namespace, name: ref.name };
  }
  return undefined;
}

/** Reads the snapshot dependencies of every reachable cluster's claims and volumes. */
export function snapshotUsage(clusters: readonly ClusterInventory[]): SnapshotUsage {
  const usage: SnapshotUsage = { inUse: new Map(), releasing: new Map(), untraced: [] };
  for (const view of clusters) {
    const snapshots = new Map(view.snapshots.map((vs) => [`${vs.metadata.namespace}/${vs.metadata.name}`, vs]));
    const contents = new Map(view.contents.map((c) => [c.metadata.name, c]));
    for (const claim of view.claims) {
      const source = snapshotSourceOf(claim);
      if (!source) continue;
      const who = `cluster ${view.cluster}: PVC ${claim.metadata.namespace}/${claim.metadata.name}`;
      const vs = snapshots.get(`${source.namespace}/${source.name}`);
      const contentName = vs?.status?.boundVolumeSnapshotContentName ?? vs?.spec.source.volumeSnapshotContentName;
      const content = contentName ? contents.get(contentName) : undefined;
      const handle = content ? handleOf(content) : undefined;
      if (handle === undefined) {
        usage.untraced.push(`${who} was made from VolumeSnapshot ${source.namespace}/${source.name}, which no longer leads to a snapshot handle`);
        continue;
      }
      usage.inUse.set(handle, [...(usage.inUse.get(handle) ?? []), who]);
    }
    const liveClaims = new Set(view.claims.map((c) => `${c.metadata.namespace}/${c.metadata.name}`));
    for (const pv of view.volumes) {
      const driver = pv.spec?.csi?.driver;
      if (!driver) continue;
      const deleting = pv.metadata.deletionTimestamp !== undefined || (pv.status?.phase === 'Released' && pv.spec?.persistentVolumeReclaimPolicy === 'Delete');
      if (!deleting) continue;
      // A PV whose claim still lives is kept by pv-protection, not being released: what it
      // was made from is its claim's dataSource, which the claims above already hold.
      const claim = pv.spec?.claimRef;
      if (claim && liveClaims.has(`${claim.namespace}/${claim.name}`)) continue;
      usage.releasing.set(driver, [...(usage.releasing.get(driver) ?? []), `cluster ${view.cluster}: PV ${pv.metadata.name}`]);
    }
  }
  return usage;
}
