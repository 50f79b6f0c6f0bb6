import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { validateConfig, type SkiffConfig } from '../../lib/config';
import type { BackupRunnerDeps } from '../../lib/backup/run-backup';
import { backupRunnerDeps } from '../../lib/backup/runner-deps';
import { createBackup } from '../../lib/backup/service';
import { backupServiceDeps } from '../../lib/backup/service';
import type { KubeClient } from '../../lib/kube/client';
import { isNotFound } from '../../lib/kube/errors';
import { connectCluster } from '../../lib/kube/connect';
import { collectionPath, discoverResources, groupResource } from '../../lib/kube/discovery';
import { listAll, type KubeObject } from '../../lib/kube/list-all';
import { createBackupStore } from '../../lib/store/backup-store';
import { createS3Client, type S3RequestCounter } from '../../lib/store/s3-client';
import { bedState, freshBucket, freshNamespace, s3Client, uniqueName, waitFor } from '../bed/context';
import { skiffConfigForBed } from '../bed/skiff-config';
import { readTar } from '../support/tar';

/**
 * Helpers for the backup engine's integration tests: a Skiff configuration on a fresh
 * bucket, runner dependencies whose S3 requests and Kubernetes clients the test can
 * see, and readers for what a backup leaves in the bucket.
 */

export interface TarEntry {
  name: string;
  body: string;
}

/** Every entry of a .tar.gz in order, duplicates kept (a Map would hide them). */
export async function tarEntries(bytes: Buffer): Promise<TarEntry[]> {
  return (await readTar(gunzipSync(bytes))).map(({ header, body }) => ({ name: header.name, body: body.toString('utf8') }));
}

export async function getBytes(bucket: string, key: string): Promise<Buffer> {
  const answer = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await answer.Body!.transformToByteArray());
}

export async function getGzipJson<T = unknown>(bucket: string, key: string): Promise<T> {
  return JSON.parse(gunzipSync(await getBytes(bucket, key)).toString('utf8')) as T;
}

export async function exists(bucket: string, key: string): Promise<boolean> {
  try {
    await s3Client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}

export async function objectKeys(bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** A validated Skiff configuration for the bed, backing up to a fresh bucket. */
export async function bedConfig(prefix: string): Promise<{ config: SkiffConfig; bucket: string }> {
  const bucket = await freshBucket(prefix);
  return { bucket, config: validateConfig(skiffConfigForBed(bedState(), { bucket, apiToken: 'test-api-token' }), 'test') };
}

/**
 * Records a backup (phase New) as POST /backups would, and returns its name: a unique
 * one unless the request names it (default names have one-second resolution).
 */
export async function requestBackup(config: SkiffConfig, request: Record<string, unknown>): Promise<string> {
  const name = (request.name as string | undefined) ?? uniqueName(String(request.cluster));
  return (await createBackup(backupServiceDeps(config), { ...request, name })).name;
}

export interface ObservedDeps {
  deps: BackupRunnerDeps;
  /** The S3 requests of the run's store, in order. */
  s3: S3RequestCounter;
  /** Every Kubernetes client the run connected, to read their request counts. */
  clients: KubeClient[];
}

/**
 * The runner's real dependencies, with the store built on an S3 client whose request
 * log the test reads, and `connect` keeping the clients it hands out.
 */
export async function observedDeps(
  config: SkiffConfig,
  name: string,
  remainingMs: () => number,
  overrides: Partial<BackupRunnerDeps> = {},
): Promise<ObservedDeps> {
  const wired = await backupRunnerDeps(config, remainingMs, name);
  const location = config.storageLocations[0]!;
  const { s3, requests } = createS3Client(location);
  const clients: KubeClient[] = [];
  const deps: BackupRunnerDeps = {
    ...wired,
    store: createBackupStore(s3, location),
    connect: async (cluster) => {
      const client = await wired.connect(cluster);
      clients.push(client);
      return client;
    },
    ...overrides,
  };
  return { deps, s3: requests, clients };
}

/** A client of the bed cluster as Skiff connects to it (admin token), for listing and creating. */
export async function clusterClient(config: SkiffConfig, cluster = 'alpha', rate = { qps: 1000, burst: 2000 }): Promise<KubeClient> {
  const entry = config.clusters.find((c) => c.name === cluster)!;
  return connectCluster({ ...entry, ...rate });
}

/** Both tarball paths of an object in its group's preferred version. */
export function pathsOf(gr: string, version: string, namespace: string | undefined, name: string): string[] {
  const scope = namespace ? `namespaces/${namespace}` : 'cluster';
  return [`resources/${gr}/${scope}/${name}.json`, `resources/${gr}/${version}-preferredversion/${scope}/${name}.json`];
}

/**
 * The tarball paths of every object in `namespace`, listed through the API at each
 * type's preferred version; `skip` leaves types out (e.g. events, which keep coming).
 */
export async function namespacePaths(client: KubeClient, namespace: string, skip: (gr: string) => boolean = () => false): Promise<Set<string>> {
  const resources = (await discoverResources(client)).filter(
    (r) => r.namespaced && r.version === r.preferredVersion && r.verbs.includes('list') && !skip(groupResource(r)),
  );
  const paths = new Set<string>();
  await Promise.all(
    resources.map(async (r) => {
      for (const item of await listAll(client, collectionPath(r, namespace))) {
        for (const path of pathsOf(groupResource(r), r.version, namespace, item.metadata.name)) paths.add(path);
      }
    }),
  );
  return paths;
}

/** Runs `work` over `items`, at most `limit` at a time. */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The parsed JSON of an entry, e.g. to read its apiVersion and kind. */
export function objectOf(entry: TarEntry): KubeObject {
  return JSON.parse(entry.body) as KubeObject;
}

/** Sets fields of the storage simulator's configuration; returns what they were. */
export async function simulatorConfig(fields: Record<string, unknown>): Promise<Record<string, unknown>> {
  const url = bedState().simulator!.ledgerUrl.replace(/\/ledger$/, '/config');
  const before = (await (await fetch(url)).json()) as Record<string, unknown>;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fields) });
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
  return before;
}

