import { byCodeUnit } from '../core/ordering';

/**
 * The order in which a restore creates resource types: Velero's default
 * `--restore-resource-priorities` (pkg/cmd/server/config/config.go, v1.18,
 * defaultRestorePriorities). High priorities first, in list order; then every other
 * type alphabetically; then the low priorities, in list order.
 *
 * Why this order (from Velero's comment): CRDs before their objects; namespaces before
 * everything namespaced; storage and snapshot classes, snapshot contents and snapshots
 * before the PVCs made from them; PVs before PVCs; PVCs, secrets and config maps
 * before the pods that mount them; pods before replica sets and replica sets before
 * the controllers that adopt them; endpoints before services.
 */
export interface RestorePriorities {
  high: readonly string[];
  low: readonly string[];
}

export const DEFAULT_RESTORE_PRIORITIES: RestorePriorities = {
  high: [
    'customresourcedefinitions',
    'namespaces',
    'storageclasses',
    // Velero's list spells it "volumesnapshotclass.snapshot.storage.k8s.io" and resolves
    // it through discovery to the plural, which is what backups hold.
    'volumesnapshotclasses.snapshot.storage.k8s.io',
    'volumesnapshotcontents.snapshot.storage.k8s.io',
    'volumesnapshots.snapshot.storage.k8s.io',
    'datauploads.velero.io',
    'persistentvolumes',
    'persistentvolumeclaims',
    'serviceaccounts',
    'secrets',
    'configmaps',
    'limitranges',
    'priorityclasses',
    'pods',
    'replicasets.apps',
    'clusterclasses.cluster.x-k8s.io',
    'endpoints',
    'services',
  ],
  low: [
    'clusterbootstraps.run.tanzu.vmware.com',
    'clusters.cluster.x-k8s.io',
    'clusterresourcesets.addons.cluster.x-k8s.io',
    'apps.kappctrl.k14s.io',
    'packageinstalls.packaging.carvel.dev',
  ],
};

/**
 * The full group-resource names Velero's short entries stand for: Velero resolves each
 * entry through discovery, so `customresourcedefinitions` is the apiextensions one and
 * `storageclasses` the storage.k8s.io one.
 */
const QUALIFIED: Record<string, string> = {
  customresourcedefinitions: 'customresourcedefinitions.apiextensions.k8s.io',
  storageclasses: 'storageclasses.storage.k8s.io',
  priorityclasses: 'priorityclasses.scheduling.k8s.io',
};

function qualified(entry: string): string {
  return QUALIFIED[entry] ?? entry;
}

/**
 * Sorts group-resources (`deployments.apps`, `pods`) into restore order. Every input
 * appears once in the answer.
 */
export function restoreOrder(groupResources: Iterable<string>, priorities: RestorePriorities = DEFAULT_RESTORE_PRIORITIES): string[] {
  const present = new Set(groupResources);
  const high = priorities.high.map(qualified).filter((gr) => present.has(gr));
  const low = priorities.low.map(qualified).filter((gr) => present.has(gr) && !high.includes(gr));
  const placed = new Set([...high, ...low]);
  const rest = [...present].filter((gr) => !placed.has(gr)).sort(byCodeUnit);
  return [...high, ...rest, ...low];
}
