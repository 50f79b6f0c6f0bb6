import type { VolumeSnapshotContent } from '../csi/snapshot-api';
import type { DeletionCause } from '../store/deletion-marker';
import type { Backup } from '../velero/backup';

/**
 * The plan of one expiry run: every backup of the location with its verdict and why,
 * and every action the run takes, in the order it takes them. A dry run returns it
 * and changes nothing; a real run builds the same plan and executes its actions one
 * by one, logging each with its outcome, so a real run's log can be compared with the
 * dry run's plan action for action.
 */

interface ActionBase {
  backup: string;
  /** Set for actions in a cluster. */
  cluster?: string;
  /** What is acted on, readable in logs: an S3 key or prefix, or `Kind/name` (`Kind/namespace/name`). */
  object: string;
  why: string;
}

export type ExpiryAction =
  | (ActionBase & { kind: 'writeDeletionMarker'; cause: DeletionCause })
  | (ActionBase & { kind: 'setDeletionPolicyDelete'; cluster: string; content: string })
  | (ActionBase & { kind: 'deleteVolumeSnapshot'; cluster: string; namespace: string; name: string; content: string })
  | (ActionBase & { kind: 'deleteContent'; cluster: string; content: string })
  | (ActionBase & { kind: 'createTemporaryContent'; cluster: string; content: string; driver: string; handle: string })
  /**
   * `repointFrom` (`namespace/name`): the content's volumeSnapshotRef is set to
   * `namespace`/`name` without a uid first, because it names a namespace that no longer
   * exists, or the uid of a VolumeSnapshot that is gone (the snapshot-controller binds no
   * other VolumeSnapshot to it then).
   */
  | (ActionBase & { kind: 'claimContent'; cluster: string; namespace: string; name: string; content: string; repointFrom?: string })
  /** A content being deleted that the CSI sidecar waits on forever without the annotation (csi/stalled-deletion.ts). */
  | (ActionBase & { kind: 'setBeingDeletedAnnotation'; cluster: string; content: string })
  | (ActionBase & { kind: 'waitUntilContentGone'; cluster: string; content: string })
  | (ActionBase & { kind: 'deleteBackupData' })
  | (ActionBase & { kind: 'deleteProgressRecord'; resourceListParts: number })
  | (ActionBase & { kind: 'removeCatalogEntry' })
  | (ActionBase & { kind: 'deleteDeletionMarker' });

export type ExpiryActionKind = ExpiryAction['kind'];

/**
 * The order of a run's phases: every action of a phase, for all backups, before the
 * next phase (so the waits of all backups share one LIST per look and per cluster).
 * For one backup this is the safe order: marker, then snapshots, then object-store
 * data, then the catalog entry, and the marker last.
 */
export const ACTION_PHASES: readonly ExpiryActionKind[] = [
  'writeDeletionMarker',
  'setDeletionPolicyDelete',
  'createTemporaryContent',
  'claimContent',
  'deleteVolumeSnapshot',
  'deleteContent',
  'setBeingDeletedAnnotation',
  'waitUntilContentGone',
  'deleteBackupData',
  'deleteProgressRecord',
  'removeCatalogEntry',
  'deleteDeletionMarker',
];

/**
 * One backup's line in the plan. `delete`: this run works on its deletion (and
 * `finishes` says whether it removes the backup this run); `blocked`: it should be
 * deleted but nothing of it is touched this run (`waitingOn` says why); `deferred`:
 * over the run's cap; `keep`: it stays. `progressRecord`: the backup failed and is only
 * a progress record under metadata/ (deleting it removes that record).
 */
export interface BackupPlan {
  backup: string;
  progressRecord?: true;
  verdict: 'delete' | 'blocked' | 'deferred' | 'keep';
  why: string;
  finishes: boolean;
  /** What keeps the deletion from finishing in this run, one sentence each. */
  waitingOn: string[];
}

export interface ExpiryPlan {
  location: string;
  /** RFC 3339: the time the verdicts were taken at. */
  at: string;
  dryRun: boolean;
  /** Every backup (and marked deletion) of the location, by name. */
  backups: BackupPlan[];
  actions: ExpiryAction[];
  /** The clusters read, and why one could not be. */
  clusters: { cluster: string; reachable: boolean; problem?: string }[];
  /** Things worth knowing that decided nothing (e.g. a claim whose snapshot cannot be traced). */
  warnings: string[];
}

/** What the run knows of one backup it deletes, read before planning its snapshots. */
export interface DeletionCandidate {
  backup: string;
  cause: DeletionCause;
  why: string;
  /** The backup has a deletion marker already. */
  marked: boolean;
  /** `backups/<b>/` still holds objects. */
  hasData: boolean;
  /** The location's catalog has an entry for it. */
  inCatalog: boolean;
  /** Its stored VolumeSnapshotContents (the CSI list); [] when it has none. */
  storedContents: VolumeSnapshotContent[];
  /** The cluster it was taken of (Skiff's label), where a temporary content is made first. */
  cluster?: string;
  /** Its velero-backup.json (or the copy in its marker), kept in the marker it gets. */
  stored?: Backup;
  /**
   * Set for a failed backup known only by its progress record: no deletion marker is
   * written (the record itself keeps the deletion going until it is removed), and the
   * record with its resource-list parts goes instead of backups/<b>/.
   */
  progressRecord?: { resourceListParts: number };
  /** Set when what is stored of it could not be read: nothing of it is touched this run. */
  unreadable?: string;
}

/** Sorts actions into the run's phase order, keeping the order of backups within a phase. */
export function inPhaseOrder(actions: readonly ExpiryAction[]): ExpiryAction[] {
  const rank = new Map(ACTION_PHASES.map((kind, i) => [kind, i]));
  return actions
    .map((action, i) => ({ action, i }))
    .sort((a, b) => rank.get(a.action.kind)! - rank.get(b.action.kind)! || a.i - b.i)
    .map(({ action }) => action);
}
