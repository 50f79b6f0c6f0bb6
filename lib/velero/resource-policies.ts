import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../core/errors';
import { fieldIssuesFromZod } from '../core/zod-issues';
import { parseQuantity } from '../kube/quantity';

/**
 * Velero's resource policies (internal/resourcepolicies, v1.18): a ConfigMap with one data
 * key whose YAML is `version: v1` and `volumePolicies`, each a set of `conditions` and an
 * `action`. For each volume the first policy whose conditions all match decides: `skip`
 * (no snapshot), `snapshot` (snapshot it, even with snapshotVolumes false), `fs-backup`
 * or `custom`. Velero reads the ConfigMap named by the Backup's spec.resourcePolicy in the
 * Backup's own namespace (`velero`); Skiff reads it in that namespace of the cluster being
 * backed up, so a ConfigMap a Velero installation there uses works unchanged.
 *
 * Skiff honours `skip` and `snapshot`. `fs-backup` needs Velero's node agent in the
 * cluster and `custom` a Velero plugin, neither of which Skiff has: a volume such a
 * policy matches is an error of the backup, never silently snapshotted or skipped. The
 * include/exclude and fine-grained filter sections are refused: use the backup's own
 * filters. Unknown fields are errors, as Velero decodes with KnownFields.
 */

/** The only policy document version Velero reads. */
export const RESOURCE_POLICIES_VERSION = 'v1';

/** Actions Velero accepts; Skiff carries out the first two. */
export const VOLUME_ACTIONS = ['skip', 'snapshot', 'fs-backup', 'custom'] as const;
export type VolumeActionType = (typeof VOLUME_ACTIONS)[number];

const strict = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape);
const stringList = z.array(z.string());

const conditionsSchema = strict({
  capacity: z.string().optional(),
  storageClass: stringList.optional(),
  nfs: strict({ server: z.string().optional(), path: z.string().optional() }).nullish(),
  csi: strict({ driver: z.string().optional(), volumeAttributes: z.record(z.string(), z.string()).optional() }).nullish(),
  volumeTypes: stringList.optional(),
  pvcLabels: z.record(z.string(), z.string()).optional(),
  pvcPhase: stringList.optional(),
  pvcVolumeMode: z.string().optional(),
  pvcAccessModes: stringList.optional(),
});

const UNSUPPORTED_SECTION =
  'is not supported by Skiff; express it with the backup’s own filters (includedNamespaces, ' +
  'includedNamespaceScopedResources, includedClusterScopedResources, labelSelector...)';

const documentSchema = strict({
  version: z.string(),
  volumePolicies: z
    .array(
      strict({
        conditions: conditionsSchema.nullish(),
        action: strict({ type: z.string(), parameters: z.record(z.string(), z.unknown()).nullish() }),
      }),
    )
    .nullish(),
  includeExcludePolicy: z.unknown().optional(),
  clusterScopedFilterPolicy: z.unknown().optional(),
  namespacedFilterPolicies: z.unknown().optional(),
});

export type VolumeConditions = z.output<typeof conditionsSchema>;

/** A capacity range in bytes; 0 at either end means unbounded, as Velero reads it. */
interface CapacityRange {
  lower: number;
  upper: number;
}

/** One parsed volume policy. */
export interface VolumePolicy {
  /** Position in volumePolicies, for messages. */
  index: number;
  conditions: VolumeConditions;
  capacity: CapacityRange;
  action: VolumeActionType;
}

/** The parsed document, and where it came from. */
export interface ResourcePolicies {
  /** `namespace/name` of the ConfigMap. */
  source: string;
  volumePolicies: VolumePolicy[];
}

/** The fields of a ConfigMap the policies are read from. */
export interface ConfigMapLike {
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
}

/**
 * Reads the policies of a ConfigMap, with Velero's rules: exactly one data key, YAML of
 * version v1, known fields only, capacities `lower,upper` as quantities with upper not
 * below lower, a csi condition with volumeAttributes naming its driver, an action Velero
 * knows. Throws a ValidationError listing every problem, named by the ConfigMap.
 */
