import type { VolumeSnapshotClass } from './snapshot-api';
import { selectSnapshotClass } from './snapshot-class';
import {
  describeVolumePolicy,
  matchVolumePolicy,
  type PolicyPersistentVolume,
  type ResourcePolicies,
  type VolumePolicy,
} from '../velero/resource-policies';

/**
 * Which of a backup's PVCs get a CSI snapshot, with which VolumeSnapshotClass, and why
 * the others do not. Velero's PVC action (pkg/backup/actions/csi/pvc_action.go) makes
 * the same choice per PVC; here it is made for all PVCs at once from lists fetched
 * once per backup.
 *
 * Where Velero fails the PVC's backup item (an unbound PVC, a PV that is gone), Skiff
 * skips the snapshot with a warning instead: there is no volume data to lose, and the
 * PVC object itself is still backed up. A bound CSI volume that cannot be snapshotted
 * (no snapshot API, no class of its driver, several and none chosen) holds data the
 * backup would lack: a backup reports it as an error of the PVC, as Velero 1.18 does
 * (see leavesDataUnprotected). Velero also requires a StorageClass to find
 * the driver; Skiff reads the driver from the PV, so statically provisioned CSI
 * volumes without a class are snapshotted too.
 */

/** The fields of a PersistentVolumeClaim the plan reads. */
export interface PersistentVolumeClaimLike {
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { volumeName?: string; storageClassName?: string | null; volumeMode?: string; accessModes?: string[] };
  status?: { phase?: string };
}

/** The fields of a PersistentVolume the plan and the volume information read. */
export interface PersistentVolumeLike {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: {
    csi?: { driver: string; volumeHandle?: string };
    persistentVolumeReclaimPolicy?: string;
    storageClassName?: string;
  };
}

