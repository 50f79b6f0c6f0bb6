import { byCodeUnit } from '../core/ordering';
import { ValidationError } from '../core/errors';
import { namespacePatternIssue, type BackupSpec, type LabelSelector } from './backup';
import { EXCLUDE_FROM_BACKUP_LABEL } from './labels';
import { compileGlob, hasWildcard } from './glob';

/**
 * Which namespaces, resource types and objects a backup takes, decided exactly as Velero
 * decides it (pkg/util/collections/includes_excludes.go, pkg/backup/item_collector.go,
 * pkg/backup/item_backupper.go). Everything here is pure; the caller lists the cluster.
 */

/** An object's labels; undefined when it has none. */
export type Labels = Readonly<Record<string, string>> | undefined;


function sortedUnique(items: Iterable<string>): string[] {
  return [...new Set(items)].sort(byCodeUnit);
}

/**
 * Whether any glob in `patterns` (sorted, as Velero iterates them) matches `value`.
 * Velero gives up at the first pattern that does not compile, answering "no match".
 */
function matchesAny(patterns: readonly string[], value: string): boolean {
  for (const pattern of patterns) {
    const re = compileGlob(pattern);
    if (!re) return false;
    if (re.test(value)) return true;
  }
  return false;
}

/**
 * A list of included and excluded globs: everything included (an empty list or `*`
 * means everything) except what is excluded; an exclude always wins.
 */
export class IncludesExcludes {
  readonly includes: readonly string[];
  readonly excludes: readonly string[];

  constructor(includes: Iterable<string> = [], excludes: Iterable<string> = []) {
    this.includes = sortedUnique(includes);
    this.excludes = sortedUnique(excludes);
  }

  /** Whether `value` is included and not excluded. */
  shouldInclude(value: string): boolean {
    if (this.isExcluded(value)) return false;
    return this.includes.length === 0 || this.includes.includes('*') || matchesAny(this.includes, value);
  }

  /** Whether `value` matches an exclude. */
  isExcluded(value: string): boolean {
    return matchesAny(this.excludes, value);
  }

  /** Whether `value` matches an include pattern (an empty list matches nothing here). */
  matchesInclude(value: string): boolean {
    return matchesAny(this.includes, value);
  }

  /** Whether nothing is filtered out: no excludes, and no includes or just `*`. */
  includesEverything(): boolean {
    return (
      this.excludes.length === 0 &&
      (this.includes.length === 0 || (this.includes.length === 1 && this.includes[0] === '*'))
    );
  }
}

/** A namespace of the cluster being backed up, as listed from its API server. */
export interface ClusterNamespace {
  name: string;
  labels?: Record<string, string>;
  /** `status.phase`; Velero backs up the Namespace objects of Active namespaces only. */
  phase: string;
}

/**
 * Namespace includes/excludes. When a list uses wildcards Velero expands them against the
 * cluster's namespaces first (pkg/util/wildcard), so an include pattern that matches no
 * namespace includes nothing, where an empty list would include everything.
 */
export class NamespaceFilter {
  readonly wildcardExpanded: boolean;
  private readonly ie: IncludesExcludes;

  constructor(includes: readonly string[], excludes: readonly string[], clusterNamespaces: readonly string[]) {
    const sortedIncludes = sortedUnique(includes);
    const sortedExcludes = sortedUnique(excludes);
    this.wildcardExpanded = shouldExpandWildcards(sortedIncludes, sortedExcludes);
    this.ie = this.wildcardExpanded
      ? new IncludesExcludes(
          expandWildcards('includedNamespaces', sortedIncludes, clusterNamespaces),
          expandWildcards('excludedNamespaces', sortedExcludes, clusterNamespaces),
        )
      : new IncludesExcludes(sortedIncludes, sortedExcludes);
  }

  get includes(): readonly string[] {
    return this.ie.includes;
  }

  get excludes(): readonly string[] {
    return this.ie.excludes;
  }

  /** Whether objects of namespace `name` belong in the backup. */
  shouldInclude(name: string): boolean {
    if (this.wildcardExpanded && this.ie.includes.length === 0) return false;
    return this.ie.shouldInclude(name);
  }

  /** Whether every namespace is included (no excludes, and no includes or just `*`). */
  includesEverything(): boolean {
    return this.ie.includesEverything();
  }

  /**
   * What the collector lists: every namespace at once (one cluster-wide list), or only
   * the named ones (Velero's getNamespacesToList).
   */
  listScope(): { allNamespaces: true } | { allNamespaces: false; namespaces: string[] } {
    if (this.shouldInclude('*')) return { allNamespaces: true };
    return { allNamespaces: false, namespaces: this.ie.includes.filter((ns) => this.shouldInclude(ns)) };
  }
}

