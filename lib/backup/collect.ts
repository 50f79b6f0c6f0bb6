import type { KubeClient } from '../kube/client';
import { collectionPath, groupResource, type ApiResource } from '../kube/discovery';
import { KubeApiError, KubeUnreachableError, isNotFound } from '../kube/errors';
import { splitOrderedName } from '../velero/ordered-resources';
import { listPages, type KubeObject } from '../kube/list-all';
import type { BackupFilters } from '../velero/filters';

/** One resource type to list, and where. */
export interface ListTarget {
  resource: ApiResource;
  groupResource: string;
  /** Namespaces to list one by one; undefined lists the type cluster-wide in one go. */
  namespaces?: string[];
  /** Only these names are wanted (PVs pulled in by included PVCs); undefined means all. */
  onlyNames?: ReadonlySet<string>;
}

/** Where listing a type has got to: every key up to `lastKey` has been handed on. */
export interface TypeCursor {
  done: boolean;
  lastKey?: string;
  /** How many entries of the type's orderedResources list have been handed on (they come first). */
  ordered?: number;
}

/** An object that belongs in the backup, with its storage key (see itemKey). */
export interface CollectedItem {
  item: KubeObject;
  key: string;
  /**
   * For an object of the type's orderedResources list, handed on before the listing:
   * its position in the list plus one, what the cursor's `ordered` becomes once it is
   * written (its key is out of key order, so `lastKey` must not move with it).
   */
  orderIndex?: number;
}

/** How collectItems lists. */
export interface CollectOptions {
  /** Types listed at once; default 4. */
  concurrency?: number;
  /** Sent to the API server with each LIST (a plain matchLabels selector). */
  labelSelector?: string;
  /** Objects to leave out although they belong (e.g. written elsewhere). */
  skip?: (item: KubeObject, target: ListTarget) => boolean;
  /** The type's orderedResources entries (`ns/name` or `name`), handed on first in that order. */
  orderFor?: (target: ListTarget) => readonly string[];
}

export interface CollectCallbacks {
  /**
   * Receives the objects of one listed page that belong in the backup, in key order;
   * awaited, so it sets the pace. A whole page at once: per-object callbacks cost more
   * than writing the object. The type's cursor moves past the page once it resolves;
   * a callback that answers 'pause' stops the listing, and has moved the cursor itself
   * as far as it wrote.
   */
  onPage(target: ListTarget, items: CollectedItem[]): Promise<'continue' | 'pause'>;
  /** An object or a type that could not be read: a warning or error, not a failed backup. */
  onProblem(problem: { severity: 'error' | 'warning'; namespace?: string; message: string }): void;
  /** The server's estimate of a collection's size, from its first page (called per listed collection). */
  onEstimate?(groupResource: string, count: number): void;
}

/**
 * The key of a target's cursor: its group-resource for the preferred version (as
 * before, so records of running backups resume), `<gr>@<version>` for another version.
 */
export function cursorKey(target: ListTarget): string {
  const { version, preferredVersion } = target.resource;
  return version === preferredVersion ? target.groupResource : `${target.groupResource}@${version}`;
}

/**
 * Chooses the types to list, each at its group's preferred version: what the filters
 * include and the server can list. Namespaced types are listed cluster-wide when all
 * namespaces are wanted (one request per 500 objects) and per namespace when the
 * backup names its namespaces, which is also what a service account limited to those
 * namespaces is allowed to do.
 *
 * With `allVersions` (Velero's EnableAPIGroupVersions feature flag, under which its
 * discovery helper returns every served group version, pkg/discovery/helper.go
 * Refresh, and pkg/backup/item_collector.go getItems lists each of them) an included
 * type is also listed in each other version its group serves, one target per version,
 * after the preferred one; pkg/backup/item_backupper.go writes such an object under
 * `<version>/` only (lib/archive/paths.ts itemPaths).
 */
export function planListTargets(
  resources: readonly ApiResource[],
  filters: BackupFilters,
  options: {
    includedNamespaces?: string[];
    allNamespaces: boolean;
    relatedPersistentVolumes: ReadonlySet<string>;
    allVersions?: boolean;
  },
): ListTarget[] {
  const targets: ListTarget[] = [];
  const listable = resources.filter((r) => (options.allVersions || r.version === r.preferredVersion) && r.verbs.includes('list'));
  const served = new Set(listable.filter((r) => r.version === r.preferredVersion).map(groupResource));
  for (const resource of listable) {
    const gr = groupResource(resource);
    // Namespace objects are written from the namespaces actually backed up, at the end.
    if (gr === 'namespaces') continue;
    if (cohabitsWithIncluded(resource, served, filters)) continue;
    if (filters.shouldIncludeResource(gr, resource.namespaced)) {
      targets.push({
        resource,
        groupResource: gr,
        ...(resource.namespaced && !options.allNamespaces ? { namespaces: options.includedNamespaces ?? [] } : {}),
      });
    } else if (gr === 'persistentvolumes' && !filters.shouldExcludeResource(gr, false) && options.relatedPersistentVolumes.size > 0) {
      // Velero backs up the PV of every included PVC even when cluster-scoped
      // resources are otherwise left out; only an explicit exclusion stops it.
      targets.push({ resource, groupResource: gr, onlyNames: options.relatedPersistentVolumes });
    }
  }
  return targets.sort(byTypeThenVersion);
}

