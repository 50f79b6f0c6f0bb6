import type { KubeClient, KubeRequest } from '../lib/kube/client';
import { BusyTimer } from './busy-timer';

/**
 * Sorts the Kubernetes API requests of one client by what they were for, so the bench
 * can tell discovery and one-per-type LISTs apart from the pages that carry objects,
 * and notes when each was sent and how long it took. It wraps the client instance's
 * `request` (every call goes through it); the client's own `requestCount` stays the
 * total, retries included.
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
  /** Milliseconds with at least one request in flight. */
  busyMs: number;
  /** Each request: start (ms since tracking began), duration, what it was. Capped at 300. */
  timeline: { at: number; ms: number; what: string; items?: number }[];
}

const TIMELINE_CAP = 300;

export function trackRequests(client: KubeClient, origin = performance.now()): () => KubeRequestBreakdown {
  const counts = { discovery: 0, listFirstPages: 0, emptyFirstPages: 0, listContinuations: 0, other: 0, listedObjects: 0 };
  const timeline: KubeRequestBreakdown['timeline'] = [];
  const collections = new Set<string>();
  const busy = new BusyTimer();
  const send = client.request.bind(client);
  client.request = async <T>(request: KubeRequest): Promise<T> => {
    const method = request.method ?? 'GET';
    const isList = method === 'GET' && request.query?.limit !== undefined;
    const first = !request.query?.continue;
    let what: string;
    if (!isList) {
      const discovery = method === 'GET' && isDiscoveryPath(request.path);
      if (discovery) counts.discovery += 1;
      else counts.other += 1;
      what = `${discovery ? 'discovery' : method} ${request.path}`;
    } else {
      if (first) counts.listFirstPages += 1;
      else counts.listContinuations += 1;
      collections.add(request.path);
      what = `LIST ${request.path}${first ? '' : ' (continue)'}`;
    }
    const at = performance.now();
    const answer = await busy.time(() => send<T>(request));
    const items = isList ? ((answer as { items?: unknown[] } | undefined)?.items?.length ?? 0) : undefined;
    if (items !== undefined) {
      counts.listedObjects += items;
      if (first && items === 0) counts.emptyFirstPages += 1;
    }
    if (timeline.length < TIMELINE_CAP) {
      timeline.push({ at: Math.round(at - origin), ms: Math.round(performance.now() - at), what, ...(items !== undefined ? { items } : {}) });
    }
    return answer;
  };
  return () => ({ ...counts, collections: collections.size, busyMs: busy.busyMs, timeline });
}

/** `/api`, `/apis`, `/api/v1`, `/apis/<group>`, `/apis/<group>/<version>`. */
function isDiscoveryPath(path: string): boolean {
  return /^\/api(\/v1)?\/?$/.test(path) || /^\/apis(\/[^/]+){0,2}\/?$/.test(path);
}
