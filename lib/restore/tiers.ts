import type { ArchiveRecord } from '../archive/tar-reader';
import { isRestoredCopy, itemId, type PlanItem, type PlanStep } from './plan';

/**
 * Reads the JSON of a plan's objects from the tarball, one priority tier at a time.
 *
 * The plan (plan.ts) knows every object's place and JSON size but holds none of its
 * JSON. Before a step runs, one pass over the tarball (a fresh stream from object
 * storage) picks out the JSON of that step's objects and of the steps after it, as long
 * as their bytes together stay within a budget: consecutive small tiers share one pass,
 * so a common restore reads the tarball twice (the plan's pass and one for the
 * objects), while a large one holds one tier at a time. A step's JSON is dropped once
 * the step is done. So what a restore holds at once is the JSON of one pass: at most the
 * budget, or one tier when a single tier is larger (plan.ts refuses a tier over
 * `maxHeldBytes` before anything is created).
 *
 * Objects are matched by identity (group-resource, namespace, name; the copy of the
 * API version the plan chose: api-versions.ts), never by position, so a tarball read again is read the same way.
 */

/** JSON bytes one pass may gather by default (64 MiB: about 30,000 objects of 2 KB). */
export const DEFAULT_PASS_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * The steps one pass loads when step `from` is next: `from` and the steps after it that
 * need the tarball, while their bytes together fit `budgetBytes` (the first one always
 * goes in, whatever its size). Steps the plan holds whole (built objects, namespaces)
 * cost nothing and are passed over.
 */
export function stepsOfPass(steps: readonly Pick<PlanStep, 'bytes' | 'fromTarball'>[], from: number, budgetBytes: number): number[] {
  const chosen: number[] = [];
  let bytes = 0;
  for (let index = from; index < steps.length; index++) {
    const step = steps[index]!;
    if (!step.fromTarball) continue;
    if (chosen.length > 0 && bytes + step.bytes > budgetBytes) break;
    chosen.push(index);
    bytes += step.bytes;
  }
  return chosen;
}

/**
 * One pass over the tarball: gives each item of the chosen steps its JSON. Stops reading
 * as soon as every item has it. Items not found keep no JSON (the step writer reports
 * each as an error of its own). Returns the bytes taken.
 */
export async function loadPass(records: AsyncIterable<ArchiveRecord>, steps: readonly PlanStep[], indexes: readonly number[]): Promise<number> {
  const wanted = new Map<string, PlanItem>();
  const versions = new Map<string, string>();
  for (const index of indexes) {
    const step = steps[index]!;
    if (step.version !== undefined) versions.set(step.groupResource, step.version);
    for (const item of step.items) if (!item.built && !item.bytes) wanted.set(itemId(item.groupResource, item.namespace, item.name), item);
  }
  let taken = 0;
  if (wanted.size === 0) return taken;
  for await (const record of records) {
    if (record.kind !== 'item' || !isRestoredCopy(record.entry, versions.get(record.entry.groupResource))) continue;
    const id = itemId(record.entry.groupResource, record.entry.namespace, record.entry.name);
    const item = wanted.get(id);
    if (!item) continue;
    wanted.delete(id);
    item.bytes = record.bytes;
    taken += record.bytes.length;
    if (wanted.size === 0) break;
  }
  return taken;
}

/** JSON bytes the plan holds right now, over every step. */
export function heldBytesOf(steps: readonly PlanStep[]): number {
  let held = 0;
  for (const step of steps) for (const item of step.items) held += item.bytes?.length ?? 0;
  return held;
}

/** Drops a finished step's JSON (objects the plan built itself stay: they are small and have no JSON). */
export function releaseStep(step: PlanStep): void {
  for (const item of step.items) delete item.bytes;
}

/** What one pass read, for the log and for tests. */
export interface PassReport {
  groupResources: string[];
  /** JSON bytes the plan held after the pass: this pass's and anything not yet released. */
  heldBytes: number;
}

export interface TierLoaderOptions {
  /** A fresh stream of the tarball's records (one GET of the object each). */
  open: () => Promise<AsyncIterable<ArchiveRecord>>;
  budgetBytes: number;
  onPass?: (report: PassReport) => void;
}

/**
 * A loader for runSteps: `load(i)` makes sure step i's JSON is held, reading the
 * tarball once for step i and the steps that share its pass (stepsOfPass).
 */
export function tierLoader(steps: readonly PlanStep[], options: TierLoaderOptions): (index: number) => Promise<void> {
  const loaded = new Set<number>();
  return async (index) => {
    if (!steps[index]?.fromTarball || loaded.has(index)) return;
    const indexes = stepsOfPass(steps, index, options.budgetBytes);
    await loadPass(await options.open(), steps, indexes);
    for (const i of indexes) loaded.add(i);
    options.onPass?.({ groupResources: indexes.map((i) => steps[i]!.groupResource), heldBytes: heldBytesOf(steps) });
  };
}
