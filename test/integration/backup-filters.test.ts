import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import type { SkiffConfig } from '../../lib/config';
import type { KubeClient } from '../../lib/kube/client';
import { collectionPath, discoverResources, groupResource } from '../../lib/kube/discovery';
import { listAll } from '../../lib/kube/list-all';
import { uniqueName, waitFor } from '../bed/context';
import { bedConfig, clusterClient, getBytes, observedDeps, pathsOf, requestBackup, tarEntries } from './backup-helpers';

/**
 * Velero's filters, end to end: each backup spec below is run against three namespaces
 * and the tarball's paths are compared with what the spec should take, computed from
 * what the API server lists.
 */

interface Item {
  gr: string;
  version: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
}

let config: SkiffConfig;
let bucket: string;
let client: KubeClient;
let base: string;
let a: string;
let b: string;
let c: string;
let inventory: Item[];

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('backup-filters'));
  client = await clusterClient(config);
  base = uniqueName('flt', 20);
  [a, b, c] = [`${base}-a`, `${base}-b`, `${base}-c`];
  // A namespace the glob must not reach.
  const outside = `${base}x-a`;
  for (const ns of [a, b, c, outside]) {
    await client.create('/api/v1/namespaces', { metadata: { name: ns } });
    await client.create(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'cm-web', labels: { app: 'web', suite: base } }, data: { k: 'v' } });
    await client.create(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'cm-db', labels: { app: 'db', suite: base } }, data: { k: 'v' } });
    await client.create(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'cm-plain' }, data: { k: 'v' } });
    await client.create(`/api/v1/namespaces/${ns}/secrets`, { metadata: { name: 's-web', labels: { app: 'web', suite: base } }, stringData: { k: 'v' } });
  }
  // The controller manager publishes kube-root-ca.crt into each new namespace a moment
  // later; the inventory must hold it, as the backups will.
  for (const ns of [a, b, c, outside]) {
    await waitFor(() => client.get(`/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`).then(() => true, () => false), { what: `kube-root-ca.crt in ${ns}`, timeoutMs: 60_000 });
  }
  // The glob reaches this namespace only if it matches `<base>-*`; keep it in the inventory to prove it stays out.
  const resources = (await discoverResources(client)).filter(
    (r) => r.namespaced && r.version === r.preferredVersion && r.verbs.includes('list') && !groupResource(r).startsWith('events'),
  );
  inventory = [];
  for (const ns of [a, b, c, outside]) {
    for (const r of resources) {
      for (const item of await listAll(client, collectionPath(r, ns))) {
        inventory.push({ gr: groupResource(r), version: r.version, namespace: ns, name: item.metadata.name, labels: item.metadata.labels ?? {} });
      }
    }
  }
}, 120_000);

afterAll(() => client?.close());

type Spec = Record<string, unknown>;

interface Names {
  a: string;
  b: string;
  c: string;
  base: string;
}

interface Case {
  title: string;
  spec: (ns: Names) => Spec;
  /** Which namespaced objects the backup takes. */
  takes: (item: Item, ns: Names) => boolean;
  /** Exactly the cluster-scoped objects it takes, as `<gr>/<name>`... */
  cluster?: (ns: Names) => string[];
  /** ...or a check of them, where the cluster holds more than this test made. */
  checkCluster?: (objects: string[], ns: Names) => void;
}

const namespaceObjects = (...names: string[]) => names.map((n) => `namespaces/${n}`);

