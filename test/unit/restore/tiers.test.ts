import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readBackupArchive } from '../../../lib/archive/tar-reader';
import { chooseRestoreVersions } from '../../../lib/restore/api-versions';
import { buildRestorePlan, type PlanContext, type RestorePlan } from '../../../lib/restore/plan';
import { heldBytesOf, releaseStep, stepsOfPass, tierLoader, type PassReport } from '../../../lib/restore/tiers';
import { emptyResults } from '../../../lib/velero/results';
import { packTarball } from '../../support/tar';

/** A gzip tarball in the backup layout. */
function tarball(entries: Record<string, unknown>): Promise<Buffer> {
  return packTarball([{ name: 'metadata/version', body: '1.1.0\n' }, ...Object.entries(entries).map(([name, object]) => ({ name, body: JSON.stringify(object) }))]);
}

/** A backup of namespace shop with several tiers of different sizes, in the tarball's (alphabetical) order. */
function backupObjects(): Record<string, unknown> {
  const entries: Record<string, unknown> = {};
  const add = (resource: string, apiVersion: string, kind: string, count: number, padding: number) => {
    for (let i = 0; i < count; i++) {
      const name = `${kind.toLowerCase()}-${i}`;
      entries[`resources/${resource}/namespaces/shop/${name}.json`] = { apiVersion, kind, metadata: { name, namespace: 'shop' }, data: { pad: 'x'.repeat(padding) } };
    }
  };
  add('configmaps', 'v1', 'ConfigMap', 40, 300);
  add('deployments.apps', 'apps/v1', 'Deployment', 5, 100);
  add('secrets', 'v1', 'Secret', 30, 500);
  add('serviceaccounts', 'v1', 'ServiceAccount', 10, 50);
  add('services', 'v1', 'Service', 8, 80);
  entries['resources/namespaces/cluster/shop.json'] = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } };
  return entries;
}

function context(): PlanContext {
  return {
    spec: { backupName: 'b1' },
    restoreName: 'r1',
    restoreUid: 'uid-1',
    backupName: 'b1',
    targetCluster: 'alpha',
    target: { classes: [], drivers: new Set() },
    storedSnapshots: async () => ({ volumeSnapshots: [], contents: [] }),
    maxHeldBytes: 1 << 20,
    results: emptyResults(),
    log: () => undefined,
    chooseVersions: async (sources) => chooseRestoreVersions(sources, new Map()),
  };
}

const records = (bytes: Buffer) => readBackupArchive(Readable.from([bytes]));

/** Runs the plan's steps the way runSteps does (load, write every item, release), and reports each pass. */
async function walk(plan: RestorePlan, bytes: Buffer, budgetBytes: number): Promise<{ passes: PassReport[]; opened: number; written: string[] }> {
  const passes: PassReport[] = [];
  let opened = 0;
  const written: string[] = [];
  const load = tierLoader(plan.steps, { open: async () => (opened++, records(bytes)), budgetBytes, onPass: (report) => passes.push(report) });
  for (const [index, step] of plan.steps.entries()) {
    await load(index);
    for (const item of step.items) {
      const object = item.built ?? (JSON.parse(item.bytes!.toString('utf8')) as { metadata: { name: string } });
      written.push(`${step.groupResource}/${object.metadata!.name}`);
    }
    releaseStep(step);
  }
  return { passes, opened, written };
}

describe('Function: tierLoader', () => {
  it('holds the JSON of one tier at a time when the budget is smaller than every tier', async () => {
    // Prepare
    const bytes = await tarball(backupObjects());
    const plan = await buildRestorePlan(records(bytes), context());
    const tierBytes = new Map(plan.steps.map((s) => [s.groupResource, s.bytes]));
    // Act
    const { passes, opened, written } = await walk(plan, bytes, 1);
    // Assert: one pass per tier read from the tarball, each holding that tier only.
    expect(passes.map((p) => p.groupResources)).toEqual([['serviceaccounts'], ['secrets'], ['configmaps'], ['services'], ['deployments.apps']]);
    expect(opened).toBe(5);
    for (const pass of passes) expect(pass.heldBytes).toBe(tierBytes.get(pass.groupResources[0]!));
    expect(Math.max(...passes.map((p) => p.heldBytes))).toBeLessThan(plan.steps.reduce((sum, s) => sum + s.bytes, 0) / 2);
    expect(written).toHaveLength(plan.totalItems);
    expect(heldBytesOf(plan.steps)).toBe(0);
  });

  it('groups consecutive small tiers into one pass, never holding more than the budget', async () => {
    // Prepare
    const bytes = await tarball(backupObjects());
    const plan = await buildRestorePlan(records(bytes), context());
    const largest = Math.max(...plan.steps.map((s) => s.bytes));
    const budget = largest + 2_000;
    // Act
    const { passes, written } = await walk(plan, bytes, budget);
    // Assert
    expect(passes.length).toBeGreaterThan(1);
    expect(passes.length).toBeLessThan(5);
    for (const pass of passes) expect(pass.heldBytes).toBeLessThanOrEqual(budget);
    expect(written).toHaveLength(plan.totalItems);
  });

  it('reads everything in one more pass when the whole restore fits the budget', async () => {
    // Prepare
    const bytes = await tarball(backupObjects());
    const plan = await buildRestorePlan(records(bytes), context());
    // Act
    const { passes, opened, written } = await walk(plan, bytes, 64 * 1024 * 1024);
    // Assert
    expect(opened).toBe(1);
    expect(passes[0]!.heldBytes).toBe(plan.steps.reduce((sum, s) => sum + s.bytes, 0));
    expect(written.slice(0, 2)).toEqual(['namespaces/shop', 'serviceaccounts/serviceaccount-0']);
    expect(written).toHaveLength(plan.totalItems);
  });

  it('the first pass holds no object JSON but the namespaces', async () => {
    const bytes = await tarball(backupObjects());
    const plan = await buildRestorePlan(records(bytes), context());
    expect(heldBytesOf(plan.steps)).toBe(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }).length);
  });

  it('leaves an object the tarball no longer has without JSON, and the rest loaded', async () => {
    // Prepare
    const objects = backupObjects();
    const plan = await buildRestorePlan(records(await tarball(objects)), context());
    delete objects['resources/secrets/namespaces/shop/secret-3.json'];
    const changed = await tarball(objects);
    const secrets = plan.steps.findIndex((s) => s.groupResource === 'secrets');
    // Act
    await tierLoader(plan.steps, { open: async () => records(changed), budgetBytes: 1 })(secrets);
    // Assert
    expect(plan.steps[secrets]!.items.filter((i) => !i.bytes).map((i) => i.name)).toEqual(['secret-3']);
  });
});

describe('Function: stepsOfPass', () => {
  const steps = [
    { bytes: 0, fromTarball: false },
    { bytes: 40, fromTarball: true },
    { bytes: 50, fromTarball: true },
    { bytes: 0, fromTarball: false },
    { bytes: 10, fromTarball: true },
    { bytes: 200, fromTarball: true },
  ];
  it.each([
    { from: 0, budget: 100, expected: [1, 2, 4] },
    { from: 1, budget: 89, expected: [1] },
    { from: 2, budget: 60, expected: [2, 4] },
    { from: 5, budget: 100, expected: [5] },
    { from: 4, budget: 1000, expected: [4, 5] },
    { from: 3, budget: 0, expected: [4] },
  ])('from step $from with a budget of $budget bytes: $expected', ({ from, budget, expected }) => {
    expect(stepsOfPass(steps, from, budget)).toEqual(expected);
  });
});
