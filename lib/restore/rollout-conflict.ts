import { isDeepStrictEqual } from 'node:util';
import { applyRule, type ResourceModifiers } from './modifiers';
import type { RestoreObject } from './reset';

/**
 * The known way resource modifiers break a volume restore (Velero 1.15, restic restore
 * with a modifier on a Deployment): a rule that changes a workload controller's pod
 * template makes the controller roll out new pods, which replace the pods the volume
 * restore was working through, and the volume restore fails. Velero does not detect
 * it; the fix its users found is to patch the Pods instead. Skiff looks before creating
 * anything: each rule is applied to each workload being restored, and a changed pod
 * template of a workload whose pods mount volumes being restored is a conflict.
 */

/** Workload controllers and where their pod template is. */
const POD_TEMPLATE_PATHS: Record<string, readonly string[]> = {
  'deployments.apps': ['spec', 'template'],
  'statefulsets.apps': ['spec', 'template'],
  'daemonsets.apps': ['spec', 'template'],
  'replicasets.apps': ['spec', 'template'],
  'jobs.batch': ['spec', 'template'],
  'cronjobs.batch': ['spec', 'jobTemplate', 'spec', 'template'],
};

/** Whether objects of this group-resource have a pod template the check looks at. */
export function isWorkloadController(groupResource: string): boolean {
  return groupResource in POD_TEMPLATE_PATHS;
}

function at(object: unknown, path: readonly string[]): unknown {
  let current = object;
  for (const key of path) current = (current as Record<string, unknown> | undefined)?.[key];
  return current;
}

/** A workload as the restore would create it (metadata reset, before namespace mapping). */
export interface WorkloadToRestore {
  groupResource: string;
  /** Namespace in the backup. */
  namespace: string;
  name: string;
  object: RestoreObject;
}

export interface RolloutConflict {
  ruleIndex: number;
  /** e.g. `Deployment shop/web`. */
  workload: string;
  /** The PVC names its pods mount that this restore restores. */
  volumes: string[];
}

/**
 * Names of the restored claims a workload's pods mount: the template's
 * persistentVolumeClaim volumes, and for a StatefulSet the claims of its
 * volumeClaimTemplates (`<template>-<statefulset>-<ordinal>`).
 */
export function mountedRestoredClaims(workload: WorkloadToRestore, restoredClaims: ReadonlySet<string>): string[] {
  const template = at(workload.object, POD_TEMPLATE_PATHS[workload.groupResource] ?? []) as
    | { spec?: { volumes?: { persistentVolumeClaim?: { claimName?: string } }[] } }
    | undefined;
  const mounted = new Set<string>();
  for (const volume of template?.spec?.volumes ?? []) {
    const claim = volume.persistentVolumeClaim?.claimName;
    if (claim && restoredClaims.has(claim)) mounted.add(claim);
  }
  if (workload.groupResource === 'statefulsets.apps') {
    const templates = (at(workload.object, ['spec', 'volumeClaimTemplates']) as { metadata?: { name?: string } }[] | undefined) ?? [];
    for (const t of templates) {
      const prefix = `${t.metadata?.name}-${workload.name}-`;
      for (const claim of restoredClaims) {
        if (claim.startsWith(prefix) && /^\d+$/.test(claim.slice(prefix.length))) mounted.add(claim);
      }
    }
  }
  return [...mounted].sort();
}

/**
 * Whether a workload's pods mount any PVC at all (a template persistentVolumeClaim
 * volume, or a StatefulSet's volumeClaimTemplates): the only workloads the check can
 * flag, so the only ones a restore keeps for it while planning.
 */
export function mayMountClaims(workload: Pick<WorkloadToRestore, 'groupResource' | 'object'>): boolean {
  const template = at(workload.object, POD_TEMPLATE_PATHS[workload.groupResource] ?? []) as
    | { spec?: { volumes?: { persistentVolumeClaim?: unknown }[] } }
    | undefined;
  if (template?.spec?.volumes?.some((volume) => volume.persistentVolumeClaim)) return true;
  const templates = at(workload.object, ['spec', 'volumeClaimTemplates']) as unknown[] | undefined;
  return workload.groupResource === 'statefulsets.apps' && (templates?.length ?? 0) > 0;
}

/**
 * Every (rule, workload) pair where the rule changes the pod template of a workload
 * whose pods mount restored volumes.
 *
 * @param restoredClaimsByNamespace PVC names this restore restores, by namespace in the backup.
 */
export function findRolloutConflicts(
  modifiers: ResourceModifiers | undefined,
  workloads: readonly WorkloadToRestore[],
  restoredClaimsByNamespace: ReadonlyMap<string, ReadonlySet<string>>,
): RolloutConflict[] {
  const conflicts: RolloutConflict[] = [];
  for (const workload of workloads) {
    const path = POD_TEMPLATE_PATHS[workload.groupResource];
    if (!path) continue;
    const volumes = mountedRestoredClaims(workload, restoredClaimsByNamespace.get(workload.namespace) ?? new Set());
    if (volumes.length === 0) continue;
    let current = workload.object;
    for (const [ruleIndex, rule] of (modifiers?.resourceModifierRules ?? []).entries()) {
      let next: RestoreObject | undefined;
      try {
        next = applyRule(rule, { ...workload, labels: current.metadata?.labels }, current);
      } catch {
        continue; // Reported when the object is restored; a failing rule changes nothing.
      }
      if (!next) continue;
      if (!isDeepStrictEqual(at(current, path), at(next, path))) {
        conflicts.push({ ruleIndex, workload: `${current.kind ?? workload.groupResource} ${workload.namespace}/${workload.name}`, volumes });
      }
      current = next;
    }
  }
  return conflicts;
}

/** The refusal (or, with acceptRolloutRisk, the warning) for one conflict. */
export function rolloutConflictMessage(conflict: RolloutConflict): string {
  return (
    `resource modifier rule ${conflict.ruleIndex} changes the pod template of ${conflict.workload}, ` +
    `whose pods mount volumes being restored (${conflict.volumes.join(', ')}): the rollout this starts replaces the pods ` +
    'the volume restore works through, and the volume restore can fail. Target the pods instead ' +
    '(conditions.groupResource: pods), or set acceptRolloutRisk: true to restore anyway'
  );
}