function shouldExpandWildcards(includes: readonly string[], excludes: readonly string[]): boolean {
  if (includes.length === 0) return false;
  let found = false;
  for (const include of includes) {
    if (include === '*') return false;
    found ||= hasWildcard(include);
  }
  return found || excludes.some(hasWildcard);
}

/** Replaces patterns by the namespaces they match; Velero fails the backup on a bad pattern. */
function expandWildcards(field: string, patterns: readonly string[], clusterNamespaces: readonly string[]): string[] {
  const issues = patterns.flatMap((pattern) => {
    const issue = namespacePatternIssue(pattern) ?? (compileGlob(pattern) ? undefined : `"${pattern}" is not a valid pattern`);
    return issue ? [{ path: field, message: issue }] : [];
  });
  if (issues.length > 0) throw new ValidationError('namespace filter', issues);

  const matched = new Set<string>();
  for (const pattern of patterns) {
    if (!hasWildcard(pattern)) {
      matched.add(pattern);
      continue;
    }
    const re = compileGlob(pattern)!;
    for (const ns of clusterNamespaces) if (re.test(ns)) matched.add(ns);
  }
  return [...matched];
}

/** What the caller's discovery knows about a resource name written in a spec. */
export interface ResolvedResource {
  /** `deployments.apps`, or `pods` for the core group. */
  groupResource: string;
  namespaced: boolean;
}

/**
 * Resolves a resource as written in a spec (`deploy`, `Deployment`, `deployments`,
 * `deployments.apps`) through the cluster's discovery; undefined when unknown, in which
 * case the text is kept as a glob (`*.apps`), as Velero does.
 */
export type ResourceResolver = (name: string) => ResolvedResource | undefined;

const NAMESPACES = 'namespaces';

/** Resource-type decisions, the same questions for Velero's two filter styles. */
interface ResourceFilter {
  shouldInclude(groupResource: string, namespaced: boolean): boolean;
  shouldExclude(groupResource: string, namespaced: boolean): boolean;
}

/**
 * Old-style filters (includedResources, excludedResources, includeClusterResources):
 * Velero's GlobalIncludesExcludes.
 */
class OldStyleResourceFilter implements ResourceFilter {
  private readonly resources: IncludesExcludes;
  private readonly includeClusterResources: boolean | undefined;

  constructor(
    spec: BackupSpec,
    resolve: ResourceResolver,
    private readonly namespaces: NamespaceFilter,
  ) {
    const map = (item: string) => (item === '*' ? item : (resolve(item)?.groupResource ?? item));
    this.resources = new IncludesExcludes(
      (spec.includedResources ?? []).map(map),
      // '*' is not a valid exclude here; Velero drops it.
      (spec.excludedResources ?? []).filter((item) => item !== '*').map(map),
    );
    this.includeClusterResources = spec.includeClusterResources;
  }

  shouldInclude(groupResource: string, namespaced: boolean): boolean {
    if (!namespaced && this.includeClusterResources === false) return false;
    // Unset means "only when backing up all namespaces"; related cluster-scoped objects
    // (the PV of an included PVC) still come in through item actions.
    if (
      groupResource !== NAMESPACES &&
      !namespaced &&
      this.includeClusterResources === undefined &&
      !this.namespaces.includesEverything()
    ) {
      return false;
    }
    return this.resources.shouldInclude(groupResource);
  }

  shouldExclude(groupResource: string, namespaced: boolean): boolean {
    if (this.resources.isExcluded(groupResource)) return true;
    if (!namespaced) {
      if (this.includeClusterResources === false) return true;
      if (this.includeClusterResources === undefined && !this.resources.shouldInclude(groupResource)) return true;
    }
    return false;
  }
}

/**
 * New-style filters (included/excluded ClusterScopedResources and
 * NamespaceScopedResources): Velero's ScopeIncludesExcludes.
 */
class ScopedResourceFilter implements ResourceFilter {
  private readonly namespaced: IncludesExcludes;
  private readonly clusterScoped: IncludesExcludes;

  constructor(
    spec: BackupSpec,
    resolve: ResourceResolver,
    private readonly namespaces: NamespaceFilter,
  ) {
    // A name resolving to the other scope is dropped from the list.
    const map = (items: readonly string[] | undefined, namespaced: boolean) =>
      (items ?? []).flatMap((item) => {
        if (item === '*') return [item];
        const resolved = resolve(item);
        if (!resolved) return [item];
        return resolved.namespaced === namespaced ? [resolved.groupResource] : [];
      });
    this.namespaced = new IncludesExcludes(
      map(spec.includedNamespaceScopedResources, true),
      map(spec.excludedNamespaceScopedResources, true),
    );
    this.clusterScoped = new IncludesExcludes(
      map(spec.includedClusterScopedResources, false),
      map(spec.excludedClusterScopedResources, false),
    );
  }

