import type { KubeClient, KubeRequest } from '../lib/kube/client';

/**
 * Sorts the Kubernetes API requests of one client by what they were for, so the bench
 * can tell discovery and one-per-type LISTs apart from the pages that carry objects.
 * It wraps the client instance's `request` (every call goes through it); the client's
 * own `requestCount` stays the total, retries included.
 */
export interface KubeRequestBreakdown {
  /** `/api`, `/apis` and per-group discovery documents. */
  discovery: number;
  /** First page of a LIST (one per listed type). */
  listFirstPages: number;
  /** First pages that held no object at all (types with nothing to back up). */
  emptyFirstPages: number;
  /** Pages after the first, by `continue` token. */
  listContinuations: number;
  /** Distinct collections listed. */
  collections: number;
  /** Anything else: snapshot creation, reads, patches. */
  other: number;
  /** Objects the LIST pages returned. */
  listedObjects: number;
}

export function trackRequests(client: KubeClient): () => KubeRequestBreakdown {
  const counts: KubeRequestBreakdown = {
    discovery: 0,
    listFirstPages: 0,
    emptyFirstPages: 0,
    listContinuations: 0,
    collections: 0,
    other: 0,
    listedObjects: 0,
  };
  const collections = new Set<string>();
  const send = client.request.bind(client);
  client.request = async <T>(request: KubeRequest): Promise<T> => {
    const method = request.method ?? 'GET';
    const isList = method === 'GET' && request.query?.limit !== undefined;
    if (!isList) {
      if (method === 'GET' && isDiscoveryPath(request.path)) counts.discovery += 1;
      else counts.other += 1;
      return send<T>(request);
    }
    const first = !request.query?.continue;
    if (first) counts.listFirstPages += 1;
    else counts.listContinuations += 1;
    collections.add(request.path);
    const page = await send<T>(request);
    const items = (page as { items?: unknown[] } | undefined)?.items?.length ?? 0;
    counts.listedObjects += items;
    if (first && items === 0) counts.emptyFirstPages += 1;
    return page;
  };
  return () => ({ ...counts, collections: collections.size });
}

/** `/api`, `/apis`, `/api/v1`, `/apis/<group>`, `/apis/<group>/<version>`. */
function isDiscoveryPath(path: string): boolean {
  return /^\/api(\/v1)?\/?$/.test(path) || /^\/apis(\/[^/]+){0,2}\/?$/.test(path);
}
