import { gzipSync } from 'node:zlib';
import type { BackupStore } from '../store/backup-store';
import type { TarballState } from './progress-record';
import { ResourceList } from '../velero/results';

/**
 * The resource list of a backup being written, kept in storage one tarball part at a
 * time: the progress record then carries only the names since the last part, so each
 * checkpoint costs the same however many objects the backup already holds (a record
 * with the whole list would make every checkpoint of a large backup slower than the
 * last, and hold the list in memory twice more at each one).
 */

/** Stores the names of the objects of one more part, as part `part` (from 1). */
export async function saveResourceListPart(store: BackupStore, backup: string, part: number, names: ResourceList): Promise<void> {
  await store.putObject(store.layout.backupResourceListPartKey(backup, part), gzipSync(names.serialize()), {
    contentType: 'application/json',
  });
}

/** The whole resource list: every stored part and the names the record still carries. */
export async function completeResourceList(store: BackupStore, backup: string, tarball: TarballState | undefined): Promise<ResourceList> {
  const list = ResourceList.fromJSON(tarball?.resourceList ?? {});
  const parts = tarball?.resourceListParts ?? 0;
  for (let part = 1; part <= parts; part++) {
    const key = store.layout.backupResourceListPartKey(backup, part);
    const stored = await store.getJson(key);
    if (stored === undefined) throw new Error(`part ${part} of the resource list of backup "${backup}" is missing (${key})`);
    list.merge(ResourceList.fromJSON(stored as Record<string, string[]>));
  }
  return list;
}
