import type { ChaosEnv, FaultKind } from './lifecycle';
import type { Prng } from './prng';

/** What a fault needs of its lifecycle: the run's environment, its seeded choices, its namespace. */
export interface FaultContext {
  env: ChaosEnv;
  rng: Prng;
  /** The lifecycle's source namespace: storage faults touch only its volumes. */
  namespace: string;
}

/**
 * Runs `work` (the step's job invocations) with the fault going on part of the time:
 * proxy faults and restarts start after a short random delay and last a few seconds;
 * storage slowness lasts for the whole step, storage failures for a window from its
 * start. A job kill is the caller's kill point.
 */
export async function underFault(ctx: FaultContext, fault: FaultKind | undefined, cluster: string, work: () => Promise<unknown>): Promise<void> {
  const startAfter = ctx.rng.int(0, 1_500);
  const windowMs = ctx.rng.int(1_000, 4_000);
  let side: Promise<unknown> = Promise.resolve();
  let release: (() => Promise<void>) | undefined;
  const sim = ctx.env.simulator;
  // Storage failures end after their window; the release is then done and not repeated.
  const releaseAfter = (ms: number) =>
    new Promise((r) => setTimeout(r, ms)).then(async () => {
      const done = release;
      release = undefined;
      await done?.();
    });
  const proxy = ctx.env.s3Proxy;
  const later = (f: () => unknown) => new Promise((r) => setTimeout(r, startAfter)).then(f);
  switch (fault) {
    case 's3-500':
    case 's3-503':
      side = later(() => proxy.inject({ kind: 'status', status: fault === 's3-500' ? 500 : 503, retryAfterSeconds: 1 }, windowMs));
      break;
    case 's3-delay':
      side = later(() => proxy.inject({ kind: 'delay', delayMs: ctx.rng.int(2_000, 8_000) }, windowMs));
      break;
    case 's3-drop':
      side = later(() => proxy.inject({ kind: 'drop' }, windowMs));
      break;
    case 'kube-429':
    case 'kube-500':
    case 'kube-503': {
      const status = Number(fault.slice(5));
      const kube = ctx.env.kubeProxies[cluster]!;
      side = later(() => kube.inject({ kind: 'status', status, ...(status === 500 ? {} : { retryAfterSeconds: 1 }) }, windowMs));
      break;
    }
    case 'minio-restart': {
      const downMs = ctx.rng.int(200, 3_000);
      side = later(() => ctx.env.gate.withExclusive(() => ctx.env.restart!('minio', downMs)));
      break;
    }
    case 'apiserver-restart': {
      const downMs = ctx.rng.int(200, 3_000);
      side = later(() => ctx.env.gate.withExclusive(() => ctx.env.restart!(`${cluster}/kube-apiserver`, downMs)));
      break;
    }
    case 'storage-slow':
      release = await sim.slowDown({ snapshotDelayMs: ctx.rng.int(1_000, 4_000), deleteDelayMs: ctx.rng.int(1_000, 4_000) });
      break;
    case 'storage-fail-snapshots':
      release = await sim.failSnapshotsIn(ctx.namespace);
      side = releaseAfter(windowMs);
      break;
    case 'storage-fail-deletes':
      // Long enough that an expiry run sees a content's deletion fail, not only wait.
      release = await sim.failDeletesIn(ctx.namespace);
      side = releaseAfter(ctx.rng.int(2_000, 15_000));
      break;
    default:
      break;
  }
  try {
    await work();
  } finally {
    await side.catch((error: unknown) => ctx.env.log(`fault ${fault} could not be applied: ${(error as Error).message}`));
    proxy.clear();
    for (const kube of Object.values(ctx.env.kubeProxies)) kube.clear();
    await release?.();
  }
}
