import { SKIP_SINGLE_REPLICA_DETACHED_ANNOTATION } from '../velero/labels';
import type { Finding } from './findings';

/**
 * Single-replica Longhorn volumes (Harvester's upgrade check, source document 003):
 * a volume with `spec.numberOfReplicas == 1` has one copy of its data, so a node drain,
 * an upgrade or a failed disk can lose it. Harvester first checked only attached ones
 * and missed detached volumes, which are just as unprotected; both are found here.
 *
 * Attached (or attaching, or in any state but `detached`) volumes always block: one
 * cannot tell whether they are in use. A detached one blocks too, unless the volume or
 * the cluster's configuration carries `harvesterhci.io/skipSingleReplicaDetachedVol`
 * with a non-empty value; it is then a warning. On a single-node cluster every volume
 * can only have one replica, so the check is skipped and says why.
 */

/** The fields of a `volumes.longhorn.io` object the check reads. */
export interface LonghornVolumeLike {
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { numberOfReplicas?: number };
  status?: { state?: string; kubernetesStatus?: { namespace?: string; pvcName?: string } };
}

/** What the check is given: the volumes (undefined when Longhorn is not installed) and the node count. */
export interface SingleReplicaInput {
  /** Undefined when the cluster does not serve volumes.longhorn.io. */
  volumes: readonly LonghornVolumeLike[] | undefined;
  /** Nodes listed; undefined when they could not be listed. */
  nodeCount: number | undefined;
  /** The cluster's configuration `annotations` (the same opt-out key as on a volume). */
  clusterAnnotations?: Record<string, string>;
}

/** `Volume longhorn-system/pvc-1 (PVC shop/data)`. */
function describeVolume(volume: LonghornVolumeLike): string {
  const claim = volume.status?.kubernetesStatus;
  const pvc = claim?.pvcName ? ` (PVC ${claim.namespace ?? ''}/${claim.pvcName})` : '';
  return `Volume ${volume.metadata.namespace ?? 'longhorn-system'}/${volume.metadata.name}${pvc}`;
}

const optedOut = (annotations: Record<string, string> | undefined) =>
  (annotations?.[SKIP_SINGLE_REPLICA_DETACHED_ANNOTATION] ?? '') !== '';

/** The findings about single-replica volumes; see the module comment for the rules. */
export function singleReplicaFindings(input: SingleReplicaInput): Finding[] {
  const check = 'single-replica' as const;
  if (input.volumes === undefined) {
    return [{ check, severity: 'info', message: 'the cluster does not serve volumes.longhorn.io (no Longhorn); nothing to check', objects: [], action: '' }];
  }
  if (input.nodeCount === 1) {
    return [
      {
        check,
        severity: 'info',
        message: 'single-node cluster: every volume has one replica at most, so single-replica volumes are expected; check skipped',
        objects: [],
        action: '',
      },
    ];
  }
  const findings: Finding[] = [];
  if (input.nodeCount === undefined || input.nodeCount === 0) {
    findings.push({
      check,
      severity: 'info',
      message:
        input.nodeCount === 0
          ? 'the cluster lists no Nodes, so whether it is a single-node cluster is unknown; single-replica volumes are checked as on a multi-node cluster'
          : 'the Nodes could not be listed, so whether the cluster has a single node is unknown; single-replica volumes are checked as on a multi-node cluster',
      objects: [],
      action: input.nodeCount === 0 ? '' : 'grant list on nodes to tell single-node clusters apart',
    });
  }
  const single = input.volumes.filter((v) => v.spec?.numberOfReplicas === 1);
  const detached = single.filter((v) => v.status?.state === 'detached');
  const inUse = single.filter((v) => v.status?.state !== 'detached');
  const clusterOptOut = optedOut(input.clusterAnnotations);
  const detachedAllowed = detached.filter((v) => clusterOptOut || optedOut(v.metadata.annotations));
  const detachedBlocking = detached.filter((v) => !detachedAllowed.includes(v));
  const raise = 'raise spec.numberOfReplicas to 2 or more (or move the data to a volume that has more replicas)';
  if (inUse.length > 0) {
    findings.push({
      check,
      severity: 'block',
      message: `${inUse.length} single-replica Longhorn volume${inUse.length > 1 ? 's are' : ' is'} attached or in use (state ${[...new Set(inUse.map((v) => v.status?.state || 'unknown'))].join(', ')}): one node or disk failure loses the data`,
      objects: inUse.map(describeVolume),
      action: raise,
    });
  }
  if (detachedBlocking.length > 0) {
    findings.push({
      check,
      severity: 'block',
      message: `${detachedBlocking.length} detached single-replica Longhorn volume${detachedBlocking.length > 1 ? 's' : ''}: the data has one copy even while unused`,
      objects: detachedBlocking.map(describeVolume),
      action: `${raise}; or, to accept the risk for detached volumes, annotate the volume ${SKIP_SINGLE_REPLICA_DETACHED_ANNOTATION}=true or set that key in the cluster's annotations in the configuration`,
    });
  }
  if (detachedAllowed.length > 0) {
    findings.push({
      check,
      severity: 'warn',
      message: `${detachedAllowed.length} detached single-replica Longhorn volume${detachedAllowed.length > 1 ? 's' : ''} let through by ${SKIP_SINGLE_REPLICA_DETACHED_ANNOTATION}${clusterOptOut ? ' (cluster configuration)' : ''}`,
      objects: detachedAllowed.map(describeVolume),
      action: raise,
    });
  }
  return findings;
}
