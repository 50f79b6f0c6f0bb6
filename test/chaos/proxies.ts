import type { BedState } from '../bed/state';
import { startApiServerProxy, startFaultProxy, type FaultProxy } from '../support/fault-proxy';

/**
 * The fault proxies of a chaos run: one in front of MinIO, one (TLS) in front of each
 * cluster's API server (see startApiServerProxy); the jobs authenticate with the admin
 * token, which the proxy forwards.
 */
export interface ChaosProxies {
  s3: FaultProxy;
  kube: Record<string, FaultProxy>;
  close(): Promise<void>;
}

export async function startChaosProxies(state: BedState): Promise<ChaosProxies> {
  const s3 = await startFaultProxy({ upstream: state.minio.endpoint });
  const kube: Record<string, FaultProxy> = {};
  for (const cluster of Object.values(state.clusters)) {
    kube[cluster.name] = await startApiServerProxy(state.workDir, cluster);
  }
  return {
    s3,
    kube,
    close: async () => {
      await Promise.all([s3.close(), ...Object.values(kube).map((p) => p.close())]);
    },
  };
}
