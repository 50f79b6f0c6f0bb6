import type { ArchiveItemEntry, ArchiveRecord } from '../archive/tar-reader';
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
import type { SourceVersions } from './api-versions';
import { findRolloutConflicts, isWorkloadController, mayMountClaims, type RolloutConflict, type WorkloadToRestore } from './rollout-conflict';

/**
 * Reads a backup's tarball into the restore's plan: what is created, in which order.
 *
 * Velero's order (priorities.ts) is by resource type, and a tarball is not; holding
 * every object until the tarball is read would make a restore's memory the size of the
 * backup. So this first pass over the tarball holds only what planning needs: for each
 * object that passes the filters its place in the plan (group-resource, namespace,
 * name, JSON size: about 200 bytes of bookkeeping an object, never its JSON), the
 * Namespace objects, the backed-up VolumeSnapshots and contents and the few fields of
 * PVCs and PVs the volume plan reads, and (only when resource modifiers are given) the
 * workloads the rollout-conflict check reads. The objects' JSON is read later, one
 * priority tier (or a few small consecutive ones, up to a byte budget) per pass over
 * the tarball (tiers.ts), so a restore holds the JSON of one tier at a time. A single
 * tier larger than `maxHeldBytes` is refused here, before anything is created.
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
  /** Length of the object's JSON in the tarball (0 for built objects). */
  size: number;
  /**
   * The object's JSON as the tarball holds it: set while its tier is loaded
   * (tiers.ts), dropped once its step is done.
   */
  bytes?: Buffer;
  /** An object the restore builds itself (snapshot objects, namespaces missing from the backup). */
  built?: RestoreObject;
}

/** All objects of one group-resource, created together (bounded concurrency), in namespace/name order. */
export interface PlanStep {
  groupResource: string;
  items: PlanItem[];
  /** JSON bytes of the items still to be read from the tarball (0 when the plan holds them all). */
  bytes: number;
  /** Whether the items' JSON must be read from the tarball before the step runs (tiers.ts). */
  fromTarball: boolean;
  /**
   * The API version folder the items' JSON is read from, when the restore chose a
   * version other than the backup's preferred copy (api-versions.ts).
   */
  version?: string;
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
  /** `resource.group` → API version restored, where it is not the backup's preferred copy. */
  versions: Map<string, string>;
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
  /** The most JSON one priority tier (one group-resource) may hold, in bytes. */
  maxHeldBytes: number;
  results: BackupResults;
  log: (message: string) => void;
  /**
   * Chooses the API version of each group-resource from the versions the backup holds
   * (api-versions.ts); answers only the choices that differ from the preferred copy.
   */
  chooseVersions: (sources: ReadonlyMap<string, SourceVersions>) => Promise<Map<string, string>>;
}

/** The most JSON one tier may hold by default: a larger tier is refused before anything is created. */
export const DEFAULT_MAX_HELD_BYTES = 1024 * 1024 * 1024;

function key(namespace: string | undefined, name: string): string {
  return namespace === undefined ? name : `${namespace}/${name}`;
}

/** The identity of an object in the tarball: the same in every pass (tiers.ts matches by it). */
export function itemId(groupResource: string, namespace: string | undefined, name: string): string {
  return `${groupResource}|${key(namespace, name)}`;
}

/**
 * Whether a tarball item is the copy a restore reads: Velero writes each object without
 * a version folder and again under its preferred version; other versions are copies
 * for API-group-version restores, read instead when `version` (the restore's choice
 * for the item's group-resource) names one. The first copy read wins, in every pass.
 */
export function isRestoredCopy(entry: Pick<ArchiveItemEntry, 'version' | 'preferredVersion'>, version?: string): boolean {
  if (version !== undefined) return entry.version === version;
  return entry.version === undefined || Boolean(entry.preferredVersion);
}

/** Notes the API version folder an item was found under (versions a restore may choose from). */
function noteVersion(sources: Map<string, SourceVersions>, entry: Pick<ArchiveItemEntry, 'groupResource' | 'version' | 'preferredVersion'>): void {
  if (entry.version === undefined) return;
  let source = sources.get(entry.groupResource);
  if (!source) sources.set(entry.groupResource, (source = { versions: [] }));
  if (!source.versions.includes(entry.version)) source.versions.push(entry.version);
  if (entry.preferredVersion) source.preferred = entry.version;
}

/** What the volume plan needs of a PVC. */
interface ClaimFacts {
  snapshotName?: string;
  volumeName?: string;
}

interface Reading {
  groups: Map<string, PlanItem[]>;
  namespaceObjects: Map<string, Buffer>;
  snapshots: Map<string, VolumeSnapshot>;
  contents: Map<string, VolumeSnapshotContent>;
  /** By `namespace/name`. */
  claims: Map<string, ClaimFacts>;
  /** Names of PVs whose reclaim policy is Delete. */
  dynamicVolumes: Set<string>;
  /** Workloads that may mount restored claims, as they would be created; read only with modifiers. */
  workloads: WorkloadToRestore[];
  bytesByGroup: Map<string, number>;
  /** The API versions the tarball holds of each group-resource. */
  sourceVersions: Map<string, SourceVersions>;
}

function hasRules(modifiers: ResourceModifiers | undefined): boolean {
  return (modifiers?.resourceModifierRules.length ?? 0) > 0;
}