/** By group-resource; within one, the preferred version first, then the others by name. */
function byTypeThenVersion(a: ListTarget, b: ListTarget): number {
  if (a.groupResource !== b.groupResource) return a.groupResource < b.groupResource ? -1 : 1;
  const ra = versionRank(a);
  const rb = versionRank(b);
  return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/** "" for the preferred version, so it sorts first; the version otherwise. */
function versionRank(target: ListTarget): string {
  return target.resource.version === target.resource.preferredVersion ? '' : target.resource.version;
}

/** `widgets.example.com`, or `widgets.example.com in version v1` for a non-preferred version. */
function describeTarget(target: ListTarget): string {
  const rank = versionRank(target);
  return rank === '' ? target.groupResource : `${target.groupResource} in version ${rank}`;
}

/**
 * Types served under two groups, the same objects twice (Velero's cohabitatingResources):
 * the first group listed here is backed up and the other skipped, as Velero does by
 * listing the core group first.
 */
const COHABITATING: Record<string, readonly [string, string]> = {
  events: ['', 'events.k8s.io'],
  deployments: ['apps', 'extensions'],
  daemonsets: ['apps', 'extensions'],
  replicasets: ['apps', 'extensions'],
  networkpolicies: ['networking.k8s.io', 'extensions'],
};

/** Whether `resource` is the second home of a type whose first home is served and included. */
function cohabitsWithIncluded(resource: ApiResource, served: ReadonlySet<string>, filters: BackupFilters): boolean {
  const pair = COHABITATING[resource.resource];
  if (!pair || resource.group !== pair[1]) return false;
  const first = groupResource({ group: pair[0], resource: resource.resource });
  return served.has(first) && filters.shouldIncludeResource(first, resource.namespaced);
}

/** The storage key order the API server lists in, used to resume after a cut. */
export function itemKey(item: KubeObject): string {
  return item.metadata.namespace ? `${item.metadata.namespace}/${item.metadata.name}` : item.metadata.name;
}

/**
 * Lists every target to the end and hands the objects that belong in the backup to
 * `onPage`, a page at a time. Types are listed `concurrency` at a time; within a type
 * objects come in key order, so `cursors` (updated after each handed-on page) say
 * exactly where to resume. A type that cannot be listed (forbidden, gone) becomes a problem for the
 * results, not a failed backup; an unreachable cluster stops the collection.
 */
export async function collectItems(
  client: KubeClient,
  targets: readonly ListTarget[],
  filters: BackupFilters,
  cursors: Map<string, TypeCursor>,
  callbacks: CollectCallbacks,
  options: CollectOptions = {},
): Promise<'done' | 'paused'> {
  const pending = targets.filter((t) => !cursors.get(cursorKey(t))?.done);
  let next = 0;
  let paused = false;
  const worker = async () => {
    while (!paused && next < pending.length) {
      const target = pending[next++]!;
      if ((await collectTarget(client, target, filters, cursors, callbacks, options)) === 'paused') paused = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, pending.length) }, worker));
  return paused ? 'paused' : 'done';
}

