import { pvcFromSnapshot, type PersistentVolumeClaimObject } from '../csi/builders';
import { VOLUME_SNAPSHOT_NAME_KEY } from '../velero/labels';
import type { RestoreSpec } from '../velero/restore';
import { applyResourceModifiers, type ResourceModifiers } from './modifiers';
import { NAMESPACES_GR, type PlanItem, type RestorePlan } from './plan';
import {
  addRestoreLabels,
  resetMetadataAndStatus,
  resetPersistentVolume,
  resetPersistentVolumeClaim,
  resetService,
  type RestoreObject,
} from './reset';

/**
 * Turns one planned item into the object to create, in Velero's order
 * (pkg/restore/restore.go restoreItem): metadata and status reset, the type's own
 * changes (Service, PV, PVC), resource modifiers, then namespace mapping, then the
 * restore's labels (last, so that no modifier removes them).
 */

export interface TransformContext {
  spec: RestoreSpec;
  restoreName: string;
  backupName: string;
  modifiers?: ResourceModifiers;
  plan: Pick<RestorePlan, 'pvcSnapshots' | 'persistentVolumesNotRestored'>;
}

/** The object to create, and the errors of modifier rules that failed on it. */
export interface Transformed {
  object: RestoreObject;
  modifierErrors: string[];
}

/** A PVC's annotations that only meant something in the backup. */
const BACKUP_ONLY_PVC_KEYS = [VOLUME_SNAPSHOT_NAME_KEY];

function restorePvc(object: RestoreObject, item: PlanItem, context: TransformContext): RestoreObject {
  const snapshot = context.plan.pvcSnapshots.get(`${item.namespace}/${item.name}`);
  for (const keyName of BACKUP_ONLY_PVC_KEYS) {
    delete object.metadata?.annotations?.[keyName];
    delete object.metadata?.labels?.[keyName];
  }
  const volumeName = (object.spec as { volumeName?: string } | undefined)?.volumeName;
  resetPersistentVolumeClaim(object, volumeName !== undefined && !context.plan.persistentVolumesNotRestored.has(volumeName));
  if (snapshot) return pvcFromSnapshot(object as PersistentVolumeClaimObject, snapshot.volumeSnapshotName) as RestoreObject;
  if (context.spec.restorePVs === false) {
    const spec = object.spec as { dataSource?: unknown; dataSourceRef?: unknown } | undefined;
    if (spec) {
      delete spec.dataSource;
      delete spec.dataSourceRef;
    }
  }
  return object;
}

/**
 * The object a planned item is created as. Objects the restore built itself (snapshot
 * objects, namespaces absent from the backup) get only the mapping and the labels.
 *
 * @throws SyntaxError when the item's JSON does not parse (the tarball reader already
 *   checked it, so only a damaged plan would); Error when its JSON is not held (the
 *   tarball changed between passes).
 */
export function objectToCreate(item: PlanItem, context: TransformContext): Transformed {
  const mapping = context.spec.namespaceMapping ?? {};
  if (!item.built && !item.bytes) throw new Error('the object was not found when the tarball was read again for its tier');
  let object: RestoreObject = item.built ? structuredClone(item.built) : (JSON.parse(item.bytes!.toString('utf8')) as RestoreObject);
  const modifierErrors: string[] = [];
  if (!item.built) {
    resetMetadataAndStatus(object);
    if (item.groupResource === 'services') resetService(object, context.spec.preserveNodePorts ?? false);
    if (item.groupResource === 'persistentvolumes') resetPersistentVolume(object, mapping);
    if (item.groupResource === 'persistentvolumeclaims') object = restorePvc(object, item, context);
    const modified = applyResourceModifiers(
      context.modifiers,
      { groupResource: item.groupResource, namespace: item.namespace ?? '', name: item.name, labels: object.metadata?.labels },
      object,
    );
    object = modified.object;
    modifierErrors.push(...modified.failures.map((f) => f.message));
  }
  const metadata = (object.metadata ??= {});
  if (item.groupResource === NAMESPACES_GR) metadata.name = mapping[item.name] ?? item.name;
  else if (item.namespace !== undefined) metadata.namespace = mapping[item.namespace] ?? item.namespace;
  addRestoreLabels(object, context.backupName, context.restoreName);
  return { object, modifierErrors };
}

/** The namespace an item is restored into (after mapping); undefined for cluster-scoped items. */
export function targetNamespaceOf(item: PlanItem, spec: RestoreSpec): string | undefined {
  if (item.namespace === undefined) return undefined;
  return spec.namespaceMapping?.[item.namespace] ?? item.namespace;
}