  shouldInclude(groupResource: string, namespaced: boolean): boolean {
    if (namespaced) {
      if (this.namespaced.excludes.includes('*') || this.namespaced.isExcluded(groupResource)) return false;
      return (
        this.namespaced.includes.length === 0 ||
        this.namespaced.includes.includes('*') ||
        this.namespaced.matchesInclude(groupResource)
      );
    }
    if (this.clusterScoped.excludes.includes('*') || this.clusterScoped.isExcluded(groupResource)) return false;
    // With no cluster-scoped lists at all, a backup of everything namespaced in every
    // namespace takes every cluster-scoped resource too.
    if (
      this.clusterScoped.includes.length === 0 &&
      this.clusterScoped.excludes.length === 0 &&
      this.namespaces.includesEverything() &&
      this.namespaced.includesEverything()
    ) {
      return true;
    }
    // Otherwise only what is listed, plus the Namespace objects themselves.
    return (
      this.clusterScoped.includes.includes('*') ||
      this.clusterScoped.matchesInclude(groupResource) ||
      groupResource === NAMESPACES
    );
  }

  shouldExclude(groupResource: string, namespaced: boolean): boolean {
    return namespaced ? this.namespaced.isExcluded(groupResource) : this.clusterScoped.isExcluded(groupResource);
  }
}

/** Whether the spec uses the old-style resource filters (Velero's UseOldResourceFilters). */
export function usesOldResourceFilters(spec: BackupSpec): boolean {
  return (
    spec.includeClusterResources !== undefined ||
    (spec.includedResources?.length ?? 0) > 0 ||
    (spec.excludedResources?.length ?? 0) > 0
  );
}

import { matchesLabelSelector } from './label-selector';

/** Kept here too: the jobs' filters ask this module. */
export { matchesLabelSelector };

/** An object met while backing up, enough to decide whether it goes in. */
export interface ItemRef {
  groupResource: string;
  /** Empty or undefined for cluster-scoped objects. */
  namespace?: string;
  labels?: Record<string, string>;
  deletionTimestamp?: string;
}

/** Whether an object goes into the backup, and if not, why (for the backup log). */
export type ItemDecision = { include: true } | { include: false; reason: string };

/** What the filters need from the cluster being backed up. */
export interface BackupFilterContext {
  /** Every namespace of the cluster (wildcards expand against them; labels and phases matter). */
  namespaces: readonly ClusterNamespace[];
  resolveResource: ResourceResolver;
}

/** The decisions a backup run asks, built once per backup. */
export interface BackupFilters {
  readonly namespaceFilter: NamespaceFilter;
  /** Whether objects of namespace `name` belong in the backup (never those of a Terminating namespace). */
  shouldIncludeNamespace(name: string): boolean;
  /**
   * Namespaces the spec includes that are being deleted (`Terminating`): nothing of them
   * is backed up or snapshotted (Velero #8888: their objects are half gone, and
   * VolumeSnapshots cannot be created there), and the backup warns once for each.
   */
  terminatingNamespaces(): string[];
  /** Whether the collector lists resource type `groupResource` at all. */
  shouldIncludeResource(groupResource: string, namespaced: boolean): boolean;
  /**
   * Whether a resource type is explicitly excluded; used for objects pulled in by another
   * one (the PV of an included PVC), which are kept unless excluded.
   */
  shouldExcludeResource(groupResource: string, namespaced: boolean): boolean;
  /** Whether labels pass labelSelector (all of it) or orLabelSelectors (any of them). */
  matchesLabels(labels: Labels): boolean;
  /**
   * Velero's last check before writing an object: exclude label, namespace, resource
   * type, being deleted. `mustInclude` skips all but the last, as for objects an action
   * insists on (a VolumeSnapshot it created).
   */
  shouldBackUpItem(item: ItemRef, options?: { mustInclude?: boolean }): ItemDecision;
  /**
   * The Namespace objects to write, given the namespaces of the objects backed up:
   * Active namespaces that are included and (when selectors are used) match a selector or
   * hold a backed-up object.
   */
  namespaceObjectsToBackUp(namespacesOfBackedUpItems: Iterable<string>): string[];
}