const cases: Case[] = [
  {
    title: 'includedNamespaces with a glob',
    spec: ({ base }) => ({ includedNamespaces: [`${base}-*`] }),
    takes: (item, ns) => [ns.a, ns.b, ns.c].includes(item.namespace),
    cluster: ({ a, b, c }) => namespaceObjects(a, b, c),
  },
  {
    title: 'a glob with excludedNamespaces',
    spec: ({ base, b }) => ({ includedNamespaces: [`${base}-*`], excludedNamespaces: [b] }),
    takes: (item, ns) => [ns.a, ns.c].includes(item.namespace),
    cluster: ({ a, c }) => namespaceObjects(a, c),
  },
  {
    title: 'excludedNamespaces alone (all other namespaces) with a labelSelector',
    spec: ({ base, b }) => ({ excludedNamespaces: [b], labelSelector: { matchLabels: { suite: base } } }),
    takes: (item, ns) => item.namespace !== ns.b && item.labels.suite === ns.base,
    // Named-by-exclusion is not "all namespaces": every other Active namespace object is kept (Velero's nsTracker).
    checkCluster: (paths, { a, b, c }) => {
      expect(paths.every((p) => p.startsWith('namespaces/'))).toBe(true);
      expect(paths).toEqual(expect.arrayContaining(namespaceObjects(a, c)));
      expect(paths).not.toContain(`namespaces/${b}`);
    },
  },
  {
    title: 'includedResources: configmaps only',
    spec: ({ a }) => ({ includedNamespaces: [a], includedResources: ['configmaps'] }),
    takes: (item, ns) => item.namespace === ns.a && item.gr === 'configmaps',
    cluster: () => [],
  },
  {
    title: 'excludedResources: secrets',
    spec: ({ a }) => ({ includedNamespaces: [a], excludedResources: ['secrets'] }),
    takes: (item, ns) => item.namespace === ns.a && item.gr !== 'secrets',
    cluster: ({ a }) => namespaceObjects(a),
  },
  {
    title: 'labelSelector app=web',
    spec: ({ a, b }) => ({ includedNamespaces: [a, b], labelSelector: { matchLabels: { app: 'web' } } }),
    takes: (item, ns) => [ns.a, ns.b].includes(item.namespace) && item.labels.app === 'web',
    cluster: ({ a, b }) => namespaceObjects(a, b),
  },
  {
    title: 'labelSelector with an expression (decided client-side)',
    spec: ({ a }) => ({ includedNamespaces: [a], labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] } }),
    takes: (item, ns) => item.namespace === ns.a && item.labels.app === 'db',
    cluster: ({ a }) => namespaceObjects(a),
  },
  {
    title: 'orLabelSelectors app=web or app=db',
    spec: ({ a }) => ({ includedNamespaces: [a], orLabelSelectors: [{ matchLabels: { app: 'web' } }, { matchLabels: { app: 'db' } }] }),
    takes: (item, ns) => item.namespace === ns.a && ['web', 'db'].includes(item.labels.app ?? ''),
    cluster: ({ a }) => namespaceObjects(a),
  },
  {
    title: 'includeClusterResources false',
    spec: ({ a }) => ({ includedNamespaces: [a], includeClusterResources: false }),
    takes: (item, ns) => item.namespace === ns.a,
    cluster: () => [],
  },
  {
    title: 'includeClusterResources true with includedResources',
    spec: ({ a }) => ({ includedNamespaces: [a], includeClusterResources: true, includedResources: ['configmaps', 'storageclasses'] }),
    takes: (item, ns) => item.namespace === ns.a && item.gr === 'configmaps',
    checkCluster: (paths) => {
      expect(paths.every((p) => p.startsWith('storageclasses.storage.k8s.io/'))).toBe(true);
      expect(paths).toEqual(expect.arrayContaining(['storageclasses.storage.k8s.io/sim-longhorn', 'storageclasses.storage.k8s.io/sim-ontap']));
    },
  },
  {
    title: 'new style: includedNamespaceScopedResources and includedClusterScopedResources',
    spec: ({ a }) => ({
      includedNamespaces: [a],
      includedNamespaceScopedResources: ['configmaps'],
      includedClusterScopedResources: ['storageclasses'],
    }),
    takes: (item, ns) => item.namespace === ns.a && item.gr === 'configmaps',
    checkCluster: (paths, { a }) => {
      expect(paths.filter((p) => !p.startsWith('storageclasses.storage.k8s.io/'))).toEqual(namespaceObjects(a));
      expect(paths).toEqual(expect.arrayContaining(['storageclasses.storage.k8s.io/sim-longhorn', 'storageclasses.storage.k8s.io/sim-ontap']));
    },
  },
  {
    title: 'new style: excludedNamespaceScopedResources secrets',
    spec: ({ a }) => ({ includedNamespaces: [a], excludedNamespaceScopedResources: ['secrets'] }),
    takes: (item, ns) => item.namespace === ns.a && item.gr !== 'secrets',
    cluster: ({ a }) => namespaceObjects(a),
  },
];

describe('backup filters', () => {
  it.each(cases)('$title', async ({ spec, takes, cluster, checkCluster }) => {
    const ns = { a, b, c, base };
    const name = await requestBackup(config, { cluster: 'alpha', snapshotVolumes: false, ...spec(ns) });
    const { deps } = await observedDeps(config, name, () => 600_000);
    expect(await runBackup(deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
    const paths = (await tarEntries(await getBytes(bucket, `backups/${name}/${name}.tar.gz`))).map((e) => e.name);
    expect(paths.length).toBe(new Set(paths).size);

    const namespaced = paths.filter((p) => /^resources\/[^/]+\/([^/]+\/)?namespaces\//.test(p)).sort();
    const expected = inventory
      .filter((item) => takes(item, ns))
      .flatMap((item) => pathsOf(item.gr, item.version, item.namespace, item.name))
      .sort();
    expect(namespaced).toEqual(expected);

    // Cluster-scoped objects as `<gr>/<name>`, each also under its preferred version.
    const clusterPaths = paths.filter((p) => /^resources\/[^/]+\/([^/]+\/)?cluster\//.test(p));
    const objects = clusterPaths
      .map((p) => p.split('/'))
      .filter((parts) => parts.length === 4)
      .map(([, gr, , file]) => `${gr}/${file!.replace(/\.json$/, '')}`)
      .sort();
    expect(clusterPaths.length).toBe(2 * objects.length);
    if (cluster) expect(objects).toEqual(cluster(ns).sort());
    checkCluster?.(objects, ns);
  });
});
