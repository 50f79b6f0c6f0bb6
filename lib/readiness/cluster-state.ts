import type { KubeClient } from '../kube/client';
import { KubeApiError } from '../kube/errors';
import { listAll, type KubeObject } from '../kube/list-all';

/**
 * Reading one list for a check, where a missing API (404: the CRD is not installed) is
 * an answer and a refusal (403) is a finding, not a failed report.
 */

/** A list's outcome: the items, the API not served, or not readable (with the server's words). */
export type ListOutcome<T> = { kind: 'listed'; items: T[] } | { kind: 'not-served' } | { kind: 'refused'; message: string };

/** Lists `path` to the end; 404 is `not-served`, 403 `refused`; anything else throws. */
export async function listOutcome<T extends KubeObject>(client: KubeClient, path: string): Promise<ListOutcome<T>> {
  try {
    return { kind: 'listed', items: await listAll<T>(client, path) };
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 404) return { kind: 'not-served' };
    if (error instanceof KubeApiError && error.code === 403) return { kind: 'refused', message: error.message };
    throw error;
  }
}

/** The items of several namespaces' lists (or of all namespaces when `namespaces` is undefined). */
export async function listInScope<T extends KubeObject>(
  client: KubeClient,
  pathFor: (namespace?: string) => string,
  namespaces: readonly string[] | undefined,
): Promise<ListOutcome<T>> {
  if (namespaces === undefined) return listOutcome<T>(client, pathFor());
  const outcomes = await Promise.all(namespaces.map((ns) => listOutcome<T>(client, pathFor(ns))));
  const refused = outcomes.find((o) => o.kind === 'refused');
  if (refused) return refused;
  if (outcomes.some((o) => o.kind === 'not-served')) return { kind: 'not-served' };
  return { kind: 'listed', items: outcomes.flatMap((o) => (o.kind === 'listed' ? o.items : [])) };
}

/**
 * How many Nodes the cluster has, up to 2 (all the single-replica check needs to know):
 * one LIST with limit 2. Undefined when the Nodes may not be listed.
 */
export async function nodeCount(client: KubeClient): Promise<number | undefined> {
  try {
    const page = await client.get<{ items?: unknown[] }>('/api/v1/nodes', { limit: 2 });
    return page.items?.length ?? 0;
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 403) return undefined;
    throw error;
  }
}
