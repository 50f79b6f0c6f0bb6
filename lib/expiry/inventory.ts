import type { KubeClient } from '../kube/client';
import { listAll, type KubeObject } from '../kube/list-all';
import { volumeSnapshotsPath, SNAPSHOT_API_VERSION, type VolumeSnapshot, type VolumeSnapshotContent } from '../csi/snapshot-api';

/**
 * What expiry needs to know of one cluster, read once per run with one paginated LIST
 * per kind (contents, snapshots, claims, volumes, CSI drivers, namespaces), so that planning is a
 * pure function of it and a thousand backups cost no more requests than one.
 */

/** The fields of a PVC that tell whether it was made from a snapshot. */
export interface ClaimObject extends KubeObject {
  spec?: {
    dataSource?: { apiGroup?: string; kind?: string; name?: string };
    dataSourceRef?: { apiGroup?: string; kind?: string; name?: string; namespace?: string };
    volumeName?: string;
  };
}

/** The fields of a PV that tell whether its volume is being deleted. */
export interface VolumeObject extends KubeObject {
  spec?: { csi?: { driver?: string; volumeHandle?: string }; persistentVolumeReclaimPolicy?: string; claimRef?: { namespace?: string; name?: string } };
  status?: { phase?: string };
}

export interface ClusterInventory {
  cluster: string;
  contents: VolumeSnapshotContent[];
  snapshots: VolumeSnapshot[];
  claims: ClaimObject[];
  volumes: VolumeObject[];
  /** CSI drivers registered in the cluster (CSIDriver objects). */
  drivers: string[];
  /**
   * Names of the cluster's namespaces; undefined when they could not be listed (then a
   * content is claimed where its volumeSnapshotRef says, as if its namespace existed).
   */
  namespaces?: string[];
}

/** A cluster that could not be reached or read in this run: nothing that may live there is touched. */
export interface UnreachableCluster {
  cluster: string;
  unreachable: string;
}

export type ClusterView = ClusterInventory | UnreachableCluster;

export function isReachable(view: ClusterView): view is ClusterInventory {
  return !('unreachable' in view);
}

/** Every VolumeSnapshotContent of the cluster: one paginated LIST (also what waits look at). */
export function listContents(client: KubeClient): Promise<VolumeSnapshotContent[]> {
  return listAll<VolumeSnapshotContent>(client, `/apis/${SNAPSHOT_API_VERSION}/volumesnapshotcontents`);
}

/**
 * Reads the cluster's inventory. Any failure makes the whole cluster unreachable for
 * the run, with the reason: half an inventory could hide a claim that still needs a
 * snapshot.
 */
export async function readClusterInventory(cluster: string, connect: (cluster: string) => Promise<KubeClient>): Promise<ClusterView> {
  try {
    const client = await connect(cluster);
    const [contents, snapshots, claims, volumes, drivers] = await Promise.all([
      listContents(client),
      listAll<VolumeSnapshot>(client, volumeSnapshotsPath()),
      listAll<ClaimObject>(client, '/api/v1/persistentvolumeclaims'),
      listAll<VolumeObject>(client, '/api/v1/persistentvolumes'),
      listAll(client, '/apis/storage.k8s.io/v1/csidrivers'),
    ]);
    // Only needed for contents whose VolumeSnapshot went with its namespace; credentials
    // that may not list namespaces keep the claim at the ref's own namespace.
    const namespaces = await listAll(client, '/api/v1/namespaces').then(
      (items) => items.map((n) => n.metadata.name),
      () => undefined,
    );
    return { cluster, contents, snapshots, claims, volumes, drivers: drivers.map((d) => d.metadata.name), ...(namespaces ? { namespaces } : {}) };
  } catch (error) {
    return { cluster, unreachable: (error as Error).message };
  }
}