/**
 * Creates a namespaced CRD `widgets.<group>`, served in each of `versions` and stored in
 * the last (which is then the preferred version), and waits until discovery shows them.
 */
export async function createWidgetCrd(client: KubeClient, group: string, versions: readonly string[] = ['v1']): Promise<string> {
  const name = `widgets.${group}`;
  await client.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: versions.map((version, i) => ({
        name: version,
        served: true,
        storage: i === versions.length - 1,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      })),
    },
  });
  await waitFor(
    async () => {
      const crd = await client.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
      );
      if (!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return false;
      // Served, and known to discovery (which the backup reads).
      for (const version of versions) await client.get(`/apis/${group}/${version}/widgets`);
      const discovered = (await discoverResources(client)).filter((r) => r.group === group && r.resource === 'widgets');
      return versions.every((version) => discovered.some((r) => r.version === version));
    },
    { what: `CRD ${name} to be established and discoverable`, timeoutMs: 60_000 },
  );
  return name;
}

export interface Workload {
  namespace: string;
  pvcs: string[];
}

/**
 * A small application in `namespace`: a Deployment (the bed runs no deployment
 * controller, so no ReplicaSet or Pod follows), two ConfigMaps, a Secret holding
 * "hunter2", three Widgets of `widgetGroup` and PVCs on sim-longhorn, waited for until
 * the PVCs are Bound.
 */
export async function createWorkload(client: KubeClient, namespace: string, widgetGroup: string, pvcs = ['data', 'logs']): Promise<Workload> {
  const ns = (resource: string, group = '') => (group ? `/apis/${group}/namespaces/${namespace}/${resource}` : `/api/v1/namespaces/${namespace}/${resource}`);
  await client.create(ns('deployments', 'apps/v1'), {
    metadata: { name: 'web', labels: { app: 'web', tier: 'front' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  });
  await client.create(ns('configmaps'), { metadata: { name: 'settings', labels: { app: 'web' } }, data: { a: '1' } });
  await client.create(ns('configmaps'), { metadata: { name: 'flags', labels: { app: 'ops' } }, data: { b: '2' } });
  await client.create(ns('secrets'), { metadata: { name: 'db', labels: { app: 'db' } }, stringData: { password: 'hunter2' } });
  for (const name of ['w1', 'w2', 'w3']) {
    await client.create(ns('widgets', `${widgetGroup}/v1`), {
      apiVersion: `${widgetGroup}/v1`,
      kind: 'Widget',
      metadata: { name, labels: { app: name === 'w1' ? 'web' : 'other' } },
      spec: { size: name },
    });
  }
  for (const name of pvcs) {
    await client.create(ns('persistentvolumeclaims'), {
      metadata: { name, labels: { app: 'web' } },
      spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
  }
  await waitFor(
    async () => {
      const claims = await listAll(client, `/api/v1/namespaces/${namespace}/persistentvolumeclaims`);
      return claims.every((c) => (c.status as { phase?: string } | undefined)?.phase === 'Bound');
    },
    { what: `PVCs of ${namespace} to be bound`, timeoutMs: 90_000 },
  );
  return { namespace, pvcs };
}

/** Waits until GET of `path` answers 404 (up to a minute). */
export async function waitUntilGone(client: KubeClient, path: string, what: string): Promise<void> {
  await waitFor(
    async () => {
      try {
        await client.get(path);
        return false;
      } catch (error) {
        if (isNotFound(error)) return true;
        throw error;
      }
    },
    { what, timeoutMs: 60_000 },
  );
}

/** Deletes a CustomResourceDefinition and waits until it is gone. */
export async function deleteCrd(client: KubeClient, name: string): Promise<void> {
  const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;
  await client.delete(path);
  await waitUntilGone(client, path, `CRD ${name} to be gone`);
}

/**
 * A fresh namespace in `cluster` with one PVC `data` of `storageClassName` (1Gi),
 * waited for until it is Bound; answers the namespace's name.
 */
export async function namespaceWithBoundPvc(client: KubeClient, cluster: string, prefix: string, storageClassName: string): Promise<string> {
  const namespace = await freshNamespace(cluster, prefix);
  await client.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    metadata: { name: 'data' },
    spec: { storageClassName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  await waitFor(async () => (await client.get<KubeObject & { status?: { phase?: string } }>(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/data`)).status?.phase === 'Bound', {
    what: `PVC ${namespace}/data bound`,
    timeoutMs: 60_000,
  });
  return namespace;
}
