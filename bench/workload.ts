import { randomBytes } from 'node:crypto';
import { Agent, request as httpsRequest } from 'node:https';
import { KubeClient } from '../lib/kube/client';
import { listAll, type KubeObject } from '../lib/kube/list-all';
import { RateLimiter } from '../lib/kube/rate-limiter';
import type { BedState } from '../test/bed/state';
import { waitFor } from '../test/bed/wait';

/**
 * What the bench backs up, created as fast as the bed's API server takes it: a client
 * of its own with 64 connections and no client-side rate limit (the backup's client
 * keeps its configured one), many requests in flight.
 */

export const CREATE_CONCURRENCY = 64;

/** An admin client for creating the workload; not what the measured runs use. */
export function workloadClient(state: BedState, cluster: string): KubeClient {
  const bedCluster = state.clusters[cluster];
  if (!bedCluster) throw new Error(`the bed has no cluster "${cluster}"`);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: CREATE_CONCURRENCY,
    ca: Buffer.from(bedCluster.caData, 'base64'),
  });
  return new KubeClient(
    cluster,
    { server: bedCluster.server, agent, headers: { authorization: `Bearer ${bedCluster.adminToken}` }, send: httpsRequest },
    new RateLimiter(1_000_000, 1_000_000),
  );
}

export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'skiff.bench/run': 'true' } } });
}

const TIERS = ['frontend', 'backend', 'cache', 'worker'];
const ENVS = ['prod', 'staging'];

/**
 * A ConfigMap like an application's: the usual app.kubernetes.io labels and about
 * 1 KiB of properties whose values are partly random, so gzip sees text that
 * compresses like real configuration rather than a repeated pattern.
 */
export function configMap(namespace: string, index: number): KubeObject {
  const app = `svc-${index % 97}`;
  const lines: string[] = [];
  let size = 0;
  for (let line = 0; size < 1024; line++) {
    const text =
      line % 3 === 0
        ? `${app}.endpoint.${line}=https://${app}-${randomBytes(4).toString('hex')}.internal.example.com:8443/api/v${line % 4}`
        : line % 3 === 1
          ? `${app}.pool.${line}.max-connections=${(index * 31 + line * 7) % 500}`
          : `${app}.feature.${line}.token=${randomBytes(12).toString('base64url')}`;
    lines.push(text);
    size += text.length + 1;
  }
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `cm-${String(index).padStart(6, '0')}`,
      namespace,
      labels: {
        'app.kubernetes.io/name': app,
        'app.kubernetes.io/instance': `${app}-${ENVS[index % ENVS.length]}`,
        'app.kubernetes.io/part-of': 'bench-shop',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/version': `1.${index % 12}.${index % 5}`,
        'app.kubernetes.io/component': TIERS[index % TIERS.length]!,
        'helm.sh/chart': `${app}-0.${index % 9}.0`,
      },
      annotations: { 'meta.helm.sh/release-name': app, 'meta.helm.sh/release-namespace': namespace },
    },
    data: { 'application.properties': `${lines.join('\n')}\n` },
  };
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function inParallel(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < count; index = next++) await task(index);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Creates `count` ConfigMaps in `namespace`; returns the wall time in ms. */
export async function createConfigMaps(
  client: KubeClient,
  namespace: string,
  count: number,
  progress: (done: number) => void = () => undefined,
): Promise<number> {
  const start = performance.now();
  let done = 0;
  let lastReport = start;
  await inParallel(count, CREATE_CONCURRENCY, async (index) => {
    await client.create(`/api/v1/namespaces/${namespace}/configmaps`, configMap(namespace, index));
    done += 1;
    const now = performance.now();
    if (now - lastReport > 5000) {
      lastReport = now;
      progress(done);
    }
  });
  return performance.now() - start;
}

/** Creates `count` PVCs of StorageClass sim-longhorn and waits until all are Bound. */
export async function createBoundPvcs(client: KubeClient, namespace: string, count: number): Promise<void> {
  await inParallel(count, 16, async (index) => {
    await client.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: `data-${String(index).padStart(3, '0')}`, labels: { 'app.kubernetes.io/name': 'db' } },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
        storageClassName: 'sim-longhorn',
      },
    });
  });
  await waitFor(
    async () => {
      const pvcs = await listAll(client, `/api/v1/namespaces/${namespace}/persistentvolumeclaims`);
      return pvcs.length === count && pvcs.every((pvc) => (pvc.status as { phase?: string } | undefined)?.phase === 'Bound');
    },
    { what: `${count} bound PVCs in ${namespace}`, timeoutMs: 180_000, intervalMs: 500 },
  );
}

/** Reads or changes the storage simulator's runtime knobs (see test/bed/simulator/config.ts). */
export async function simulatorConfig(state: BedState, patch?: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (!state.simulator) throw new Error('the bed runs without the storage simulator');
  const url = new URL('/config', state.simulator.ledgerUrl).toString();
  const res = await fetch(url, {
    method: patch ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json' },
    ...(patch ? { body: JSON.stringify(patch) } : {}),
  });
  if (!res.ok) throw new Error(`simulator ${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/**
 * The bed's own time for snapshots, without Skiff: one VolumeSnapshot per PVC, all
 * created at once, then the namespace's snapshots looked at every 100 ms until every
 * one is ready to use. What the snapshot controller and the simulated storage allow.
 */
export async function bedSnapshotTime(client: KubeClient, namespace: string, snapshotClass: string, tag: string): Promise<number> {
  const pvcs = await listAll(client, `/api/v1/namespaces/${namespace}/persistentvolumeclaims`);
  const path = `/apis/snapshot.storage.k8s.io/v1/namespaces/${namespace}/volumesnapshots`;
  const start = performance.now();
  await Promise.all(
    pvcs.map((pvc) =>
      client.create(path, {
        apiVersion: 'snapshot.storage.k8s.io/v1',
        kind: 'VolumeSnapshot',
        metadata: { name: `floor-${tag}-${pvc.metadata.name}`, labels: { 'skiff.bench/floor': tag } },
        spec: { volumeSnapshotClassName: snapshotClass, source: { persistentVolumeClaimName: pvc.metadata.name } },
      }),
    ),
  );
  await waitFor(
    async () => {
      const snapshots = await listAll(client, path, { labelSelector: `skiff.bench/floor=${tag}` });
      return snapshots.length === pvcs.length && snapshots.every((vs) => (vs.status as { readyToUse?: boolean } | undefined)?.readyToUse === true);
    },
    { what: `${pvcs.length} VolumeSnapshots in ${namespace} ready`, timeoutMs: 300_000, intervalMs: 100 },
  );
  return performance.now() - start;
}
