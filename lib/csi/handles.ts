/**
 * What a snapshot handle must look like, per CSI driver, in one table. A handle in the
 * wrong format restores nothing elsewhere and, once deleted, leaves the storage
 * system's backup orphaned (Harvester #7539: Longhorn handles written as
 * `bs://<pvcName>/<backupName>` instead of `bak://<backupVolume>/<backupName>`).
 * Drivers without a known format pass through unchecked.
 */

/** The storage system's own record of a backup (Longhorn: `backups.longhorn.io`), as far as handles need it. */
export interface StorageBackupRecord {
  /** The backup's name in the storage system. */
  backupName: string;
  /** The backup volume it belongs to (Longhorn: `status.volumeName`, label `backup-volume`). */
  backupVolume: string;
}

/** The verdict on one handle. `repair` is the handle that should be used instead, when known. */
export type HandleVerdict =
  | { kind: 'valid'; handle: string }
  | { kind: 'unchecked'; handle: string }
  | { kind: 'wrong'; handle: string; reason: string; repair?: string }
  | { kind: 'malformed'; handle: string; reason: string };

/** One driver's rule: how its handles read, and how to check one against the storage system's records. */
export interface HandleRule {
  driver: string;
  /** The format, for messages. */
  format: string;
  check(handle: string, records: ReadonlyMap<string, StorageBackupRecord> | undefined): HandleVerdict;
}

/** The Longhorn CSI driver's name. */
export const LONGHORN_DRIVER = 'driver.longhorn.io';

const LONGHORN_HANDLE = /^(bak|bs):\/\/([^/]+)\/([^/]+)$/;

/**
 * Longhorn (longhorn-manager csi/util.go): `bak://<backupVolume>/<backupName>`, with
 * `bs` the legacy name of the same type. With the storage system's records at hand, a
 * handle whose volume is not the backup's real backup volume is wrong (the
 * `bs://<pvcName>/<backupName>` form) and the repair names the right one.
 */
const longhornRule: HandleRule = {
  driver: LONGHORN_DRIVER,
  format: 'bak://<backupVolume>/<backupName>',
  check(handle, records) {
    const parsed = LONGHORN_HANDLE.exec(handle);
    if (!parsed) return { kind: 'malformed', handle, reason: `expected ${this.format}` };
    const [, type, volume, backupName] = parsed as unknown as [string, string, string, string];
    const record = records?.get(backupName);
    if (record && record.backupVolume !== volume) {
      return {
        kind: 'wrong',
        handle,
        reason: `backup ${backupName} belongs to backup volume ${record.backupVolume}, not ${volume}`,
        repair: `bak://${record.backupVolume}/${backupName}`,
      };
    }
    if (type === 'bs' && !record) {
      return {
        kind: 'wrong',
        handle,
        reason: `legacy bs:// handle whose backup volume cannot be confirmed: no storage record of backup ${backupName}`,
      };
    }
    return { kind: 'valid', handle };
  },
};

/** Every driver whose handle format is known. */
export const HANDLE_RULES: readonly HandleRule[] = [longhornRule];

/**
 * Checks `handle` of `driver` against its rule. `records` are the storage system's
 * backups by name, when they could be read; without them a handle can only be checked
 * for its shape. Drivers without a rule give `unchecked`.
 */
export function checkHandle(
  driver: string,
  handle: string,
  records?: ReadonlyMap<string, StorageBackupRecord>,
): HandleVerdict {
  const rule = HANDLE_RULES.find((r) => r.driver === driver);
  return rule ? rule.check(handle, records) : { kind: 'unchecked', handle };
}

/** Whether the storage system keeps records `checkHandle` can use for this driver. */
export function hasStorageRecords(driver: string): boolean {
  return driver === LONGHORN_DRIVER;
}

/** The path that lists Longhorn's Backup records in a cluster. */
export const LONGHORN_BACKUPS_PATH = '/apis/longhorn.io/v1beta2/namespaces/longhorn-system/backups';

/** Reads a Longhorn Backup object into a record; undefined when it names no backup volume. */
export function longhornBackupRecord(object: {
  metadata: { name: string; labels?: Record<string, string> };
  status?: { volumeName?: string };
}): StorageBackupRecord | undefined {
  const backupVolume = object.status?.volumeName || object.metadata.labels?.['backup-volume'];
  return backupVolume ? { backupName: object.metadata.name, backupVolume } : undefined;
}
