import type { KubeClient } from '../kube/client';
import { KubeApiError } from '../kube/errors';
import { ruleCovers, type AccessScope, type MissingPermission, type ResourceRule } from './access';
import type { Permission } from './rbac-manifest';

/**
 * Asks the API server what the credentials may do: one SelfSubjectRulesReview per
 * namespace in scope, and a SelfSubjectAccessReview per cluster-wide question (and per
 * namespaced one the rules review could not settle: its answer is `incomplete` when an
 * authorizer other than RBAC is in play). Kubernetes docs: "Checking API access",
 * authorization.k8s.io/v1.
 */

const AUTHORIZATION = '/apis/authorization.k8s.io/v1';
/** Access reviews in flight at once: each is a cheap request, and there are a few dozen. */
const CONCURRENCY = 8;

interface RulesReviewStatus {
  resourceRules?: ResourceRule[];
  incomplete?: boolean;
}

/** Whether the credentials may do `permission` in `scope`, by a SelfSubjectAccessReview. */
async function accessAllowed(client: KubeClient, permission: Permission, scope: AccessScope): Promise<boolean> {
  const review = await client.create<{ status?: { allowed?: boolean } }>(`${AUTHORIZATION}/selfsubjectaccessreviews`, {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: {
      resourceAttributes: {
        verb: permission.verb,
        group: permission.group,
        resource: permission.resource,
        ...('namespace' in scope ? { namespace: scope.namespace } : {}),
      },
    },
  });
  return review.status?.allowed === true;
}

async function rulesIn(client: KubeClient, namespace: string): Promise<RulesReviewStatus> {
  const review = await client.create<{ status?: RulesReviewStatus }>(`${AUTHORIZATION}/selfsubjectrulesreviews`, {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectRulesReview',
    spec: { namespace },
  });
  return review.status ?? {};
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of the answers. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const answers: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      answers[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return answers;
}

/**
 * The questions whose answer is no.
 *
 * @throws KubeApiError when the reviews themselves are refused (403: the credentials may
 *   not even ask) or fail.
 */
export async function missingPermissions(
  client: KubeClient,
  questions: readonly { permission: Permission; scope: AccessScope }[],
): Promise<MissingPermission[]> {
  const namespaces = [...new Set(questions.flatMap((q) => ('namespace' in q.scope ? [q.scope.namespace] : [])))];
  const rules = new Map(
    await mapLimited(namespaces, CONCURRENCY, async (namespace) => [namespace, await rulesIn(client, namespace)] as const),
  );
  const allowed = await mapLimited(questions, CONCURRENCY, async ({ permission, scope }) => {
    if ('namespace' in scope) {
      const review = rules.get(scope.namespace)!;
      if ((review.resourceRules ?? []).some((rule) => ruleCovers(rule, permission))) return true;
      if (!review.incomplete) return false;
    }
    return accessAllowed(client, permission, scope);
  });
  return questions.filter((_, i) => !allowed[i]);
}

/** Whether an error means "these credentials may not" (as opposed to a failure). */
export function isForbidden(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 403;
}
