import type { Clock } from '../core/clock';
import type { JobLog } from '../core/job-log';
import type { KubeClient } from '../kube/client';
import { KubeUnreachableError } from '../kube/errors';
import { addMessage } from '../velero/results';
import type { RestoreSpec } from '../velero/restore';
import type { ResourceModifiers } from './modifiers';
import type { PlanItem, RestorePlan } from './plan';
import type { RestoreRecord } from './record';
import { releaseStep } from './tiers';
import { objectToCreate, targetNamespaceOf } from './transform';
import { writeObject, type WriteOutcome } from './write-item';

/**
 * Creates the plan's objects step by step (one group-resource at a time, in Velero's
 * order; a step's JSON read from the tarball just before it runs and dropped after), `concurrency` writes at a time within a step, in chunks after which the
 * cursor moves and the record may be checkpointed. Stops between chunks when the
 * invocation nears its time limit.
 */

export interface StepRunnerDeps {
  client: KubeClient;
  clock: Clock;
  log: JobLog;
  /** Milliseconds left in this invocation. */
  remainingMs: () => number;
  /** Saves the record (cursor, counts, results); called between chunks. */
  checkpoint: () => Promise<void>;
  concurrency: number;
  /** Items per chunk: the most that a crash makes a resumed run send again. */
  chunkSize: number;
  /** Stop when less than this is left (ms), leaving time to checkpoint. */
  stopMarginMs: number;
  /** How long to wait for a restored CRD to be Established (ms). */
  crdEstablishTimeoutMs: number;
}

export interface StepContext {
  spec: RestoreSpec;
  restoreName: string;
  backupName: string;
  modifiers?: ResourceModifiers;
  plan: RestorePlan;
  /** Makes sure a step's objects' JSON is held before it runs (tiers.ts tierLoader); absent when the plan holds it all. */
  loadStep?: (index: number) => Promise<void>;
}

const CRDS_GR = 'customresourcedefinitions.apiextensions.k8s.io';
const CHECKPOINT_EVERY_MS = 5_000;

/** Runs `work` over `items`, at most `limit` at a time. */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

function record(recordOf: RestoreRecord, item: PlanItem, context: StepContext, apiKind: string, outcome: WriteOutcome, name: string): void {
  const namespace = targetNamespaceOf(item, context.spec);
  if (outcome.warning) addMessage(recordOf.results.warnings, namespace, outcome.warning);
  if (outcome.error) addMessage(recordOf.results.errors, namespace, outcome.error);
  const entry = `${namespace ? `${namespace}/` : ''}${name}(${outcome.action})`;
  (recordOf.resourceList[apiKind] ??= []).push(entry);
}

async function restoreOne(deps: StepRunnerDeps, context: StepContext, restore: RestoreRecord, item: PlanItem, created: string[]): Promise<void> {
  let outcome: WriteOutcome;
  let apiKind = `${item.groupResource}`;
  let name = item.name;
  try {
    const { object, modifierErrors } = objectToCreate(item, context);
    const namespace = targetNamespaceOf(item, context.spec);
    for (const message of modifierErrors) addMessage(restore.results.errors, namespace, `${item.groupResource} ${item.name}: ${message}`);
    apiKind = `${object.apiVersion}/${object.kind}`;
    name = object.metadata?.name ?? item.name;
    outcome = await writeObject({ client: deps.client, restoreName: context.restoreName, policy: context.spec.existingResourcePolicy ?? 'none', groupResource: item.groupResource }, object);
    if (outcome.action === 'created' && item.groupResource === CRDS_GR) created.push(name);
  } catch (error) {
    // An unreachable cluster fails every item alike: stop, and go on from the cursor later.
    if (error instanceof KubeUnreachableError) throw error;
    outcome = { action: 'failed', error: `error restoring ${item.groupResource} ${item.name}: ${(error as Error).message}` };
  }
  record(restore, item, context, apiKind, outcome, name);
  restore.restore.status.progress!.itemsRestored += 1;
}

/** Waits until restored CRDs are Established, so their objects can be created (a warning after the timeout). */
async function waitForCrds(deps: StepRunnerDeps, restore: RestoreRecord, names: readonly string[]): Promise<void> {
  const deadline = deps.clock.now().getTime() + deps.crdEstablishTimeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await deps.client.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
      );
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (deps.clock.now().getTime() > deadline) {
        addMessage(restore.results.warnings, undefined, `CustomResourceDefinition ${name} was not Established within ${deps.crdEstablishTimeoutMs / 1000}s; its objects may fail`);
        break;
      }
      await deps.clock.sleep(500);
    }
  }
}

/**
 * Runs the plan from the record's cursor. Answers 'paused' when the invocation is
 * about to end (the record is checkpointed at the cursor), 'done' when every step ran.
 *
 * @throws KubeUnreachableError when the cluster cannot be reached (the cursor stays at
 *   the last checkpoint).
 */
export async function runSteps(deps: StepRunnerDeps, context: StepContext, restore: RestoreRecord): Promise<'paused' | 'done'> {
  let lastCheckpoint = deps.clock.now().getTime();
  const steps = context.plan.steps;
  while (restore.cursor.step < steps.length) {
    const step = steps[restore.cursor.step]!;
    await context.loadStep?.(restore.cursor.step);
    if (restore.cursor.item === 0) deps.log.info('restoring resource', { groupResource: step.groupResource, items: step.items.length });
    const createdCrds: string[] = [];
    while (restore.cursor.item < step.items.length) {
      if (deps.remainingMs() < deps.stopMarginMs) {
        await deps.checkpoint();
        return 'paused';
      }
      const chunk = step.items.slice(restore.cursor.item, restore.cursor.item + deps.chunkSize);
      await forEachLimited(chunk, deps.concurrency, (item) => restoreOne(deps, context, restore, item, createdCrds));
      restore.cursor.item += chunk.length;
      if (deps.clock.now().getTime() - lastCheckpoint >= CHECKPOINT_EVERY_MS) {
        await deps.checkpoint();
        lastCheckpoint = deps.clock.now().getTime();
      }
    }
    if (createdCrds.length > 0) await waitForCrds(deps, restore, createdCrds);
    releaseStep(step);
    restore.cursor = { step: restore.cursor.step + 1, item: 0 };
  }
  return 'done';
}