/**
 * Builds a backup's filters from its (parsed) spec and the cluster's namespaces.
 * Namespaces labelled velero.io/exclude-from-backup=true are added to the excluded
 * namespaces, as Velero's controller does; note that, as in Velero, this makes the backup
 * no longer one of "all namespaces", so cluster-scoped resources are then only taken when
 * asked for.
 */
export function createBackupFilters(spec: BackupSpec, context: BackupFilterContext): BackupFilters {
  const labelExcluded = context.namespaces
    .filter((ns) => ns.labels?.[EXCLUDE_FROM_BACKUP_LABEL] === 'true')
    .map((ns) => ns.name);
  const includedNamespaces = spec.includedNamespaces?.length ? spec.includedNamespaces : ['*'];
  const namespaceFilter = new NamespaceFilter(
    includedNamespaces,
    [...(spec.excludedNamespaces ?? []), ...labelExcluded],
    context.namespaces.map((ns) => ns.name),
  );
  const resources: ResourceFilter = usesOldResourceFilters(spec)
    ? new OldStyleResourceFilter(spec, context.resolveResource, namespaceFilter)
    : new ScopedResourceFilter(spec, context.resolveResource, namespaceFilter);
  const labelSelector = spec.labelSelector;
  const orLabelSelectors = spec.orLabelSelectors ?? [];

  const matchesLabels = (labels: Labels): boolean => {
    if (orLabelSelectors.length > 0) return orLabelSelectors.some((s) => matchesLabelSelector(s, labels));
    return labelSelector === undefined || matchesLabelSelector(labelSelector, labels);
  };

  const terminating = new Set(context.namespaces.filter((ns) => ns.phase === 'Terminating').map((ns) => ns.name));
  const includesNamespace = (name: string) => namespaceFilter.shouldInclude(name) && !terminating.has(name);

  return {
    namespaceFilter,
    shouldIncludeNamespace: includesNamespace,
    terminatingNamespaces: () => [...terminating].filter((name) => namespaceFilter.shouldInclude(name)).sort(byCodeUnit),
    shouldIncludeResource: (groupResource, namespaced) => resources.shouldInclude(groupResource, namespaced),
    shouldExcludeResource: (groupResource, namespaced) => resources.shouldExclude(groupResource, namespaced),
    matchesLabels,

    shouldBackUpItem(item, options = {}) {
      const namespace = item.namespace ?? '';
      if (terminating.has(namespace)) return { include: false, reason: `its namespace ${namespace} is being deleted (Terminating)` };
      if (!options.mustInclude) {
        if (item.labels?.[EXCLUDE_FROM_BACKUP_LABEL] === 'true') {
          return { include: false, reason: `it has the label ${EXCLUDE_FROM_BACKUP_LABEL}=true` };
        }
        if (namespace !== '' && !namespaceFilter.shouldInclude(namespace)) {
          return { include: false, reason: `its namespace ${namespace} is not included` };
        }
        // Cluster-scoped objects pulled in by others are only dropped when explicitly excluded.
        if (namespace === '' && item.groupResource !== NAMESPACES && resources.shouldExclude(item.groupResource, false)) {
          return { include: false, reason: `cluster-scoped resource ${item.groupResource} is excluded` };
        }
        if (namespace !== '' && !resources.shouldInclude(item.groupResource, true)) {
          return { include: false, reason: `resource ${item.groupResource} is not included` };
        }
      }
      if (item.deletionTimestamp) return { include: false, reason: 'it is being deleted' };
      return { include: true };
    },

    namespaceObjectsToBackUp(namespacesOfBackedUpItems) {
      if (!resources.shouldInclude(NAMESPACES, false)) return [];
      const tracked = new Set<string>();
      const selectorsUsed = labelSelector !== undefined || orLabelSelectors.length > 0;
      for (const ns of context.namespaces) {
        if (ns.phase !== 'Active') continue;
        const included = namespaceFilter.shouldInclude(ns.name);
        if (!included) continue;
        if (labelSelector !== undefined && matchesLabelSelector(labelSelector, ns.labels)) {
          tracked.add(ns.name);
          continue;
        }
        if (orLabelSelectors.some((s) => matchesLabelSelector(s, ns.labels))) tracked.add(ns.name);
        // Backing up "all namespaces" by selector keeps only namespaces the selectors
        // reach (velero#7105); named namespaces are always kept.
        if (namespaceFilter.includesEverything() && selectorsUsed) continue;
        tracked.add(ns.name);
      }
      for (const ns of namespacesOfBackedUpItems) {
        if (includesNamespace(ns)) tracked.add(ns);
      }
      return context.namespaces.filter((ns) => tracked.has(ns.name)).map((ns) => ns.name);
    },
  };
}
