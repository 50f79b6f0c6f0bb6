import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BedState } from '../bed/state';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';

/**
 * The fault proxies of a chaos run: one in front of MinIO, one (TLS) in front of each
 * cluster's API server. The API server's serving certificate is for 127.0.0.1, where the
 * proxy listens too, so the proxy serves with it and clients keep the cluster's CA; the
 * jobs authenticate with the admin token, which the proxy forwards.
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
    const pki = join(state.workDir, cluster.name, 'pki');
    kube[cluster.name] = await startFaultProxy({
      upstream: cluster.server,
      tls: { cert: readFileSync(join(pki, 'apiserver.crt'), 'utf8'), key: readFileSync(join(pki, 'apiserver.key'), 'utf8'), upstreamCa: readFileSync(cluster.caFile, 'utf8') },
    });
  }
  return {
    s3,
    kube,
    close: async () => {
      await Promise.all([s3.close(), ...Object.values(kube).map((p) => p.close())]);
    },
  };
}
