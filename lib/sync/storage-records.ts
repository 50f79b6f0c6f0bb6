import { LONGHORN_BACKUPS_PATH, longhornBackupRecord, type StorageBackupRecord } from '../csi/handles';
import type { KubeClient } from '../kube/client';
import { isNotFound } from '../kube/errors';
import { listAll, type KubeObject } from '../kube/list-all';
import type { ClusterSyncResult } from './report';

/**
 * Longhorn's own Backup records in a cluster (backups.longhorn.io), by backup name: what
 * a wrong handle is repaired from. Undefined, and said in the result, when the cluster
 * serves no such records; handles are then checked for their shape only.
 */
export async function storageRecords(client: KubeClient, result: ClusterSyncResult, cluster: string): Promise<Map<string, StorageBackupRecord> | undefined> {
  try {
    const objects = await listAll<KubeObject & { status?: { volumeName?: string } }>(client, LONGHORN_BACKUPS_PATH);
    const records = new Map<string, StorageBackupRecord>();
    for (const object of objects) {
      const record = longhornBackupRecord(object);
      if (record) records.set(record.backupName, record);
    }
    return records;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    result.problems.push(`cluster ${cluster} serves no backups.longhorn.io: Longhorn handles are checked for their shape only`);
    return undefined;
  }
}
