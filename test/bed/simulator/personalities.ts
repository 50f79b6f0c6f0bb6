/**
 * The two storage systems the simulator impersonates. Each one differs from the
 * other exactly where backup tools get storage wrong: the format of snapshot
 * handles, and whether a volume restored from a snapshot keeps depending on it.
 *
 * - longhorn-like (`driver.longhorn.io`): CSI snapshots are backups on a backup
 *   target shared by all clusters, handle `bak://<backupVolume>/<backupName>`; the
 *   legacy type `bs://` means the same. A restore copies the backup into a new
 *   volume, so the backup is free to go afterwards.
 * - ontap-like (`csi.trident.netapp.io`): handle `<volume>/snapshot-<uuid>`; a volume
 *   restored from a snapshot is a FlexClone that shares blocks with it, so the
 *   snapshot is busy while the clone lives (see ledger.ts for the split rule).
 */

import { randomBytes, randomUUID } from 'node:crypto';

export const LONGHORN_DRIVER = 'driver.longhorn.io';
export const ONTAP_DRIVER = 'csi.trident.netapp.io';

export type PersonalityName = 'longhorn' | 'ontap';

/** Where a handle points in the ledger, or why it cannot name a snapshot of this system. */
export type HandleLookup = { ok: true; key: string } | { ok: false; reason: string };

export interface NewSnapshot {
  handle: string;
  /** Longhorn only: the backup volume and backup the handle names. */
  backupVolume?: string;
  backupName?: string;
}

export interface Personality {
  readonly name: PersonalityName;
  readonly driver: string;
  /** True when a restored volume shares blocks with its snapshot (FlexClone). */
  readonly restoreDependsOnSnapshot: boolean;
  /** The handle of a new snapshot of `volumeHandle`; `requestName` is the CSI snapshot name. */
  newSnapshot(volumeHandle: string, requestName: string): NewSnapshot;
  /** The ledger key of a snapshot handle as the driver would resolve it. */
  resolveSnapshotHandle(handle: string): HandleLookup;
  /** Volume context the driver returns from CreateVolume (ends up in the PV's volumeAttributes). */
  volumeContext(volumeHandle: string, parameters: Record<string, string>): Record<string, string>;
}

const LONGHORN_HANDLE = /^([a-z]+):\/\/([^/]+)\/([^/]+)$/;

export function parseLonghornHandle(
  handle: string,
): { type: string; volume: string; name: string } | undefined {
  const match = LONGHORN_HANDLE.exec(handle);
  if (!match) return undefined;
  return { type: match[1]!, volume: match[2]!, name: match[3]! };
}

export const longhorn: Personality = {
  name: 'longhorn',
  driver: LONGHORN_DRIVER,
  restoreDependsOnSnapshot: false,
  newSnapshot(volumeHandle) {
    // Longhorn names the backup volume after the volume (the PV name) and the
    // backup `backup-<16 hex>`.
    const backupName = `backup-${randomBytes(8).toString('hex')}`;
    return { handle: `bak://${volumeHandle}/${backupName}`, backupVolume: volumeHandle, backupName };
  },
  resolveSnapshotHandle(handle) {
    const parsed = parseLonghornHandle(handle);
    if (!parsed) return { ok: false, reason: `malformed snapshot handle ${handle}: expected bak://<backupVolume>/<backup>` };
    if (parsed.type === 'bak' || parsed.type === 'bs') {
      // `bs` is the legacy name of the backup type. A `bs://` handle that carries a
      // PVC name where the backup volume belongs (Harvester #7539) resolves to a
      // backup volume that does not exist, exactly as in Longhorn.
      return { ok: true, key: `bak://${parsed.volume}/${parsed.name}` };
    }
    return { ok: false, reason: `snapshot type ${parsed.type} of handle ${handle} is not on the backup target` };
  },
  volumeContext(_volumeHandle, parameters) {
    return {
      numberOfReplicas: parameters.numberOfReplicas ?? '3',
      staleReplicaTimeout: parameters.staleReplicaTimeout ?? '30',
      ...parameters,
    };
  },
};

export const ontap: Personality = {
  name: 'ontap',
  driver: ONTAP_DRIVER,
  restoreDependsOnSnapshot: true,
  newSnapshot(volumeHandle, requestName) {
    // Trident names the snapshot after the CSI request (`snapshot-<VolumeSnapshot uid>`).
    const suffix = /^snapshot-[0-9a-f-]{36}$/.test(requestName) ? requestName : `snapshot-${randomUUID()}`;
    return { handle: `${volumeHandle}/${suffix}` };
  },
  resolveSnapshotHandle(handle) {
    if (!/^[^/]+\/[^/]+$/.test(handle)) {
      return { ok: false, reason: `malformed snapshot handle ${handle}: expected <volume>/<snapshot>` };
    }
    return { ok: true, key: handle };
  },
  volumeContext(volumeHandle, parameters) {
    return {
      backendUUID: '00000000-0000-4000-8000-00000000a11a',
      internalName: `trident_${volumeHandle.replace(/-/g, '_')}`,
      name: volumeHandle,
      protocol: parameters.protocol ?? 'file',
    };
  },
};

export const personalities: readonly Personality[] = [longhorn, ontap];

export function personalityFor(driver: string | undefined): Personality | undefined {
  return personalities.find((p) => p.driver === driver);
}
