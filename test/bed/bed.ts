import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { apiserverReady, startControllers, startControlPlane } from './cluster';
import { log, seconds, timed } from './log';
import { startMinio } from './minio';
import { findBinaries, repoRoot, workRoot } from './paths';
import { awaitReady, killOnExit, Supervisor } from './processes';
import { keepOnlyLogs, pruneWorkDirs, reapLeftovers, RunRecord } from './runs';
import { startSimulator } from './simulator';
import { writeBedState, type BedState } from './state';

export interface Bed {
  state: BedState;
  /** JSON file of `state`; tests find it through SKIFF_BED_STATE. */
  statePath: string;
  workDir: string;
  /** Stops every process of the bed and deletes its data; logs are kept. */
  stop(): Promise<void>;
  /**
   * For fault tests: SIGKILLs `minio` or `<cluster>/kube-apiserver`, waits `downMs`, starts
   * it again on the same data (MinIO's folder, the cluster's etcd) and port, and resolves
   * when it answers its readiness check again.
   */
  restart?(component: RestartableComponent, downMs?: number): Promise<void>;
}

export type RestartableComponent = 'minio' | `${string}/kube-apiserver`;

/** Starts the watchdog that stops what `runFile` lists if this process dies without doing so. */
export function startWatchdog(runFile: string): void {
  const watchdog = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/bed/watchdog.ts'), runFile], {
    cwd: repoRoot,
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
}

/**
 * Waits for every step to finish or fail, then throws all failures at once. No
 * step is then still starting programs while the bed is stopped because of another.
 */
async function settleAll(steps: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(steps);
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (failures.length > 0) {
    throw new Error(failures.map((reason: unknown) => (reason instanceof Error ? reason.message : String(reason))).join('\n\n'));
  }
}

/**
 * Starts the whole bed: the clusters' control planes (in parallel) and MinIO,
 * then the clusters' controllers together with the storage simulator, which needs
 * the clusters' APIs. Cleans up what crashed earlier runs left behind first. On
 * failure everything started is stopped again and the error shows the end of the
 * failing component's log.
 */
export async function startBed(options: { clusters?: string[] } = {}): Promise<Bed> {
  const clusterNames = options.clusters ?? ['alpha', 'beta'];
  const start = performance.now();

  const leftovers = await reapLeftovers();
  if (leftovers > 0) log(`stopped ${leftovers} process group(s) left behind by an earlier run`);
  pruneWorkDirs(2);
  const binaries = await findBinaries();

  const workDir = join(workRoot, `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  // The run record names the work dir before it exists, so a concurrent run's
  // pruning never takes it for a finished one.
  const run = new RunRecord(workDir);
  const logDir = join(workDir, 'logs');
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const supervisor = new Supervisor(run, logDir);
  const removeExitHooks = killOnExit(supervisor);
  startWatchdog(run.path);
  log(`starting ${clusterNames.join(', ')} and MinIO; logs in ${logDir}`);

  const stop = async () => {
    await supervisor.stop();
    removeExitHooks();
    run.remove();
    keepOnlyLogs(workDir);
  };

  try {
    const minio = timed('minio', () => startMinio({ dataDir: join(workDir, 'minio'), binaries, supervisor }));
    const starting = clusterNames.map((name) => startControlPlane({ name, dir: join(workDir, name), binaries, supervisor }));
    await settleAll([minio, ...starting]);
    const planes = await Promise.all(starting);
    const clusters = planes.map((plane) => plane.state);
    // The simulator only needs the clusters' APIs (it waits for the snapshot CRDs
    // itself), so it starts together with the controllers.
    const simulator = startSimulator({ clusters, supervisor });
    await settleAll([simulator, ...planes.map(startControllers)]);

    const state: BedState = {
      ownerPid: process.pid,
      workDir,
      clusters: Object.fromEntries(clusters.map((c) => [c.name, c])),
      minio: await minio,
      simulator: await simulator,
    };
    const statePath = join(workDir, 'state.json');
    writeBedState(statePath, state);
    log(`up in ${seconds(start)}; state: ${statePath}`);
    const readiness = new Map<string, () => Promise<boolean>>([
      ['minio', async () => (await fetch(`${state.minio.endpoint}/minio/health/live`)).ok],
      ...planes.map((plane) => [`${plane.state.name}/kube-apiserver`, () => apiserverReady(plane)] as const),
    ]);
    const restart = async (component: RestartableComponent, downMs = 0) => {
      const ready = readiness.get(component);
      if (!ready) throw new Error(`cannot restart ${component}: restartable are ${[...readiness.keys()].join(', ')}`);
      await supervisor.kill(component);
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      const started = supervisor.startAgain(component);
      await awaitReady(started, `${component} ready again`, () => ready().catch(() => false), 120_000);
    };
    return { state, statePath, workDir, stop, restart };
  } catch (error) {
    await stop();
    throw new Error(`the test bed did not start (logs: ${logDir}):\n${(error as Error).message}`);
  }
}
