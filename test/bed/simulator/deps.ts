import type { ConfigStore } from './config';
import type { Cluster } from './kube';
import type { Ledger } from './ledger';

/** What each per-cluster controller works with: its API server and the shared storage. */
export interface ControllerDeps {
  cluster: Cluster;
  ledger: Ledger;
  config: ConfigStore;
  /** Full relist period of the controllers' caches. */
  resyncMs: number;
}
