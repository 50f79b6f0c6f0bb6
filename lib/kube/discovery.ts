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
      resources?: {
        resource: string;
        responseKind?: { kind?: string };
        scope: 'Namespaced' | 'Cluster';
        verbs?: string[];
      }[];
    }[];
  }[];
}

/**
 * Every group/resource the cluster serves, custom resources included, in all
 * served versions, each marked with its group's preferred version. Uses aggregated
 * discovery (two requests for the whole cluster) and falls back to per-group
 * discovery on servers that lack it.
 */
export async function discoverResources(client: KubeClient): Promise<ApiResource[]> {
  const [core, groups] = await Promise.all([
    client.request<AggregatedList>({ path: '/api', accept: AGGREGATED_V2 }),
    client.request<AggregatedList>({ path: '/apis', accept: AGGREGATED_V2 }),
  ]);
  if (core.kind === 'APIGroupDiscoveryList' && groups.kind === 'APIGroupDiscoveryList') {
    return [...fromAggregated(core), ...fromAggregated(groups)];
  }
  return legacyDiscovery(client);
}

function fromAggregated(list: AggregatedList): ApiResource[] {
  const resources: ApiResource[] = [];
  for (const group of list.items ?? []) {
    const preferredVersion = group.versions?.[0]?.version ?? '';
    for (const version of group.versions ?? []) {
      for (const r of version.resources ?? []) {
        resources.push({
          group: group.metadata?.name ?? '',
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
  return resources;
}

interface LegacyResourceList {
  resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
}

async function legacyDiscovery(client: KubeClient): Promise<ApiResource[]> {
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
  const lists = await Promise.all(targets.map((t) => client.get<LegacyResourceList>(t.path)));
  return lists.flatMap((list, i) => {
    const t = targets[i]!;
    return list.resources
      .filter((r) => !r.name.includes('/'))
      .map((r) => ({
        group: t.group,
        version: t.version,
        resource: r.name,
        kind: r.kind,
        namespaced: r.namespaced,
        verbs: r.verbs,
        preferredVersion: t.preferredVersion,
      }));
  });
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