/** Keeps what planning needs of an object that passed the filters. */
function note(reading: Reading, context: PlanContext, entry: ArchiveItemEntry, object: RestoreObject, size: number): void {
  const groupResource = entry.groupResource;
  if (groupResource === PVCS_GR) {
    const spec = (object as { spec?: { volumeName?: string } }).spec;
    const facts: ClaimFacts = {};
    const snapshotName = snapshotNameOf(object);
    if (snapshotName) facts.snapshotName = snapshotName;
    if (spec?.volumeName) facts.volumeName = spec.volumeName;
    reading.claims.set(key(entry.namespace, entry.name), facts);
  }
  if (groupResource === PVS_GR) {
    const spec = (object as { spec?: { persistentVolumeReclaimPolicy?: string } }).spec;
    if (spec?.persistentVolumeReclaimPolicy === 'Delete') reading.dynamicVolumes.add(entry.name);
  }
  if (isWorkloadController(groupResource) && hasRules(context.modifiers)) {
    const workload = { groupResource, namespace: entry.namespace ?? '', name: entry.name, object };
    if (mayMountClaims(workload)) {
      resetMetadataAndStatus(object);
      reading.workloads.push(workload);
    }
  }
  const item: PlanItem = { groupResource, name: entry.name, size };
  if (entry.namespace !== undefined) item.namespace = entry.namespace;
  let group = reading.groups.get(groupResource);
  if (!group) reading.groups.set(groupResource, (group = []));
  group.push(item);
  const bytes = (reading.bytesByGroup.get(groupResource) ?? 0) + size;
  reading.bytesByGroup.set(groupResource, bytes);
  if (bytes > context.maxHeldBytes) {
    throw new ValidationError('restore', [
      {
        path: 'includedNamespaces',
        message:
          `the ${groupResource} objects to restore exceed ${context.maxHeldBytes} bytes of JSON, more than one restore holds of one resource type; ` +
          'restore fewer namespaces or resources at a time',
      },
    ]);
  }
}

/** First pass over the tarball: filter, keep each restored object's place, keep the snapshot objects aside. */
async function read(records: AsyncIterable<ArchiveRecord>, context: PlanContext): Promise<Reading> {
  const filters = createRestoreFilters(context.spec);
  const reading: Reading = {
    groups: new Map(),
    namespaceObjects: new Map(),
    snapshots: new Map(),
    contents: new Map(),
    claims: new Map(),
    dynamicVolumes: new Set(),
    workloads: [],
    bytesByGroup: new Map(),
    sourceVersions: new Map(),
  };
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
    noteVersion(reading.sourceVersions, entry);
    if (!isRestoredCopy(entry)) continue;
    const id = itemId(entry.groupResource, entry.namespace, entry.name);
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
    note(reading, context, entry, object, record.bytes.length);
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
    const facts = reading.claims.get(key(claim.namespace, claim.name)) ?? {};
    const volumeSnapshotName = facts.snapshotName;
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
    if (facts.volumeName) plan.persistentVolumesNotRestored.add(facts.volumeName);
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
    contentItems.push({ groupResource: CONTENTS_GR, name: result.name, size: 0, built: result.content as unknown as RestoreObject });
    snapshotItems.push({ groupResource: SNAPSHOTS_GR, namespace, name: result.name, size: 0, built: result.snapshot as unknown as RestoreObject });
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
      if (reading.dynamicVolumes.has(pv.name)) {
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
      return bytes
        ? { groupResource: NAMESPACES_GR, name, size: bytes.length, bytes }
        : { groupResource: NAMESPACES_GR, name, size: 0, built: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } };
    }),
  );
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

/** A step; its items' JSON is read from the tarball later (from `version`'s folder, when given) unless the plan holds all of it. */
function stepOf(groupResource: string, items: PlanItem[], version: string | undefined): PlanStep {
  const pending = items.filter((item) => !item.built && !item.bytes);
  const step: PlanStep = { groupResource, items, bytes: pending.reduce((sum, item) => sum + item.size, 0), fromTarball: pending.length > 0 };
  if (version !== undefined && step.fromTarball) step.version = version;
  return step;
}

/**
 * Reads the tarball's records (a first pass) into the restore's plan: steps in
 * Velero's order with their items' places (not their JSON: tiers.ts reads that, tier
 * by tier), PVCs planned from their snapshots, namespaces to create, and the rollout
 * conflicts of the resource modifiers (rollout-conflict.ts). Problems with single
 * objects are added to `context.results`; the plan goes on without them.
 *
 * @throws ValidationError for an unsupported format or a resource type with more than
 *   `maxHeldBytes` of JSON to restore, and whatever the tarball reader throws (unsafe entries).
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
    versions: await context.chooseVersions(reading.sourceVersions),
  };
  await planVolumes(reading, context, plan);
  planNamespaces(reading, context);
  plan.conflicts = findRolloutConflicts(context.modifiers, reading.workloads, restoredClaims(reading));
  for (const groupResource of restoreOrder(reading.groups.keys())) {
    const items = reading.groups.get(groupResource)!;
    if (items.length === 0) continue;
    items.sort((a, b) => byCodeUnit(a.namespace ?? '', b.namespace ?? '') || byCodeUnit(a.name, b.name));
    plan.steps.push(stepOf(groupResource, items, plan.versions.get(groupResource)));
    plan.totalItems += items.length;
  }
  return plan;
}
