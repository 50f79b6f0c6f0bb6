/**
 * Strategic merge patch (Kubernetes' `application/strategic-merge-patch+json`, see
 * "Update API Objects in Place Using kubectl patch") for the kinds whose patch
 * strategies Skiff knows: Pods and the workload controllers (Deployment, StatefulSet,
 * DaemonSet, ReplicaSet, Job, CronJob), and Services. Velero applies it with the
 * types' Go structs (pkg/util/resourcemodifiers/strategic_merge_patch.go); without
 * those, Skiff carries the merge keys of the fields of these kinds that have one.
 *
 * Rules: objects merge key by key; `null` deletes a key; a list with a merge key merges
 * element by element on that key (an element with `$patch: delete` removes the match);
 * any other list is replaced; `$patch: replace` in an object replaces it whole.
 */

/** Merge keys by field name, as the core and apps types declare them (patchMergeKey). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  conditions: 'type',
};

/** Kinds whose fields all follow MERGE_KEYS (with `ports` per kind below). */
const SUPPORTED_KINDS = new Set(['Pod', 'PodTemplate', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Service']);

/** Why a kind cannot be strategic-merge patched here, or undefined when it can. */
export function strategicMergeSupport(kind: string): string | undefined {
  if (SUPPORTED_KINDS.has(kind)) return undefined;
  return (
    `strategic merge patches are supported for ${[...SUPPORTED_KINDS].join(', ')}, not for ${kind || 'objects without a kind'}; ` +
    'use mergePatches or patches for it'
  );
}

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `ports` merge on `containerPort` in containers, on `port` in Services. */
function mergeKeyFor(field: string, kind: string, parentField: string | undefined): string | undefined {
  if (field === 'ports') return kind === 'Service' && parentField === 'spec' ? 'port' : 'containerPort';
  return MERGE_KEYS[field];
}

function mergeList(original: Json[], patch: Json[], key: string, kind: string, field: string): Json[] {
  const result = [...original];
  for (const element of patch) {
    if (!isObject(element) || !(key in element)) {
      result.push(element);
      continue;
    }
    const at = result.findIndex((o) => isObject(o) && o[key] === element[key]);
    if (element.$patch === 'delete') {
      if (at >= 0) result.splice(at, 1);
      continue;
    }
    if (at >= 0) result[at] = mergeObject(result[at] as Record<string, Json>, element, kind, field);
    else result.push(mergeObject({}, element, kind, field));
  }
  return result;
}

function mergeObject(original: Record<string, Json>, patch: Record<string, Json>, kind: string, parentField?: string): Record<string, Json> {
  if (patch.$patch === 'replace') {
    const { $patch: _directive, ...rest } = patch;
    return structuredClone(rest);
  }
  const result: Record<string, Json> = { ...original };
  for (const [field, value] of Object.entries(patch)) {
    if (field === '$patch') continue;
    if (value === null) {
      delete result[field];
      continue;
    }
    const current = result[field];
    const key = mergeKeyFor(field, kind, parentField);
    if (Array.isArray(value) && Array.isArray(current) && key) result[field] = mergeList(current, value, key, kind, field);
    else if (isObject(value) && isObject(current)) result[field] = mergeObject(current, value, kind, field);
    else result[field] = structuredClone(value);
  }
  return result;
}

/**
 * Applies a strategic merge patch to an object of a supported kind (check with
 * strategicMergeSupport first). Answers a new object; the input is not changed.
 */
export function strategicMerge<T extends Record<string, unknown>>(object: T, patch: Record<string, unknown>): T {
  return mergeObject(structuredClone(object), patch, String(object.kind ?? '')) as T;
}
