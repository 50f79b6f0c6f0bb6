import { BACKUP_SNAPSHOT_CLASS_ANNOTATION_PREFIX, SNAPSHOT_CLASS_SELECTOR } from '../velero/labels';

/**
 * Which VolumeSnapshotClass a PVC's CSI snapshot uses, chosen in Velero's order
 * (pkg/util/csi/volume_snapshot.go, GetVolumeSnapshotClass):
 *
 *   1. the PVC annotation velero.io/csi-volumesnapshot-class
 *   2. the StorageClass annotation velero.io/csi-volumesnapshot-class
 *   3. the Backup annotation velero.io/csi-volumesnapshot-class_<driver>
 *   4. a class of the driver labelled velero.io/csi-volumesnapshot-class
 *   5. a class of the driver annotated snapshot.storage.kubernetes.io/is-default-class: "true"
 *   6. the only class of the driver
 *
 * An annotation naming a missing class, or a class of another driver, is passed over (as
 * Velero does) and reported in `notes`. When nothing applies the choice says why; a backup
 * makes that an error of the PVC (Velero 1.18, pkg/backup/actions/csi/pvc_action.go:
 * "failed to get VolumeSnapshotClass"), never a failed backup.
 */

/** The external-snapshotter's default-class annotation. */
export const DEFAULT_SNAPSHOT_CLASS_ANNOTATION = 'snapshot.storage.kubernetes.io/is-default-class';