export function parseResourcePolicies(configMap: ConfigMapLike): ResourcePolicies {
  const source = `${configMap.metadata.namespace ?? ''}/${configMap.metadata.name}`;
  const what = `resource policy ConfigMap ${source}`;
  const keys = Object.keys(configMap.data ?? {});
  if (keys.length !== 1) {
    throw new ValidationError(what, [
      { path: 'data', message: `must have exactly one key holding the policies' YAML, has ${keys.length} (${keys.join(', ') || 'none'})` },
    ]);
  }
  let document: unknown;
  try {
    document = parseYaml(configMap.data![keys[0]!]!);
  } catch (error) {
    throw new ValidationError(what, [{ path: `data.${keys[0]}`, message: `is not YAML: ${(error as Error).message}` }]);
  }
  const parsed = documentSchema.safeParse(document ?? {});
  if (!parsed.success) throw new ValidationError(what, fieldIssuesFromZod(parsed.error));
  const issues: FieldIssue[] = [];
  if (parsed.data.version !== RESOURCE_POLICIES_VERSION) {
    issues.push({ path: 'version', message: `${JSON.stringify(parsed.data.version)} is not supported; use "${RESOURCE_POLICIES_VERSION}"` });
  }
  for (const section of ['includeExcludePolicy', 'clusterScopedFilterPolicy', 'namespacedFilterPolicies'] as const) {
    if (parsed.data[section] !== undefined && parsed.data[section] !== null) issues.push({ path: section, message: UNSUPPORTED_SECTION });
  }
  const volumePolicies = (parsed.data.volumePolicies ?? []).map((policy, index) => {
    const conditions = policy.conditions ?? {};
    const at = `volumePolicies.${index}`;
    if (!(VOLUME_ACTIONS as readonly string[]).includes(policy.action.type)) {
      issues.push({ path: `${at}.action.type`, message: `${JSON.stringify(policy.action.type)} is not an action; use one of ${VOLUME_ACTIONS.join(', ')}` });
    }
    const capacity = parseCapacity(conditions.capacity ?? '');
    if (typeof capacity === 'string') issues.push({ path: `${at}.conditions.capacity`, message: capacity });
    if (conditions.csi && !conditions.csi.driver && conditions.csi.volumeAttributes !== undefined) {
      issues.push({ path: `${at}.conditions.csi.driver`, message: 'must be set when filtering by volumeAttributes' });
    }
    return {
      index,
      conditions,
      capacity: typeof capacity === 'string' ? { lower: 0, upper: 0 } : capacity,
      action: policy.action.type as VolumeActionType,
    };
  });
  if (issues.length > 0) throw new ValidationError(what, issues);
  return { source, volumePolicies };
}

/** Velero's parseCapacity and capacityCondition.validate: `lower,upper`, either empty. A string is what is wrong. */
function parseCapacity(text: string): CapacityRange | string {
  const parts = (text === '' ? ',' : text).split(',');
  if (parts.length !== 2) return `${JSON.stringify(text)} is not "lower,upper" (either may be empty), e.g. "0,10Gi" or "100Gi,"`;
  const [lower, upper] = parts.map((part) => (part.trim() === '' ? 0 : parseQuantity(part)));
  if (lower === undefined || upper === undefined) return `${JSON.stringify(text)} holds something that is not a quantity such as 10Gi`;
  if (upper < lower && upper !== 0) return `${JSON.stringify(text)}: the upper bound is below the lower one`;
  return { lower, upper };
}

/** The fields of a PersistentVolume the conditions look at. */
export interface PolicyPersistentVolume {
  spec?: {
    capacity?: { storage?: string };
    storageClassName?: string;
    nfs?: { server?: string; path?: string };
    csi?: { driver: string; volumeAttributes?: Record<string, string> };
  };
}

/** The fields of a PersistentVolumeClaim the conditions look at. */
export interface PolicyPersistentVolumeClaim {
  metadata: { labels?: Record<string, string> };
  spec?: { volumeMode?: string; accessModes?: string[] };
  status?: { phase?: string };
}

/** A volume to decide on: its PV (when bound to one that exists) and its PVC. */
export interface PolicyVolume {
  pv?: PolicyPersistentVolume;
  pvc?: PolicyPersistentVolumeClaim;
}

