import { PVC_SOURCE_FINALIZER, type VolumeSnapshot } from '../../lib/csi/snapshot-api';
import type { KubeObject } from '../../lib/kube/list-all';

/**
 * The claims of one namespace that hold the snapshot-controller's
 * pvc-as-source-protection finalizer although no VolumeSnapshot is being cut from them:
 * the controller's own test for removing it (external-snapshotter v8.7.0
 * pkg/common-controller/snapshot_controller.go isPVCBeingUsed: a VolumeSnapshot of the
 * namespace with the claim as its source that is not readyToUse). The controller
 * removes it while it deletes the last such VolumeSnapshot, but reads the claim from
 * its informer's cache; right after an API server restart that cache can miss the
 * finalizer, and once the VolumeSnapshot is gone no event ever brings the controller
 * back to the claim, whose namespace then never finishes deleting.
 */
export function staleSourceFinalizers(claims: readonly KubeObject[], snapshots: readonly VolumeSnapshot[]): string[] {
  const inCreation = new Set(snapshots.filter((s) => s.status?.readyToUse !== true).map((s) => s.spec.source.persistentVolumeClaimName));
  return claims
    .filter((c) => ((c.metadata as { finalizers?: string[] }).finalizers ?? []).includes(PVC_SOURCE_FINALIZER))
    .map((c) => c.metadata.name)
    .filter((name) => !inCreation.has(name));
}

/**
 * A JSON patch that removes the finalizer from the claim as last read: `test` first,
 * so the patch fails (422) rather than remove another finalizer when the list changed.
 */
export function removeFinalizerPatch(claim: KubeObject, finalizer: string): object[] {
  const finalizers = (claim.metadata as { finalizers?: string[] }).finalizers ?? [];
  const at = finalizers.indexOf(finalizer);
  if (at < 0) return [];
  return [
    { op: 'test', path: `/metadata/finalizers/${at}`, value: finalizer },
    { op: 'remove', path: `/metadata/finalizers/${at}` },
  ];
}