/** The fields of a StorageClass the plan reads (its annotation may choose a snapshot class). */
export interface StorageClassLike {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** A PVC, named the way messages and results name it. */
export interface PvcRef {
  namespace: string;
  name: string;
}

/** Why a PVC gets no snapshot. */
export type SnapshotSkipReason =
  | 'snapshots-disabled'
  | 'not-bound'
  | 'pv-missing'
  | 'not-csi'
  | 'no-snapshot-api'
  | 'no-class-for-driver'
  | 'ambiguous'
  /** A volume policy of the backup's resourcePolicy says skip. */
  | 'volume-policy'
  /** A volume policy asks for an action Skiff cannot take (fs-backup, custom). */
  | 'volume-policy-unsupported';

/**
 * Whether a skip leaves a bound CSI volume's data out of the backup although the backup
 * asked for it: such a PVC is an error of the backup (PartiallyFailed), as Velero 1.18's
 * PVC action fails the item when it finds no VolumeSnapshotClass. The other reasons
 * (unbound, PV gone, not CSI, snapshots disabled) have nothing to protect or were asked for.
 */
export function leavesDataUnprotected(reason: SnapshotSkipReason): boolean {
  return reason === 'no-snapshot-api' || reason === 'no-class-for-driver' || reason === 'ambiguous' || reason === 'volume-policy-unsupported';
}

/** What to do about one PVC: snapshot it with a class, or skip it (with a warning unless asked to). */
export type CsiSnapshotPlan =
  | {
      kind: 'snapshot';
      pvc: PvcRef;
      /** The PVC's labels, which the VolumeSnapshot copies. */
      labels?: Record<string, string>;
      pv: PersistentVolumeLike;
      driver: string;
      snapshotClass: VolumeSnapshotClass;
      /** Annotations naming a class that was passed over: worth a warning. */
      notes: string[];
    }
  | {
      kind: 'skip';
      pvc: PvcRef;
      pv?: PersistentVolumeLike;
      reason: SnapshotSkipReason;
      /** Undefined when skipping is what the backup asked for. */
      warning?: string;
      /** Why, when there is no warning and more to say than the reason (the volume policy that skipped it). */
      detail?: string;
      notes: string[];
    };

/** Everything the plan is made from, listed once per backup. */
export interface PlanCsiSnapshotsInput {
  pvcs: readonly PersistentVolumeClaimLike[];
  persistentVolumes: readonly PersistentVolumeLike[];
  storageClasses: readonly StorageClassLike[];
  /** Every VolumeSnapshotClass of the cluster, in the order the API server lists them. */
  snapshotClasses: readonly VolumeSnapshotClass[];
  /** False when the cluster does not serve snapshot.storage.k8s.io/v1 at all. */
  snapshotApiServed?: boolean;
  backup: { annotations?: Record<string, string>; snapshotVolumes?: boolean };
  /** The backup's volume policies (spec.resourcePolicy), decided before anything else, as Velero does. */
  volumePolicies?: ResourcePolicies;
}

/** One plan per PVC, in the order of `pvcs`. */
export function planCsiSnapshots(input: PlanCsiSnapshotsInput): CsiSnapshotPlan[] {
  const pvByName = new Map(input.persistentVolumes.map((pv) => [pv.metadata.name, pv]));
  const storageClassByName = new Map(input.storageClasses.map((sc) => [sc.metadata.name, sc]));
  return input.pvcs.map((pvc): CsiSnapshotPlan => {
    const ref: PvcRef = { namespace: pvc.metadata.namespace ?? '', name: pvc.metadata.name };
    const where = `PVC ${ref.namespace}/${ref.name}`;
    const volumeName = pvc.spec?.volumeName;
    const pv = volumeName ? pvByName.get(volumeName) : undefined;
    const policy = input.volumePolicies && matchVolumePolicy(input.volumePolicies, { pv: pv as PolicyPersistentVolume | undefined, pvc });
    const byPolicy = policy && policyPlan(input.volumePolicies!, policy, ref, pv);
    if (byPolicy) return byPolicy;
    if (input.backup.snapshotVolumes === false && policy?.action !== 'snapshot') {
      return { kind: 'skip', pvc: ref, pv, reason: 'snapshots-disabled', notes: [] };
    }
    if (!volumeName || pvc.status?.phase !== 'Bound') {
      return {
        kind: 'skip',
        pvc: ref,
        reason: 'not-bound',
        warning: `${where} is not bound to a volume (phase ${pvc.status?.phase ?? 'unknown'}), so there is no data to snapshot; skipped`,
        notes: [],
      };
    }
    if (!pv) {
      return {
        kind: 'skip',
        pvc: ref,
        reason: 'pv-missing',
        warning: `${where} is bound to PersistentVolume ${volumeName}, which does not exist; skipped`,
        notes: [],
      };
    }
    const driver = pv.spec?.csi?.driver;
    if (driver && input.snapshotApiServed === false) {
      return {
        kind: 'skip',
        pvc: ref,
        pv,
        reason: 'no-snapshot-api',
        warning:
          `${where} is a CSI volume of driver "${driver}", but the cluster does not serve snapshot.storage.k8s.io/v1; ` +
          'install the external-snapshotter CRDs and snapshot-controller to snapshot it',
        notes: [],
      };
    }
    const storageClassName = pvc.spec?.storageClassName;
    const choice = selectSnapshotClass({
      // Named namespace/name so that its messages say which namespace the PVC is in.
      pvc: { metadata: { ...pvc.metadata, name: `${ref.namespace}/${ref.name}` } },
      pvDriver: driver,
      backupAnnotations: input.backup.annotations,
      storageClass: storageClassName ? storageClassByName.get(storageClassName) : undefined,
      classes: input.snapshotClasses,
    });
    if (choice.kind === 'skip') {
      return { kind: 'skip', pvc: ref, pv, reason: choice.reason, warning: choice.warning, notes: choice.notes };
    }
    return {
      kind: 'snapshot',
      pvc: ref,
      labels: pvc.metadata.labels,
      pv,
      driver: driver!,
      // selectSnapshotClass returns one of the classes it was given.
      snapshotClass: choice.snapshotClass as VolumeSnapshotClass,
      notes: choice.notes,
    };
  });
}

/**
 * What a matching volume policy decides on its own (Velero's volumehelper
 * ShouldPerformSnapshot): `skip` skips the snapshot, told in the volume information, not
 * as a warning, since the backup asked for it; `fs-backup` and `custom` on a bound volume
 * are actions Skiff cannot take, an error of the PVC. `snapshot` decides nothing here:
 * the PVC is snapshotted as any other, even with snapshotVolumes false.
 */
function policyPlan(policies: ResourcePolicies, policy: VolumePolicy, pvc: PvcRef, pv: PersistentVolumeLike | undefined): CsiSnapshotPlan | undefined {
  const which = describeVolumePolicy(policies, policy);
  if (policy.action === 'skip') return { kind: 'skip', pvc, pv, reason: 'volume-policy', detail: `skipped by ${which}`, notes: [] };
  if (policy.action === 'snapshot' || !pv) return undefined;
  const why =
    policy.action === 'fs-backup'
      ? "file-system backup needs Velero's node agent running inside the cluster, which Skiff does not install"
      : 'a custom action is carried out by a Velero plugin, which Skiff does not run';
  return {
    kind: 'skip',
    pvc,
    pv,
    reason: 'volume-policy-unsupported',
    warning: `PVC ${pvc.namespace}/${pvc.name}: ${which} asks for ${policy.action}, but ${why}; use action snapshot or skip for it`,
    notes: [],
  };
}