interface Meta {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A snapshot.storage.k8s.io/v1 VolumeSnapshotClass, the fields that matter here. */
export interface VolumeSnapshotClassLike {
  metadata: Meta;
  driver: string;
  deletionPolicy?: string;
}

/** Which rule chose the class. */
export type SnapshotClassSource =
  | 'pvc-annotation'
  | 'storage-class-annotation'
  | 'backup-annotation'
  | 'label'
  | 'default-annotation'
  | 'only-class-of-driver';

/** The chosen class, or why the PVC is skipped; `notes` say what was passed over on the way. */
export type SnapshotClassChoice =
  | { kind: 'class'; snapshotClass: VolumeSnapshotClassLike; source: SnapshotClassSource; notes: string[] }
  | { kind: 'skip'; reason: 'not-csi' | 'no-class-for-driver' | 'ambiguous'; warning: string; notes: string[] };

/** What the choice looks at: the PVC, its PV's driver, the backup, the classes. */
export interface SelectSnapshotClassInput {
  pvc: { metadata: Meta };
  /** `spec.csi.driver` of the PVC's PV; undefined when the PV is not a CSI volume. */
  pvDriver: string | undefined;
  backupAnnotations?: Record<string, string>;
  storageClass?: { metadata: Meta };
  /** Every VolumeSnapshotClass of the cluster, in the order the API server lists them. */
  classes: readonly VolumeSnapshotClassLike[];
}

function sameText(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * Finds the class an annotation names, as Velero does: names and drivers compared
 * without regard to case. Returns the class, or a note saying why it is passed over.
 */
function byName(
  className: string,
  driver: string,
  classes: readonly VolumeSnapshotClassLike[],
  where: string,
): { snapshotClass: VolumeSnapshotClassLike } | { note: string } {
  const found = classes.find((c) => sameText(c.metadata.name, className));
  if (!found) return { note: `${where} names VolumeSnapshotClass "${className}", which does not exist; ignored` };
  if (!sameText(found.driver, driver)) {
    return {
      note: `${where} names VolumeSnapshotClass "${found.metadata.name}" of driver "${found.driver}", not "${driver}"; ignored`,
    };
  }
  return { snapshotClass: found };
}

/** Chooses the VolumeSnapshotClass for a PVC's snapshot, or says why it must be skipped. */
export function selectSnapshotClass(input: SelectSnapshotClassInput): SnapshotClassChoice {
  const notes: string[] = [];
  const pvcName = input.pvc.metadata.name;
  const driver = input.pvDriver;
  if (driver === undefined || driver === '') {
    return {
      kind: 'skip',
      reason: 'not-csi',
      warning: `PVC ${pvcName} is not bound to a CSI volume, so it cannot have a CSI snapshot; skipped`,
      notes,
    };
  }

  const annotated: Array<[SnapshotClassSource, string | undefined, string]> = [
    ['pvc-annotation', input.pvc.metadata.annotations?.[SNAPSHOT_CLASS_SELECTOR], `PVC ${pvcName} annotation ${SNAPSHOT_CLASS_SELECTOR}`],
    [
      'storage-class-annotation',
      input.storageClass?.metadata.annotations?.[SNAPSHOT_CLASS_SELECTOR],
      `StorageClass ${input.storageClass?.metadata.name} annotation ${SNAPSHOT_CLASS_SELECTOR}`,
    ],
    [
      'backup-annotation',
      input.backupAnnotations?.[`${BACKUP_SNAPSHOT_CLASS_ANNOTATION_PREFIX}_${driver.toLowerCase()}`],
      `backup annotation ${BACKUP_SNAPSHOT_CLASS_ANNOTATION_PREFIX}_${driver.toLowerCase()}`,
    ],
  ];
  for (const [source, className, where] of annotated) {
    if (className === undefined) continue;
    const found = byName(className, driver, input.classes, where);
    if ('snapshotClass' in found) return { kind: 'class', snapshotClass: found.snapshotClass, source, notes };
    notes.push(found.note);
  }

  // From here on Velero compares drivers exactly.
  const byDriver = snapshotClassForDriver(driver, input.classes);
  notes.push(...byDriver.notes);
  if (byDriver.snapshotClass) return { kind: 'class', snapshotClass: byDriver.snapshotClass, source: byDriver.source!, notes };
  const ofDriver = input.classes.filter((c) => c.driver === driver);
  if (ofDriver.length === 0) {
    return {
      kind: 'skip',
      reason: 'no-class-for-driver',
      warning: `PVC ${pvcName}: no VolumeSnapshotClass has driver "${driver}"; create one to snapshot this volume`,
      notes,
    };
  }
  const howToChoose =
    `label one of them ${SNAPSHOT_CLASS_SELECTOR} (any value), annotate it ${DEFAULT_SNAPSHOT_CLASS_ANNOTATION}: "true", ` +
    `or name one in the PVC annotation ${SNAPSHOT_CLASS_SELECTOR} or the backup annotation ` +
    `${BACKUP_SNAPSHOT_CLASS_ANNOTATION_PREFIX}_${driver.toLowerCase()}`;
  return {
    kind: 'skip',
    reason: 'ambiguous',
    warning:
      `PVC ${pvcName}: ${ofDriver.length} VolumeSnapshotClasses have driver "${driver}" ` +
      `(${ofDriver.map((c) => c.metadata.name).join(', ')}) and none is chosen; ${howToChoose}`,
    notes,
  };
}

/** The class a driver's snapshots use when nothing names one, and how it was chosen. */
export interface DriverClassChoice<C extends VolumeSnapshotClassLike> {
  snapshotClass?: C;
  source?: Extract<SnapshotClassSource, 'label' | 'default-annotation' | 'only-class-of-driver'>;
  notes: string[];
}

/**
 * The class of `driver` by the rules that need no PVC or backup (Velero's
 * GetVolumeSnapshotClassForStorageClass tail): the class labelled
 * velero.io/csi-volumesnapshot-class, else the one annotated as default, else the only
 * one. Sync and restore use it for static contents; backup falls through to it after
 * the annotations. No class: undefined (none, or several and none chosen).
 */
export function snapshotClassForDriver<C extends VolumeSnapshotClassLike>(driver: string, classes: readonly C[]): DriverClassChoice<C> {
  const notes: string[] = [];
  const ofDriver = classes.filter((c) => c.driver === driver);
  const labelled = ofDriver.filter((c) => c.metadata.labels?.[SNAPSHOT_CLASS_SELECTOR] !== undefined);
  if (labelled.length > 0) {
    if (labelled.length > 1) {
      notes.push(
        `several classes of driver "${driver}" are labelled ${SNAPSHOT_CLASS_SELECTOR} ` +
          `(${labelled.map((c) => c.metadata.name).join(', ')}); using the first, ${labelled[0]!.metadata.name}`,
      );
    }
    return { snapshotClass: labelled[0]!, source: 'label', notes };
  }
  const defaults = ofDriver.filter((c) => c.metadata.annotations?.[DEFAULT_SNAPSHOT_CLASS_ANNOTATION] === 'true');
  if (defaults.length > 0) {
    if (defaults.length > 1) {
      notes.push(
        `several classes of driver "${driver}" are marked default (${defaults.map((c) => c.metadata.name).join(', ')}); ` +
          `using the first, ${defaults[0]!.metadata.name}`,
      );
    }
    return { snapshotClass: defaults[0]!, source: 'default-annotation', notes };
  }
  if (ofDriver.length === 1) return { snapshotClass: ofDriver[0]!, source: 'only-class-of-driver', notes };
  return { notes };
}