async function collectTarget(
  client: KubeClient,
  target: ListTarget,
  filters: BackupFilters,
  cursors: Map<string, TypeCursor>,
  callbacks: CollectCallbacks,
  options: CollectOptions,
): Promise<'done' | 'paused'> {
  const cursor: TypeCursor = cursors.get(cursorKey(target)) ?? { done: false };
  cursors.set(cursorKey(target), cursor);
  const order = options.orderFor?.(target) ?? [];
  if ((cursor.ordered ?? 0) < order.length) {
    if ((await collectOrdered(client, target, filters, cursor, order, callbacks, options)) === 'paused') return 'paused';
  }
  // Handed on already, first; the listing leaves them out.
  const orderedKeys = new Set(order);
  const resumeAfter = cursor.lastKey;
  // Namespaces in storage key order (`a/...` sorts after `a-b/...`), the order `resumeAfter` compares in.
  const paths = target.namespaces
    ? [...target.namespaces]
        .sort((a, b) => (`${a}/` < `${b}/` ? -1 : `${a}/` > `${b}/` ? 1 : 0))
        .map((ns) => ({ path: collectionPath(target.resource, ns), namespace: ns }))
    : [{ path: collectionPath(target.resource), namespace: undefined }];
  /** Listed names not being deleted, for the check of onlyNames below. */
  const found = new Set<string>();
  let listFailed = false;
  for (const { path, namespace } of paths) {
    // Whole namespaces already done before a cut are not listed again.
    if (namespace !== undefined && resumeAfter !== undefined && `${namespace}/\uffff` < resumeAfter) continue;
    try {
      const onSizeEstimate = (count: number) => callbacks.onEstimate?.(target.groupResource, count);
      for await (const page of listPages(client, path, { labelSelector: options.labelSelector, onSizeEstimate })) {
        const wanted: CollectedItem[] = [];
        let lastKey: string | undefined;
        for (const item of page) {
          const key = itemKey(item);
          if (resumeAfter !== undefined && key <= resumeAfter) continue;
          if (!orderedKeys.has(key) && belongs(item, target, filters) && !options.skip?.(item, target)) wanted.push({ item, key });
          if (!item.metadata.deletionTimestamp) found.add(item.metadata.name);
          lastKey = key;
        }
        if (wanted.length > 0 && (await callbacks.onPage(target, wanted)) === 'pause') return 'paused';
        if (lastKey !== undefined) cursor.lastKey = lastKey;
      }
    } catch (error) {
      if (error instanceof KubeUnreachableError) throw error;
      if (!(error instanceof KubeApiError)) throw error;
      listFailed = true;
      callbacks.onProblem({
        severity: error.code === 403 ? 'warning' : 'error',
        ...(namespace ? { namespace } : {}),
        message: `could not list ${describeTarget(target)}${namespace ? ` in namespace ${namespace}` : ''}: ${error.message}`,
      });
    }
  }
  // Names asked for that are gone or going (only knowable for a listing from the start);
  // one the filters leave out is their decision, not a gap to report.
  if (target.onlyNames && resumeAfter === undefined && !listFailed) {
    for (const name of [...target.onlyNames].filter((n) => !found.has(n)).sort()) {
      callbacks.onProblem({
        severity: 'warning',
        message:
          `${target.groupResource} ${name}, referenced by a backed-up object, is not in the backup: it was deleted, or is ` +
          'being deleted, while the backup ran; a restore of what refers to it will lack it',
      });
    }
  }
  cursor.done = true;
  return 'done';
}

/**
 * Hands on the objects of the type's orderedResources list first, in that order, each
 * read by a GET (Velero's sortResourcesByOrder puts them first within their type). An
 * entry outside the backup's namespaces, or that the filters leave out, is not backed up
 * (the order does not widen the backup); one that does not exist or cannot be read is a
 * warning naming it (Velero logs "Cannot find resource").
 */
async function collectOrdered(
  client: KubeClient,
  target: ListTarget,
  filters: BackupFilters,
  cursor: TypeCursor,
  order: readonly string[],
  callbacks: CollectCallbacks,
  options: CollectOptions,
): Promise<'done' | 'paused'> {
  const wanted: CollectedItem[] = [];
  const warn = (namespace: string | undefined, message: string) =>
    callbacks.onProblem({ severity: 'warning', ...(namespace ? { namespace } : {}), message });
  for (let i = cursor.ordered ?? 0; i < order.length; i++) {
    const { namespace, name } = splitOrderedName(order[i]!);
    const what = `orderedResources entry "${order[i]}" of ${describeTarget(target)}`;
    if (target.resource.namespaced !== (namespace !== undefined)) {
      const form = target.resource.namespaced ? 'a namespaced type takes namespace/name' : 'a cluster-scoped type takes a name alone';
      warn(namespace, `${what}: ${form}; ignored`);
      continue;
    }
    const inScope = namespace === undefined || (target.namespaces?.includes(namespace) ?? filters.shouldIncludeNamespace(namespace));
    if (!inScope) continue;
    let item: KubeObject;
    try {
      item = await client.get<KubeObject>(`${collectionPath(target.resource, namespace)}/${encodeURIComponent(name)}`);
    } catch (error) {
      if (error instanceof KubeUnreachableError || !(error instanceof KubeApiError)) throw error;
      warn(namespace, isNotFound(error) ? `${what} does not exist; nothing to put first` : `${what} could not be read: ${error.message}`);
      continue;
    }
    if (belongs(item, target, filters) && !options.skip?.(item, target)) wanted.push({ item, key: itemKey(item), orderIndex: i + 1 });
  }
  if (wanted.length > 0 && (await callbacks.onPage(target, wanted)) === 'pause') return 'paused';
  cursor.ordered = order.length;
  return 'done';
}

/** Whether the listing of `target` hands `item` on: what the backup's filters let through. */
export function belongs(item: KubeObject, target: ListTarget, filters: BackupFilters): boolean {
  if (target.onlyNames) return target.onlyNames.has(item.metadata.name) && filters.shouldBackUpItem({
    groupResource: target.groupResource,
    labels: item.metadata.labels,
    deletionTimestamp: item.metadata.deletionTimestamp as string | undefined,
  }, { mustInclude: true }).include;
  const namespace = item.metadata.namespace;
  if (namespace !== undefined && !filters.shouldIncludeNamespace(namespace)) return false;
  if (!filters.matchesLabels(item.metadata.labels)) return false;
  return filters.shouldBackUpItem({
    groupResource: target.groupResource,
    ...(namespace !== undefined ? { namespace } : {}),
    labels: item.metadata.labels,
    deletionTimestamp: item.metadata.deletionTimestamp as string | undefined,
  }).include;
}
