import { connectCluster } from '../lib/kube/connect';
import type { KubeClient, KubeRequest } from '../lib/kube/client';
import { listAll } from '../lib/kube/list-all';
import { addRestoreLabels, resetMetadataAndStatus, type RestoreObject } from '../lib/restore/reset';
import { runRestore } from '../lib/restore/run-restore';
import { forEachLimited } from '../lib/restore/run-steps';
import { createRestore, getRestore, restoreServiceDeps } from '../lib/restore/service';
import { systemClock } from '../lib/core/clock';
import { storeResolver } from '../lib/store/resolver';
import { benchConfig, clusterConfig } from './bed-config';
import { childArgs, cpuMillis, peakRssMb, runChild } from './child-common';

/**
 * One side of the restore measurement, in a process of its own:
 * - `direct`: the backed-up namespace's ConfigMaps, read and reset beforehand (not
 *   timed), created in a fresh namespace with `concurrency` POSTs in flight: what
 *   creating the same objects costs without Skiff;
 * - `restore`: a Skiff restore of the backup into a fresh namespace (namespaceMapping),
 *   timed from runRestore's start: reading the tarball from S3, planning, creating.
 * Both use the same client settings (rate limit, connection pool) and concurrency.
 *
 *   BENCH_ARGS='{"statePath":..., "bucket":..., "mode":"restore", ...}' node --import tsx bench/restore-once.ts
 */

export interface RestoreOnceArgs {
  statePath: string;
  bucket: string;
  cluster: string;
  mode: 'direct' | 'restore';
  backupName: string;
  sourceNamespace: string;
  targetNamespace: string;
  concurrency: number;
  qps: number;
  burst: number;
}

export interface RestoreOnceResult {
  mode: RestoreOnceArgs['mode'];
  ms: number;
  cpuMs: number;
  objects: number;
  /** POST, PUT and PATCH requests. */
  writes: number;
  kubeRequests: number;
  phase?: string;
  peakRssMb: number;
}

/** Counts writes of a client (every call goes through `request`). */
function countWrites(client: KubeClient): () => number {
  let writes = 0;
  const send = client.request.bind(client);
  client.request = async <T>(request: KubeRequest): Promise<T> => {
    if (request.method && request.method !== 'GET') writes += 1;
    return send<T>(request);
  };
  return () => writes;
}

async function direct(args: RestoreOnceArgs, client: KubeClient): Promise<RestoreOnceResult> {
  const source = await listAll<RestoreObject & { metadata: { name: string } }>(client, `/api/v1/namespaces/${args.sourceNamespace}/configmaps`);
  const objects = source
    .filter((o) => o.metadata.name !== 'kube-root-ca.crt')
    .map((o) => {
      resetMetadataAndStatus(o);
      o.metadata!.namespace = args.targetNamespace;
      addRestoreLabels(o, args.backupName, 'direct');
      return { apiVersion: 'v1', kind: 'ConfigMap', ...o };
    });
  await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: args.targetNamespace } });
  const writes = countWrites(client);
  const requestsBefore = client.requestCount;
  const start = performance.now();
  const cpu = process.cpuUsage();
  await forEachLimited(objects, args.concurrency, async (object) => {
    await client.create(`/api/v1/namespaces/${args.targetNamespace}/configmaps`, object);
  });
  return {
    mode: 'direct',
    ms: performance.now() - start,
    cpuMs: cpuMillis(process.cpuUsage(cpu)),
    objects: objects.length,
    writes: writes(),
    kubeRequests: client.requestCount - requestsBefore,
    peakRssMb: peakRssMb(),
  };
}

async function restore(args: RestoreOnceArgs): Promise<RestoreOnceResult> {
  const config = benchConfig(args.statePath, args.bucket);
  const cluster = { ...clusterConfig(config, args.cluster), qps: args.qps, burst: args.burst };
  const service = restoreServiceDeps(config);
  const { name } = await createRestore(service, {
    backupName: args.backupName,
    name: `bench-${args.targetNamespace}`,
    cluster: args.cluster,
    namespaceMapping: { [args.sourceNamespace]: args.targetNamespace },
  });
  let client: KubeClient | undefined;
  let writes = () => 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  await runRestore(
    {
      store: storeResolver(config)('default'),
      connect: async () => {
        client = await connectCluster(cluster);
        writes = countWrites(client);
        return client;
      },
      clock: systemClock,
      remainingMs: () => 14 * 60_000,
      concurrency: args.concurrency,
    },
    name,
  );
  const ms = performance.now() - start;
  const view = await getRestore(service, name);
  return {
    mode: 'restore',
    ms,
    cpuMs: cpuMillis(process.cpuUsage(cpu)),
    objects: view.status.progress?.itemsRestored ?? 0,
    writes: writes(),
    kubeRequests: client?.requestCount ?? 0,
    phase: view.status.phase,
    peakRssMb: peakRssMb(),
  };
}

async function main(): Promise<RestoreOnceResult> {
  const args = childArgs<RestoreOnceArgs>();
  if (args.mode === 'restore') return restore(args);
  const config = benchConfig(args.statePath, args.bucket);
  const client = await connectCluster({ ...clusterConfig(config, args.cluster), qps: args.qps, burst: args.burst });
  try {
    return await direct(args, client);
  } finally {
    client.close();
  }
}

runChild(main);
