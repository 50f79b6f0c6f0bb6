import { PVC_SOURCE_FINALIZER } from '../csi/snapshot-api';
import { BACKUP_NAME_LABEL, RESTORE_NAME_LABEL, backupLabelValue, restoreLabelValue } from '../velero/labels';

/**
 * What a restore changes on every object before creating it, as Velero does
 * (pkg/restore/restore.go: resetMetadata, resetStatus, addRestoreLabels,
 * resetVolumeBindingInfo; pkg/restore/actions/service_action.go). All functions take
 * a parsed object and change it in place.
 */

/** A parsed Kubernetes object as restore handles it: plain JSON. */
export type RestoreObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> & {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
};

/**
 * Metadata the source cluster assigned, which the target cluster assigns anew.
 * `ownerReferences` go too, all of them, as in Velero: a reference carries its owner's
 * uid from the source cluster, and the garbage collector deletes an object whose owner
 * uid does not exist, which is every owner, restored or not (restored owners get new
 * uids). Controllers that adopt by selector (ReplicaSets, Deployments, ...) adopt the
 * restored objects again. `managedFields` describe the source cluster's writers.
 */
const SOURCE_METADATA = [
  'generateName',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'ownerReferences',
  'managedFields',
];

/** Removes what the source cluster assigned (metadata above, and `status`). */
export function resetMetadataAndStatus(object: RestoreObject): void {
  const metadata = object.metadata ?? {};
  for (const key of SOURCE_METADATA) delete metadata[key];
  object.metadata = metadata;
  delete object.status;
}

/** Adds `velero.io/backup-name` and `velero.io/restore-name` (Velero's addRestoreLabels). */
export function addRestoreLabels(object: RestoreObject, backupName: string, restoreName: string): void {
  const metadata = (object.metadata ??= {});
  metadata.labels = {
    ...metadata.labels,
    [BACKUP_NAME_LABEL]: backupLabelValue(backupName),
    [RESTORE_NAME_LABEL]: restoreLabelValue(restoreName),
  };
}

/** Whether an object carries the label of restore `restoreName`. */
export function isFromRestore(object: { metadata?: { labels?: Record<string, string> } }, restoreName: string): boolean {
  return object.metadata?.labels?.[RESTORE_NAME_LABEL] === restoreLabelValue(restoreName);
}

/** Annotations the PV controller sets on bound volumes and claims. */
export const BIND_COMPLETED_ANNOTATION = 'pv.kubernetes.io/bind-completed';
export const BOUND_BY_CONTROLLER_ANNOTATION = 'pv.kubernetes.io/bound-by-controller';
const PROVISIONER_ANNOTATIONS = ['volume.kubernetes.io/storage-provisioner', 'volume.beta.kubernetes.io/storage-provisioner'];
const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';

function removeAnnotations(object: RestoreObject, keys: readonly string[]): void {
  const annotations = object.metadata?.annotations;
  if (!annotations) return;
  for (const key of keys) delete annotations[key];
}

/**
 * A PersistentVolume restored as it was: its claim reference loses the source uid and
 * version, and the binding annotations go, so the PV controller binds it to the
 * restored claim again (Velero's resetVolumeBindingInfo).
 */
export function resetPersistentVolume(pv: RestoreObject, namespaceMapping: Readonly<Record<string, string>>): void {
  const spec = pv.spec as { claimRef?: Record<string, unknown> } | undefined;
  const claimRef = spec?.claimRef;
  if (claimRef) {
    delete claimRef.uid;
    delete claimRef.resourceVersion;
    const namespace = claimRef.namespace as string | undefined;
    if (namespace && namespaceMapping[namespace]) claimRef.namespace = namespaceMapping[namespace];
  }
  removeAnnotations(pv, [BIND_COMPLETED_ANNOTATION, BOUND_BY_CONTROLLER_ANNOTATION]);
}

/**
 * Finalizers a controller holds on a claim only while an operation of the source cluster
 * is under way: the snapshot-controller's while a snapshot of it is not ready yet
 * (external-snapshotter pkg/utils/util.go), the external-provisioner's while a clone of
 * it is pending. A claim backed up in that window carries them; restored, nothing in the
 * target cluster would ever remove them, and the claim and its namespace could never be
 * deleted. Velero keeps every finalizer; Skiff drops these two.
 */
const SOURCE_OPERATION_FINALIZERS = [PVC_SOURCE_FINALIZER, 'provisioner.storage.kubernetes.io/cloning-protection'];

/**
 * A PVC as it is restored. Its binding annotations go; `volumeName` goes too when its
 * volume is not restored (a dynamically provisioned one is provisioned anew), as Velero
 * does for the volumes it re-provisions; so do the source operations' finalizers.
 */
export function resetPersistentVolumeClaim(pvc: RestoreObject, keepVolumeName: boolean): void {
  removeAnnotations(pvc, [BIND_COMPLETED_ANNOTATION, BOUND_BY_CONTROLLER_ANNOTATION, SELECTED_NODE_ANNOTATION, ...PROVISIONER_ANNOTATIONS]);
  const spec = pvc.spec as { volumeName?: string } | undefined;
  if (spec && !keepVolumeName) delete spec.volumeName;
  const metadata = pvc.metadata as { finalizers?: string[] } | undefined;
  if (metadata?.finalizers) {
    metadata.finalizers = metadata.finalizers.filter((f) => !SOURCE_OPERATION_FINALIZERS.includes(f));
    if (metadata.finalizers.length === 0) delete metadata.finalizers;
  }
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

interface ServicePort {
  name?: string;
  port?: number;
  nodePort?: number;
}

/** Node ports the user set explicitly (in kubectl's last-applied configuration), by port name or number. */
function explicitNodePorts(service: RestoreObject): Set<string> {
  const explicit = new Set<string>();
  const text = service.metadata?.annotations?.[LAST_APPLIED];
  if (!text) return explicit;
  try {
    const applied = JSON.parse(text) as { spec?: { ports?: ServicePort[] } };
    for (const port of applied.spec?.ports ?? []) {
      if (port.nodePort) explicit.add(port.name ?? String(port.port));
    }
  } catch {
    // A damaged annotation explains nothing: treat every node port as assigned.
  }
  return explicit;
}

/**
 * A Service as Velero's service action restores it: the cluster IPs go (the target
 * cluster assigns its own, and the source's may be taken or outside its range), except
 * for headless services (`None`); node ports go unless `preserveNodePorts`, or the
 * user set them explicitly (kubectl's last-applied configuration says so).
 */
export function resetService(service: RestoreObject, preserveNodePorts: boolean): void {
  const spec = service.spec as { clusterIP?: string; clusterIPs?: string[]; ports?: ServicePort[]; healthCheckNodePort?: number } | undefined;
  if (!spec) return;
  if (spec.clusterIP !== 'None') {
    delete spec.clusterIP;
    delete spec.clusterIPs;
  }
  if (preserveNodePorts) return;
  const explicit = explicitNodePorts(service);
  for (const port of spec.ports ?? []) {
    if (!explicit.has(port.name ?? String(port.port))) delete port.nodePort;
  }
  if (!explicit.size) delete spec.healthCheckNodePort;
}
