import { planCsiSnapshots, type CsiSnapshotPlan, type PlanCsiSnapshotsInput, type SnapshotSkipReason } from '../csi/plan';
import type { Finding, Severity } from './findings';

/**
 * Snapshot coverage: which PVCs a backup would snapshot, chosen with the very function
 * backup uses (planCsiSnapshots, Velero's class selection), so the answer here is what
 * the next backup does. PVCs that get no snapshot are listed per namespace and reason
 * as "will not be snapshotted".
 *
 * No class for a CSI driver, several and none chosen, a CSI volume on a cluster without
 * the snapshot API, a volume that is not CSI or a PV that is gone: the data is not
 * protected (Velero 1.18 even fails the item), a warning. An unbound PVC has no data: information.
 */

/** The lists the check is made from; the backup's own annotations do not exist yet, so none apply. */
export type CoverageInput = Omit<PlanCsiSnapshotsInput, 'backup'>;

/** Reasons only a backup's own spec gives (readiness plans without a backup). */
type BackupOnlyReason = 'snapshots-disabled' | 'volume-policy' | 'volume-policy-unsupported';

const REASONS: Record<Exclude<SnapshotSkipReason, BackupOnlyReason>, { severity: Severity; why: string; action: string }> = {
  'no-class-for-driver': {
    severity: 'warn',
    why: 'no VolumeSnapshotClass has their CSI driver',
    action: 'create a VolumeSnapshotClass for the driver (deletionPolicy Retain keeps snapshots for the backup\'s life)',
  },
  ambiguous: {
    severity: 'warn',
    why: 'several VolumeSnapshotClasses have their driver and none is chosen',
    action: 'label one velero.io/csi-volumesnapshot-class, or annotate one snapshot.storage.kubernetes.io/is-default-class: "true"',
  },
  'no-snapshot-api': {
    severity: 'warn',
    why: 'the cluster does not serve snapshot.storage.k8s.io/v1',
    action: 'install the external-snapshotter CRDs and snapshot-controller',
  },
  'not-csi': {
    severity: 'warn',
    why: 'their volumes are not CSI volumes',
    action: 'move the data to a CSI storage class, or protect it another way (file-system backup)',
  },
  'pv-missing': {
    severity: 'warn',
    why: 'the PersistentVolume they are bound to does not exist',
    action: 'look at the PVCs: their volumes are gone',
  },
  'not-bound': {
    severity: 'info',
    why: 'they are not bound to a volume, so there is no data yet',
    action: '',
  },
};

/** The coverage findings, one per namespace and reason, plus one summary of what is covered. */
export function coverageFindings(input: CoverageInput): Finding[] {
  const plans = planCsiSnapshots({ ...input, backup: { snapshotVolumes: true } });
  const skipped = new Map<string, Extract<CsiSnapshotPlan, { kind: 'skip' }>[]>();
  for (const plan of plans) {
    if (plan.kind !== 'skip' || plan.reason === 'snapshots-disabled' || plan.reason === 'volume-policy' || plan.reason === 'volume-policy-unsupported') continue;
    const key = `${plan.pvc.namespace}\u0000${plan.reason}`;
    skipped.set(key, [...(skipped.get(key) ?? []), plan]);
  }
  const findings: Finding[] = [];
  for (const [key, group] of skipped) {
    const [namespace, reason] = key.split('\u0000') as [string, keyof typeof REASONS];
    const rule = REASONS[reason];
    const drivers = [...new Set(group.map((p) => p.pv?.spec?.csi?.driver).filter((d): d is string => !!d))];
    findings.push({
      check: 'snapshot-coverage',
      severity: rule.severity,
      namespace,
      message:
        `${group.length} PVC${group.length > 1 ? 's' : ''} in namespace ${namespace} will not be snapshotted: ${rule.why}` +
        (drivers.length > 0 ? ` (driver ${drivers.join(', ')})` : ''),
      objects: group.map((p) => `PVC ${p.pvc.namespace}/${p.pvc.name}`),
      action: rule.action,
    });
  }
  const covered = plans.filter((p) => p.kind === 'snapshot');
  if (covered.length > 0) {
    const byClass = new Map<string, number>();
    for (const plan of covered) byClass.set(plan.snapshotClass.metadata.name, (byClass.get(plan.snapshotClass.metadata.name) ?? 0) + 1);
    findings.push({
      check: 'snapshot-coverage',
      severity: 'info',
      message: `${covered.length} of ${plans.length} PVCs will be snapshotted`,
      objects: [...byClass].map(([name, count]) => `VolumeSnapshotClass ${name}: ${count} PVC${count > 1 ? 's' : ''}`),
      action: '',
    });
  }
  return findings;
}
