import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { log, timed } from './log';
import { repoRoot } from './paths';
import { freePorts } from './ports';
import { awaitLogLine, type Supervisor } from './processes';
import type { BedState, ClusterState } from './state';

const entry = join(repoRoot, 'test/bed/simulator/main.ts');

/**
 * The storage simulator: one process for all clusters, which share its simulated
 * storage system (as two clusters may share one Longhorn backup target or one
 * ONTAP). It acts as the CSI driver side for every cluster and keeps a ledger of
 * the storage it holds, served at GET /ledger. Returns null when it is not there.
 */
export async function startSimulator(options: {
  clusters: ClusterState[];
  supervisor: Supervisor;
}): Promise<BedState['simulator']> {
  if (!existsSync(entry)) {
    log(`warning: no storage simulator (${entry} is missing): volumes will not be provisioned or snapshotted`);
    return null;
  }
  const { ledger: port } = await freePorts('ledger');
  const component = options.supervisor.start(
    'simulator',
    join(repoRoot, 'node_modules/.bin/tsx'),
    [entry, '--port', String(port), ...options.clusters.flatMap((c) => ['--cluster', `${c.name}=${c.adminKubeconfigPath}`])],
    { cwd: repoRoot },
  );
  await timed('simulator', () => awaitLogLine(component, /^simulator ready$/m, 60_000));
  return { ledgerUrl: `http://127.0.0.1:${port}/ledger` };
}
