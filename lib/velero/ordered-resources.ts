/**
 * A Backup's `spec.orderedResources` (Velero's pkg/backup/item_collector.go,
 * getOrderedResourcesForType and sortResourcesByOrder): a map from a resource name to a
 * comma-separated list of objects, `namespace/name` for namespaced ones and `name` for
 * cluster-scoped ones. Within that type, the listed objects are backed up first, in the
 * listed order, and the type's other objects after them in their usual order.
 *
 * Velero matches the key against the plain resource name (`pods`, `deployments`), so
 * one key covers a resource name in every API group; Skiff also takes the
 * group-qualified name (`deployments.apps`), which Velero would silently never match.
 */

/** A type the order may apply to. */
export interface OrderedType {
  /** Plural resource name, e.g. `deployments`. */
  resource: string;
  /** `deployments.apps`, or `pods` for the core group. */
  groupResource: string;
}

/**
 * The object keys (`ns/name` or `name`) to back up first for `type`, in order; empty
 * when the map has no entry for it. Blank entries and repeats are dropped (Velero finds
 * nothing for them either); spaces around a name are trimmed.
 */
export function orderedNamesFor(orderedResources: Readonly<Record<string, string>> | undefined, type: OrderedType): string[] {
  if (!orderedResources) return [];
  const text = orderedResources[type.resource] ?? orderedResources[type.groupResource];
  if (!text) return [];
  return [...new Set(text.split(',').map((name) => name.trim()).filter((name) => name !== ''))];
}

/** Splits an ordered entry into namespace (undefined for a cluster-scoped object) and name. */
export function splitOrderedName(entry: string): { namespace?: string; name: string } {
  const slash = entry.indexOf('/');
  return slash === -1 ? { name: entry } : { namespace: entry.slice(0, slash), name: entry.slice(slash + 1) };
}