/** PV spec fields and the volume type Velero names them by (getVolumeTypeFromPV, in its order). */
const PV_VOLUME_TYPES: ReadonlyArray<[string, string]> = [
  ['awsElasticBlockStore', 'awsElasticBlockStore'],
  ['azureDisk', 'azureDisk'],
  ['azureFile', 'azureFile'],
  ['cephfs', 'cephfs'],
  ['cinder', 'cinder'],
  ['csi', 'csi'],
  ['fc', 'fc'],
  ['flocker', 'flocker'],
  ['flexVolume', 'flexVolume'],
  ['gcePersistentDisk', 'gcePersistentDisk'],
  ['glusterfs', 'glusterfs'],
  ['hostPath', 'hostPath'],
  ['iscsi', 'iscsi'],
  ['local', 'local'],
  ['nfs', 'nfs'],
  ['photonPersistentDisk', 'photonPersistentDisk'],
  ['portworxVolume', 'portworxVolume'],
  ['quobyte', 'quobyte'],
  ['rbd', 'rbd'],
  ['scaleIO', 'scaleIO'],
  ['storageos', 'storageOS'],
  ['vsphereVolume', 'vsphereVolume'],
];

/** The first policy whose conditions all match the volume (Velero's Policies.match), or undefined. */
export function matchVolumePolicy(policies: ResourcePolicies, volume: PolicyVolume): VolumePolicy | undefined {
  return policies.volumePolicies.find((policy) => matchesConditions(policy, volume));
}

/** Whether every condition of `policy` holds for `volume`; an absent condition always holds. */
export function matchesConditions(policy: VolumePolicy, volume: PolicyVolume): boolean {
  const c = policy.conditions;
  const spec = volume.pv?.spec;
  const capacity = parseQuantity(spec?.capacity?.storage ?? '0') ?? 0;
  return (
    inRange(policy.capacity, capacity) &&
    (!c.storageClass?.length || (!!spec?.storageClassName && c.storageClass.includes(spec.storageClassName))) &&
    nfsMatches(c.nfs, spec?.nfs) &&
    csiMatches(c.csi, spec?.csi) &&
    (!c.volumeTypes?.length || c.volumeTypes.includes(volumeTypeOf(volume.pv))) &&
    pvcLabelsMatch(c.pvcLabels, volume.pvc?.metadata.labels) &&
    (!c.pvcPhase?.length || (!!volume.pvc?.status?.phase && c.pvcPhase.includes(volume.pvc.status.phase))) &&
    (!c.pvcVolumeMode || volume.pvc?.spec?.volumeMode === c.pvcVolumeMode) &&
    accessModesMatch(c.pvcAccessModes, volume.pvc?.spec?.accessModes)
  );
}

/** Velero's capacity.isInRange: 0 at an end leaves that end open. */
function inRange(range: CapacityRange, value: number): boolean {
  if (range.lower === 0 && range.upper >= value) return true;
  if (range.upper === 0 && range.lower <= value) return true;
  if (range.lower !== 0 && range.upper !== 0) return range.lower <= value && value <= range.upper;
  return false;
}

function nfsMatches(wanted: VolumeConditions['nfs'], nfs: { server?: string; path?: string } | undefined): boolean {
  if (!wanted) return true;
  if (!nfs) return false;
  if (wanted.path && wanted.path !== nfs.path) return false;
  return !wanted.server || wanted.server === nfs.server;
}

function csiMatches(wanted: VolumeConditions['csi'], csi: { driver: string; volumeAttributes?: Record<string, string> } | undefined): boolean {
  if (!wanted) return true;
  if (!csi) return false;
  if (!wanted.driver) return true;
  if (wanted.driver !== csi.driver) return false;
  return Object.entries(wanted.volumeAttributes ?? {}).every(([key, value]) => csi.volumeAttributes?.[key] === value);
}

function pvcLabelsMatch(wanted: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!wanted || Object.keys(wanted).length === 0) return true;
  return Object.entries(wanted).every(([key, value]) => labels?.[key] === value);
}

/** Velero compares access modes as sets of the same size. */
function accessModesMatch(wanted: string[] | undefined, modes: string[] | undefined): boolean {
  if (!wanted?.length) return true;
  const have = new Set(modes ?? []);
  return (modes ?? []).length === wanted.length && wanted.every((mode) => have.has(mode)) && new Set(wanted).size === have.size;
}

function volumeTypeOf(pv: PolicyPersistentVolume | undefined): string {
  const spec = pv?.spec as Record<string, unknown> | undefined;
  if (!spec) return '';
  return PV_VOLUME_TYPES.find(([field]) => spec[field] !== undefined && spec[field] !== null)?.[1] ?? '';
}

/** `volume policy 2 (action skip) of ConfigMap velero/policies`, as messages name a policy. */
export function describeVolumePolicy(policies: ResourcePolicies, policy: VolumePolicy): string {
  return `volume policy ${policy.index} (action ${policy.action}) of ConfigMap ${policies.source}`;
}
