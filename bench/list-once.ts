import { connectCluster } from '../lib/kube/connect';
import { listPages } from '../lib/kube/list-all';
import { benchConfig, clusterConfig } from './bed-config';
import { childArgs, cpuMillis, peakRssMb, runChild } from './child-common';

/**
 * The baseline a backup is measured against: one bare paginated LIST (limit 500) of a
 * collection, through the same kind of client the backup uses (connectCluster with the
 * same configuration), in a process of its own. Objects are counted, not kept.
 */

export interface ListOnceArgs {
  statePath: string;
  cluster: string;
  /** Collection path, e.g. /api/v1/namespaces/<ns>/configmaps. */
  path: string;
  limit?: number;
}

export interface ListOnceResult {
  ms: number;
  /** CPU time (user + system) of this process during the LIST, ms. */
  cpuMs: number;
  items: number;
  pages: number;
  kubeRequests: number;
  startRssMb: number;
  peakRssMb: number;
}

async function main(): Promise<ListOnceResult> {
  const args = childArgs<ListOnceArgs>();
  // Any bucket: the configuration is only read for the cluster.
  const config = benchConfig(args.statePath, 'unused');
  const startRssMb = peakRssMb();
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const client = await connectCluster(clusterConfig(config, args.cluster));
  let items = 0;
  let pages = 0;
  try {
    for await (const page of listPages(client, args.path, { limit: args.limit ?? 500 })) {
      items += page.length;
      pages += 1;
    }
  } finally {
    client.close();
  }
  const ms = performance.now() - start;
  const cpuMs = cpuMillis(process.cpuUsage(cpuStart));
  return { ms, cpuMs, items, pages, kubeRequests: client.requestCount, startRssMb, peakRssMb: peakRssMb() };
}

runChild(main);
