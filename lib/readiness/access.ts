import type { Finding } from './findings';
import type { Permission } from './rbac-manifest';

/**
 * The access check's decisions, kept pure: whether a rule the API server reports
 * (SelfSubjectRulesReview) covers a permission, which permissions are asked per
 * namespace and which cluster-wide, and how missing ones are reported.
 *
 * Matching follows Kubernetes' RBAC authorizer (plugin/pkg/auth/authorizer/rbac
 * rbac.go RuleAllows): `*` matches any verb, group or resource, and a rule limited to
 * resourceNames grants nothing for the collection as a whole.
 */

/** A rule as a SelfSubjectRulesReview reports it. */
export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

/** Where a permission is asked: in one namespace, or cluster-wide (also "in every namespace"). */
export type AccessScope = { namespace: string } | { clusterWide: true };

/** A permission found missing, and where. */
export interface MissingPermission {
  permission: Permission;
  scope: AccessScope;
}

const includes = (values: readonly string[] | undefined, wanted: string) =>
  (values ?? []).some((v) => v === '*' || v === wanted);

/** Whether `rule` grants `permission` (a wanted `*` is granted only by a `*`). */
export function ruleCovers(rule: ResourceRule, permission: Pick<Permission, 'verb' | 'group' | 'resource'>): boolean {
  if ((rule.resourceNames ?? []).length > 0) return false;
  return includes(rule.verbs, permission.verb) && includes(rule.apiGroups, permission.group) && includes(rule.resources, permission.resource);
}

/**
 * Resources that exist outside namespaces, among those the manifest names: a
 * RoleBinding can never grant them, so they are always asked cluster-wide.
 */
const CLUSTER_SCOPED = new Set([
  'authorization.k8s.io/selfsubjectrulesreviews',
  'authorization.k8s.io/selfsubjectaccessreviews',
  'snapshot.storage.k8s.io/volumesnapshotcontents',
  'snapshot.storage.k8s.io/volumesnapshotclasses',
  'rbac.authorization.k8s.io/clusterroles',
  'rbac.authorization.k8s.io/clusterrolebindings',
  'storage.k8s.io/storageclasses',
  'apiextensions.k8s.io/customresourcedefinitions',
  '/persistentvolumes',
  '/namespaces',
  '/nodes',
]);

/** Whether a permission is about cluster-scoped objects only. */
export function isClusterScoped(permission: Pick<Permission, 'group' | 'resource'>): boolean {
  return CLUSTER_SCOPED.has(`${permission.group}/${permission.resource}`);
}

/**
 * Which scopes each permission is asked in. With namespaces named, namespaced (and `*`)
 * permissions are asked in each of them and cluster-scoped ones cluster-wide; without,
 * everything is asked cluster-wide, which is what a backup of all namespaces needs.
 */
export function accessQuestions(
  permissions: readonly Permission[],
  namespaces: readonly string[] | undefined,
): { permission: Permission; scope: AccessScope }[] {
  return permissions.flatMap((permission): { permission: Permission; scope: AccessScope }[] =>
    namespaces === undefined || isClusterScoped(permission)
      ? [{ permission, scope: { clusterWide: true } }]
      : namespaces.map((namespace) => ({ permission, scope: { namespace } })),
  );
}

/** `delete volumesnapshotcontents (snapshot.storage.k8s.io) cluster-wide`. */
export function describeMissing({ permission, scope }: MissingPermission): string {
  const group = permission.group === '' ? 'core' : permission.group;
  const where = 'namespace' in scope ? `in namespace ${scope.namespace}` : 'cluster-wide';
  return `${permission.verb} ${permission.resource} (${group}) ${where}`;
}

/**
 * The findings for what is missing: permissions backup needs block (a backup would
 * fail), the other jobs' are warnings, grouped by the jobs that need them.
 */
export function accessFindings(missing: readonly MissingPermission[], manifestName: string): Finding[] {
  if (missing.length === 0) {
    return [{ check: 'access', severity: 'info', message: `the credentials can do everything ${manifestName} grants`, objects: [], action: '' }];
  }
  const groups = new Map<string, MissingPermission[]>();
  for (const item of missing) {
    const key = item.permission.jobs.join(', ');
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return [...groups].map(([jobs, items]) => ({
    check: 'access' as const,
    severity: items[0]!.permission.jobs.includes('backup') ? ('block' as const) : ('warn' as const),
    message: `the credentials lack ${items.length} permission${items.length > 1 ? 's' : ''} that ${jobs} need${items[0]!.permission.jobs.length > 1 ? '' : 's'}`,
    objects: items.map(describeMissing),
    action: `apply ${manifestName} (skiff cluster rbac) and bind it to the account whose token Skiff uses`,
  }));
}
