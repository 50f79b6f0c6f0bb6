import type { LabelSelector } from './backup';
import { DEFAULT_VELERO_NAMESPACE, VELERO_API_VERSION } from './backup/types';

/**
 * Velero's Restore object (pkg/apis/velero/v1/restore_types.go), the fields Skiff
 * reads and writes. Skiff keeps it in its restore record; `GET /restores/{name}` shows it.
 */

export const RESTORE_KIND = 'Restore';

/** Velero's restore phases. */
export const RESTORE_PHASES = [
  'New',
  'FailedValidation',
  'InProgress',
  'WaitingForPluginOperations',
  'Finalizing',
  'Completed',
  'PartiallyFailed',
  'Failed',
] as const;
export type RestorePhase = (typeof RESTORE_PHASES)[number];

/** Phases after which nothing more happens. */
export const FINAL_RESTORE_PHASES: readonly RestorePhase[] = ['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation'];

/** What an existing object gets: left as it is (`none`) or updated to the backed-up one. */
export type ExistingResourcePolicy = 'none' | 'update';

/** The Velero Restore spec fields Skiff supports, with Velero's names and meanings. */
export interface RestoreSpec {
  backupName: string;
  includedNamespaces?: string[];
  excludedNamespaces?: string[];
  includedResources?: string[];
  excludedResources?: string[];
  /** true: every cluster-scoped type; false: none; unset: only when restoring all namespaces. */
  includeClusterResources?: boolean | null;
  /** Source namespace → target namespace. */
  namespaceMapping?: Record<string, string>;
  labelSelector?: LabelSelector;
  orLabelSelectors?: LabelSelector[];
  /** Whether PVCs are restored from their snapshots (default true). */
  restorePVs?: boolean;
  preserveNodePorts?: boolean;
  existingResourcePolicy?: ExistingResourcePolicy;
}

export interface RestoreStatus {
  phase: RestorePhase;
  startTimestamp?: string;
  completionTimestamp?: string;
  progress?: { totalItems: number; itemsRestored: number };
  warnings?: number;
  errors?: number;
  failureReason?: string;
  validationErrors?: string[];
}

export interface Restore {
  apiVersion: typeof VELERO_API_VERSION;
  kind: typeof RESTORE_KIND;
  metadata: {
    name: string;
    namespace: string;
    /** Names the restore's VolumeSnapshots and contents, as Velero's restore UID does. */
    uid: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
  };
  spec: RestoreSpec;
  status: RestoreStatus;
}

/** A new Restore (phase New). */
export function newRestore(input: { name: string; uid: string; spec: RestoreSpec; now: Date; labels?: Record<string, string> }): Restore {
  return {
    apiVersion: VELERO_API_VERSION,
    kind: RESTORE_KIND,
    metadata: {
      name: input.name,
      namespace: DEFAULT_VELERO_NAMESPACE,
      uid: input.uid,
      creationTimestamp: input.now.toISOString(),
      ...(input.labels ? { labels: input.labels } : {}),
    },
    spec: input.spec,
    status: { phase: 'New' },
  };
}
