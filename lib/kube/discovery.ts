import { KubeApiError } from './errors';
import type { KubeClient } from './client';

/** One listable resource of one group version, as discovery reports it. */
export interface ApiResource {
  group: string;
  version: string;
  /** Plural resource name, e.g. `deployments`. */
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  /** The group's preferred version (what `kubectl get` and Velero's tarball use). */
  preferredVersion: string;
}

const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

interface AggregatedList {
  kind?: string;
  items?: {
    metadata?: { name?: string };
    versions?: {
      version: string;
      /** `Stale` when the API server behind an aggregated group did not answer discovery. */
      freshness?: 'Current' | 'Stale';
      resources?: {
        resource: string;
        responseKind?: { kind?: string };
        scope: 'Namespaced' | 'Cluster';
        verbs?: string[];
      }[];
    }[];
  }[];
}

/** A group version discovery could not describe, and why; its objects cannot be listed. */
export interface DiscoveryProblem {
  /** `metrics.example.com/v1beta1`, or `v1` for the core group. */
  groupVersion: string;
  reason: string;
}

/** What discovery found: the resources it could describe and the group versions it could not. */
export interface Discovery {
  resources: ApiResource[];
  problems: DiscoveryProblem[];
}

/** How discovery asks: aggregated (the default) or one request per group version. */
export interface DiscoveryOptions {
  aggregated?: boolean;
}

/**
 * One group version's own discovery is tried twice at most: an aggregated API whose
 * server is down answers 503 after its timeout, and the backup should not wait through
 * five of them for every such group.
 */
const GROUP_DISCOVERY_ATTEMPTS = 2;

/**
 * Every group/resource the cluster serves, custom resources included, in all
 * served versions, each marked with its group's preferred version. Uses aggregated
 * discovery (two requests for the whole cluster) and falls back to per-group
 * discovery on servers that lack it. A group version that cannot be described (an
 * aggregated API server that is down: `Stale` in aggregated discovery, 503 per group)
 * is a problem, not a failure: the rest of the cluster is still there.
 */
export async function discoverApi(client: KubeClient, options: DiscoveryOptions = {}): Promise<Discovery> {
  if (options.aggregated !== false) {
    const [core, groups] = await Promise.all([
      client.request<AggregatedList>({ path: '/api', accept: AGGREGATED_V2 }),
      client.request<AggregatedList>({ path: '/apis', accept: AGGREGATED_V2 }),
    ]);
    if (core.kind === 'APIGroupDiscoveryList' && groups.kind === 'APIGroupDiscoveryList') {
      const found = [fromAggregated(core), fromAggregated(groups)];
      return { resources: found.flatMap((f) => f.resources), problems: found.flatMap((f) => f.problems) };
    }
  }
  return legacyDiscovery(client);
}

/** The resources of discoverApi, for callers that need no problems (tests, tools). */
export async function discoverResources(client: KubeClient): Promise<ApiResource[]> {
  return (await discoverApi(client)).resources;
}

function fromAggregated(list: AggregatedList): Discovery {
  const found: Discovery = { resources: [], problems: [] };
  for (const group of list.items ?? []) {
    const name = group.metadata?.name ?? '';
    const preferredVersion = group.versions?.[0]?.version ?? '';
    for (const version of group.versions ?? []) {
      if (version.freshness === 'Stale') {
        found.problems.push({ groupVersion: groupVersionOf(name, version.version), reason: STALE_REASON });
        continue;
      }
      for (const r of version.resources ?? []) {
        found.resources.push({
          group: name,
          version: version.version,
          resource: r.resource,
          kind: r.responseKind?.kind ?? '',
          namespaced: r.scope === 'Namespaced',
          verbs: r.verbs ?? [],
          preferredVersion,
        });
      }
    }
  }
  return found;
}

const STALE_REASON = 'its API server is unavailable (discovery is stale)';

function groupVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

interface LegacyResourceList {
  resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
}

async function legacyDiscovery(client: KubeClient): Promise<Discovery> {
  const groups = await client.get<{
    groups: { name: string; versions: { version: string }[]; preferredVersion?: { version: string } }[];
  }>('/apis');
  const targets = [
    { group: '', path: '/api/v1', version: 'v1', preferredVersion: 'v1' },
    ...groups.groups.flatMap((g) =>
      g.versions.map((v) => ({
        group: g.name,
        path: `/apis/${g.name}/${v.version}`,
        version: v.version,
        preferredVersion: g.preferredVersion?.version ?? g.versions[0]?.version ?? v.version,
      })),
    ),
  ];
  const found: Discovery = { resources: [], problems: [] };
  const lists = await Promise.all(
    targets.map((t) =>
      client.request<LegacyResourceList>({ path: t.path, maxAttempts: GROUP_DISCOVERY_ATTEMPTS }).catch((error: unknown) => {
        if (!(error instanceof KubeApiError)) throw error;
        found.problems.push({ groupVersion: groupVersionOf(t.group, t.version), reason: legacyReason(error) });
        return undefined;
      }),
    ),
  );
  lists.forEach((list, i) => {
    const t = targets[i]!;
    for (const r of list?.resources ?? []) {
      if (r.name.includes('/')) continue;
      found.resources.push({
        group: t.group,
        version: t.version,
        resource: r.name,
        kind: r.kind,
        namespaced: r.namespaced,
        verbs: r.verbs,
        preferredVersion: t.preferredVersion,
      });
    }
  });
  return found;
}

function legacyReason(error: KubeApiError): string {
  return error.code === 503 ? STALE_REASON.replace(' (discovery is stale)', ` (HTTP 503)`) : error.message;
}

/** `deployments.apps`, or `pods` for the core group: Velero's group-resource spelling. */
export function groupResource(r: Pick<ApiResource, 'group' | 'resource'>): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

/** The REST path of a resource collection, optionally within one namespace. */
export function collectionPath(r: Pick<ApiResource, 'group' | 'version' | 'resource'>, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return namespace ? `${base}/namespaces/${namespace}/${r.resource}` : `${base}/${r.resource}`;
}
