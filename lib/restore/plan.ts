import type { ArchiveRecord } from '../archive/tar-reader';
import { ValidationError } from '../core/errors';
import { byCodeUnit } from '../core/ordering';
import type { VolumeSnapshot, VolumeSnapshotContent } from '../csi/snapshot-api';
import { addMessage, addVeleroMessage, type BackupResults } from '../velero/results';
import type { RestoreSpec } from '../velero/restore';
import { createRestoreFilters, isCompleted } from './filters';
import { planSnapshotRestore, snapshotNameOf, type TargetSnapshotSupport } from './csi-volumes';
import type { ResourceModifiers } from './modifiers';
import { restoreOrder } from './priorities';
import { resetMetadataAndStatus, type RestoreObject } from './reset';
import { findRolloutConflicts, isWorkloadController, type RolloutConflict, type WorkloadToRestore } from './rollout-conflict';

/**
 * Reads a backup's tarball once into what the restore creates, in order.
 *
 * Velero's order (priorities.ts) is by resource type, and a tarball is not: so the
 * objects the filters let through are held until the tarball is read, grouped by
 * group-resource, as their JSON text (Buffers, outside the JavaScript heap; parsed
 * again when created). The memory a restore holds is therefore the JSON size of the
 * objects it restores (about 1-3 KB each: ~30 MB for 10,000 objects), bounded by
 * `maxHeldBytes`; a larger restore is refused with a message saying to restore fewer
 * namespaces at a time, rather than running the function out of memory. Everything
 * the filters leave out is never held.
 */

export const SNAPSHOTS_GR = 'volumesnapshots.snapshot.storage.k8s.io';
export const CONTENTS_GR = 'volumesnapshotcontents.snapshot.storage.k8s.io';
export const NAMESPACES_GR = 'namespaces';
const PVCS_GR = 'persistentvolumeclaims';
const PVS_GR = 'persistentvolumes';

/** One object to create. */
export interface PlanItem {
  groupResource: string;
  /** Namespace in the backup; undefined for cluster-scoped objects. */
  namespace?: string;
  name: string;
  /** The object's JSON as the tarball holds it. */
  bytes?: Buffer;
  /** An object the restore builds itself (snapshot objects, namespaces missing from the backup). */
  built?: RestoreObject;
}

/** All objects of one group-resource, created together (bounded concurrency), in namespace/name order. */
export interface PlanStep {
  groupResource: string;
  items: PlanItem[];
}

/** How a snapshotted PVC is restored: from this restored VolumeSnapshot. */
export interface PvcSnapshotPlan {
  volumeSnapshotName: string;
  driver: string;
  snapshotHandle: string;
  restoreSize?: string;
}

export interface RestorePlan {
  steps: PlanStep[];
  totalItems: number;
  /** By `namespace/name` of the PVC in the backup. */
  pvcSnapshots: Map<string, PvcSnapshotPlan>;
  /** PVs of the backup that are not restored (their claims get a new volume). */
  persistentVolumesNotRestored: Set<string>;
  conflicts: RolloutConflict[];
  /** Bytes of JSON held. */
  heldBytes: number;
}

export interface PlanContext {
  spec: RestoreSpec;
  restoreName: string;
  restoreUid: string;
  backupName: string;
  targetCluster: string;
  modifiers?: ResourceModifiers;
  target: TargetSnapshotSupport;
  /** The stored CSI lists, read only when a PVC's VolumeSnapshot is not in the tarball. */
  storedSnapshots: () => Promise<{ volumeSnapshots: VolumeSnapshot[]; contents: VolumeSnapshotContent[] }>;
  maxHeldBytes: number;
  results: BackupResults;
  log: (message: string) => void;
}

export const DEFAULT_MAX_HELD_BYTES = 1024 * 1024 * 1024;

function key(namespace: string | undefined, name: string): string {
  return namespace === undefined ? name : `${namespace}/${name}`;
}

function parse(item: PlanItem): RestoreObject {
  return item.built ?? (JSON.parse(item.bytes!.toString('utf8')) as RestoreObject);
}

interface Reading {
  groups: Map<string, PlanItem[]>;
  namespaceObjects: Map<string, Buffer>;
  snapshots: Map<string, VolumeSnapshot>;
  contents: Map<string, VolumeSnapshotContent>;
  heldBytes: number;
}

