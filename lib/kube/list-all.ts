import type { KubeClient } from './client';
import { KubeApiError } from './errors';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

interface ListPage<T> {
  apiVersion?: string;
  kind?: string;
  items: T[];
  metadata: { continue?: string; resourceVersion?: string; remainingItemCount?: number };
}

export interface ListOptions {
  /** Page size; 500 is client-go's and Velero's, and what a 500-item APF seat budget assumes. */
  limit?: number;
  labelSelector?: string;
  fieldSelector?: string;
  /** Called once with the server's estimate of the collection's size (first page + remainingItemCount). */
  onSizeEstimate?: (count: number) => void;
}

/**
 * Lists a whole collection, page by page, to the very end: no silent cap. Yields
 * each page's items as they arrive so callers can stream them.
 *
 * Continue tokens expire (~5 min, 410 Gone). Then the list goes on from the
 * server's inconsistent-continue token when it offers one, else restarts from the
 * beginning and skips what was already yielded: the API server returns items in
 * storage key order (namespace/name), so "already yielded" is everything up to the
 * last key seen, and nothing is yielded twice or lost.
 *
 * One page is fetched ahead while the caller handles the current one (one extra page
 * in memory at most).
 *
 * List items lack apiVersion/kind; they are filled in from the list so each item
 * is a complete object, as `kubectl get -o json` shows it.
 */
export async function* listPages<T extends KubeObject = KubeObject>(
  client: KubeClient,
  path: string,
  options: ListOptions = {},
): AsyncGenerator<T[]> {
  const limit = options.limit ?? 500;
  const fetchPage = (continueToken: string | undefined) => {
    const request = client.get<ListPage<T>>(path, {
      limit,
      continue: continueToken,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
    });
    // Awaited below; this only keeps a page nobody waits for any more (the caller
    // stopped early) from becoming an unhandled rejection.
    request.catch(() => undefined);
    return request;
  };
  /** The token of the request in flight; undefined for the first page. */
  let token: string | undefined;
  let request = fetchPage(token);
  let lastKey: string | undefined;
  let skipping = false;
  for (;;) {
    let page: ListPage<T>;
    try {
      page = await request;
    } catch (error) {
      if (!(error instanceof KubeApiError) || error.code !== 410 || token === undefined) throw error;
      token = error.continueToken;
      skipping = token === undefined;
      request = fetchPage(token);
      continue;
    }
    if (options.onSizeEstimate && token === undefined && !skipping) {
      options.onSizeEstimate((page.items?.length ?? 0) + (page.metadata.remainingItemCount ?? 0));
    }
    // The next page is asked for before this one is handed on, so the API server
    // answers while the caller works through this page.
    token = page.metadata.continue || undefined;
    if (token) request = fetchPage(token);
    const itemApiVersion = page.apiVersion;
    const itemKind = page.kind?.replace(/List$/, '');
    let items = page.items ?? [];
    if (skipping && lastKey !== undefined) {
      const after = lastKey;
      items = items.filter((item) => storageKey(item) > after);
      if (items.length > 0 || !token) skipping = false;
    }
    if (items.length > 0) {
      for (const item of items) {
        item.apiVersion ??= itemApiVersion;
        item.kind ??= itemKind;
      }
      lastKey = storageKey(items[items.length - 1]!);
      yield items;
    }
    if (!token) return;
  }
}

/** Collects a whole list into memory; for small collections (classes, discovery-sized lists). */
export async function listAll<T extends KubeObject = KubeObject>(
  client: KubeClient,
  path: string,
  options: ListOptions = {},
): Promise<T[]> {
  const all: T[] = [];
  for await (const page of listPages<T>(client, path, options)) all.push(...page);
  return all;
}

function storageKey(item: KubeObject): string {
  return item.metadata.namespace ? `${item.metadata.namespace}/${item.metadata.name}` : item.metadata.name;
}