/** Pass over the tarball: filter, hold what is restored, keep the snapshot objects aside. */
async function read(records: AsyncIterable<ArchiveRecord>, context: PlanContext): Promise<Reading> {
  const filters = createRestoreFilters(context.spec);
  const reading: Reading = { groups: new Map(), namespaceObjects: new Map(), snapshots: new Map(), contents: new Map(), heldBytes: 0 };
  const seen = new Set<string>();
  for await (const record of records) {
    if (record.kind === 'version') {
      if (!record.version.startsWith('1.')) {
        throw new ValidationError('backup tarball', [{ path: 'metadata/version', message: `format ${record.version} is not supported; Skiff reads format 1.x` }]);
      }
      continue;
    }
    if (record.kind === 'skipped') {
      addVeleroMessage(context.results.warnings, `tarball entry ${record.path} was skipped: ${record.reason}`);
      continue;
    }
    const { entry } = record;
    if (record.kind === 'bad-item') {
      addMessage(context.results.errors, entry.namespace, `error restoring ${entry.groupResource} ${key(entry.namespace, entry.name)}: ${record.error}`);
      continue;
    }
    // Velero writes each object without a version folder and again under its preferred
    // version; other versions are copies for API-group-version restores.
    if (entry.version !== undefined && !entry.preferredVersion) continue;
    const id = `${entry.groupResource}|${key(entry.namespace, entry.name)}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const object = record.object as RestoreObject;
    if (entry.groupResource === SNAPSHOTS_GR && entry.namespace) {
      reading.snapshots.set(key(entry.namespace, entry.name), object as unknown as VolumeSnapshot);
      continue;
    }
    if (entry.groupResource === CONTENTS_GR) {
      // Restored as static contents built from the snapshots, never as they were.
      reading.contents.set(entry.name, object as unknown as VolumeSnapshotContent);
      continue;
    }
    if (entry.groupResource === NAMESPACES_GR) {
      reading.namespaceObjects.set(entry.name, record.bytes);
      continue;
    }
    const decision = filters.decide({ groupResource: entry.groupResource, namespace: entry.namespace, labels: object.metadata?.labels });
    if (!decision.restore) continue;
    if (isCompleted(entry.groupResource, object)) {
      context.log(`not restoring ${entry.groupResource} ${key(entry.namespace, entry.name)}: it had finished`);
      continue;
    }
    reading.heldBytes += record.bytes.length;
    if (reading.heldBytes > context.maxHeldBytes) {
      throw new ValidationError('restore', [
        {
          path: 'includedNamespaces',
          message: `the objects to restore exceed ${context.maxHeldBytes} bytes of JSON, more than one restore holds; restore fewer namespaces or resources at a time`,
        },
      ]);
    }
    const item: PlanItem = { groupResource: entry.groupResource, name: entry.name, bytes: record.bytes };
    if (entry.namespace !== undefined) item.namespace = entry.namespace;
    let group = reading.groups.get(entry.groupResource);
    if (!group) reading.groups.set(entry.groupResource, (group = []));
    group.push(item);
  }
  return reading;
}

/** Plans the snapshot-backed PVCs; drops the ones that cannot be restored (an error each) and their PVs. */
async function planVolumes(reading: Reading, context: PlanContext, plan: RestorePlan): Promise<void> {
  const claims = reading.groups.get(PVCS_GR) ?? [];
  const kept: PlanItem[] = [];
  const snapshotItems: PlanItem[] = [];
  const contentItems: PlanItem[] = [];
  let stored: Awaited<ReturnType<PlanContext['storedSnapshots']>> | undefined;
  for (const claim of claims) {
    const pvc = parse(claim) as RestoreObject & { spec?: { volumeName?: string } };
    const volumeSnapshotName = snapshotNameOf(pvc);
    if (!volumeSnapshotName || context.spec.restorePVs === false) {
      kept.push(claim);
      continue;
    }
    const namespace = claim.namespace!;
    let volumeSnapshot = reading.snapshots.get(key(namespace, volumeSnapshotName));
    let contents: ReadonlyMap<string, VolumeSnapshotContent> = reading.contents;
    if (!volumeSnapshot) {
      stored ??= await context.storedSnapshots();
      volumeSnapshot = stored.volumeSnapshots.find((vs) => vs.metadata.namespace === namespace && vs.metadata.name === volumeSnapshotName);
      contents = new Map(stored.contents.map((c) => [c.metadata.name, c]));
    }
    const targetNamespace = context.spec.namespaceMapping?.[namespace] ?? namespace;
    const result = planSnapshotRestore({
      restoreName: context.restoreName,
      restoreUid: context.restoreUid,
      backupName: context.backupName,
      pvc: key(namespace, claim.name),
      targetNamespace,
      volumeSnapshotName,
      volumeSnapshot,
      contents,
      target: context.target,
      targetCluster: context.targetCluster,
    });
    if (pvc.spec?.volumeName) plan.persistentVolumesNotRestored.add(pvc.spec.volumeName);
    if (result.kind === 'error') {
      addMessage(context.results.errors, namespace, result.message);
      continue;
    }
    kept.push(claim);
    plan.pvcSnapshots.set(key(namespace, claim.name), {
      volumeSnapshotName: result.name,
      driver: result.driver,
      snapshotHandle: result.snapshotHandle,
      ...(result.restoreSize ? { restoreSize: result.restoreSize } : {}),
    });
    contentItems.push({ groupResource: CONTENTS_GR, name: result.name, built: result.content as unknown as RestoreObject });
    snapshotItems.push({ groupResource: SNAPSHOTS_GR, namespace, name: result.name, built: result.snapshot as unknown as RestoreObject });
  }
  if (claims.length > 0) reading.groups.set(PVCS_GR, kept);
  if (contentItems.length > 0) reading.groups.set(CONTENTS_GR, contentItems);
  if (snapshotItems.length > 0) reading.groups.set(SNAPSHOTS_GR, snapshotItems);

  const volumes = reading.groups.get(PVS_GR);
  if (!volumes) return;
  reading.groups.set(
    PVS_GR,
    volumes.filter((pv) => {
      if (plan.persistentVolumesNotRestored.has(pv.name)) return false;
      // Velero: a dynamically provisioned volume (reclaim Delete) without a snapshot is
      // provisioned anew for its claim rather than restored pointing at a volume that
      // is gone, or that still belongs to the source cluster.
      const spec = (parse(pv) as { spec?: { persistentVolumeReclaimPolicy?: string } }).spec;
      if (spec?.persistentVolumeReclaimPolicy === 'Delete') {
        plan.persistentVolumesNotRestored.add(pv.name);
        return false;
      }
      return true;
    }),
  );
}

/** Namespaces to create: each one an object is restored into, plus included Namespace objects. */
function planNamespaces(reading: Reading, context: PlanContext): void {
  const filters = createRestoreFilters(context.spec);
  const needed = new Set<string>();
  for (const items of reading.groups.values()) for (const item of items) if (item.namespace !== undefined) needed.add(item.namespace);
  const namespacesIncluded = filters.decide({ groupResource: NAMESPACES_GR, labels: undefined });
  for (const [name, bytes] of reading.namespaceObjects) {
    if (!filters.includesNamespace(name) || !namespacesIncluded.restore) continue;
    const labels = (JSON.parse(bytes.toString('utf8')) as RestoreObject).metadata?.labels;
    if (filters.decide({ groupResource: NAMESPACES_GR, labels }).restore) needed.add(name);
  }
  if (needed.size === 0) return;
  reading.groups.set(
    NAMESPACES_GR,
    [...needed].map((name) => {
      const bytes = reading.namespaceObjects.get(name);
      // Velero creates a namespace the backup has no object for (restore.go getNamespace).
      return bytes ? { groupResource: NAMESPACES_GR, name, bytes } : { groupResource: NAMESPACES_GR, name, built: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } };
    }),
  );
}

function workloadsOf(reading: Reading): WorkloadToRestore[] {
  const workloads: WorkloadToRestore[] = [];
  for (const [groupResource, items] of reading.groups) {
    if (!isWorkloadController(groupResource)) continue;
    for (const item of items) {
      const object = parse(item);
      resetMetadataAndStatus(object);
      workloads.push({ groupResource, namespace: item.namespace ?? '', name: item.name, object });
    }
  }
  return workloads;
}

function restoredClaims(reading: Reading): Map<string, Set<string>> {
  const byNamespace = new Map<string, Set<string>>();
  for (const claim of reading.groups.get(PVCS_GR) ?? []) {
    let names = byNamespace.get(claim.namespace!);
    if (!names) byNamespace.set(claim.namespace!, (names = new Set()));
    names.add(claim.name);
  }
  return byNamespace;
}

/**
 * Reads the tarball's records into the restore's plan: steps in Velero's order, PVCs
 * planned from their snapshots, namespaces to create, and the rollout conflicts of the
 * resource modifiers (rollout-conflict.ts). Problems with single objects are added to
 * `context.results`; the plan goes on without them.
 *
 * @throws ValidationError for an unsupported format or more than `maxHeldBytes` to hold,
 *   and whatever the tarball reader throws (unsafe entries).
 */
export async function buildRestorePlan(
  records: AsyncIterable<ArchiveRecord>,
  context: PlanContext,
): Promise<RestorePlan> {
  const reading = await read(records, context);
  const plan: RestorePlan = {
    steps: [],
    totalItems: 0,
    pvcSnapshots: new Map(),
    persistentVolumesNotRestored: new Set(),
    conflicts: [],
    heldBytes: reading.heldBytes,
  };
  await planVolumes(reading, context, plan);
  planNamespaces(reading, context);
  plan.conflicts = findRolloutConflicts(context.modifiers, workloadsOf(reading), restoredClaims(reading));
  for (const groupResource of restoreOrder(reading.groups.keys())) {
    const items = reading.groups.get(groupResource)!;
    if (items.length === 0) continue;
    items.sort((a, b) => byCodeUnit(a.namespace ?? '', b.namespace ?? '') || byCodeUnit(a.name, b.name));
    plan.steps.push({ groupResource, items });
    plan.totalItems += items.length;
  }
  return plan;
}
