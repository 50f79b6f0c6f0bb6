import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore } from '../../bed/simulator/config';
import { createHttpServer, listen } from '../../bed/simulator/http';
import { Ledger } from '../../bed/simulator/ledger';
import { SimulatorFaults } from '../../chaos/simulator-faults';

/** Two lanes asking the simulator (its real HTTP surface) for faults at once. */
describe('Class: SimulatorFaults', () => {
  const config = new ConfigStore();
  let server: Server;
  let faults: SimulatorFaults;

  beforeAll(async () => {
    server = createHttpServer(new Ledger(), config);
    faults = new SimulatorFaults(`http://127.0.0.1:${await listen(server, 0)}/config`);
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const claim = (namespace: string) => ({ namespace, name: 'data-0' });

  it('fails snapshots for every namespace that asked, until each gives its fault back', async () => {
    const releaseA = await faults.failSnapshotsIn('chaos-a');
    const releaseB = await faults.failSnapshotsIn('chaos-b');
    expect([config.snapshotFails(claim('chaos-a')), config.snapshotFails(claim('chaos-b')), config.snapshotFails(claim('chaos-c'))]).toEqual([true, true, false]);
    await releaseA();
    expect([config.snapshotFails(claim('chaos-a')), config.snapshotFails(claim('chaos-b'))]).toEqual([false, true]);
    await releaseB();
    expect(config.current.failSnapshotsFor).toBeNull();
  });

  it('does not fail the restored namespaces of a lane (their names start with the source name)', async () => {
    const release = await faults.failDeletesIn('chaos-a');
    expect([config.deleteFails(claim('chaos-a')), config.deleteFails(claim('chaos-a-r0'))]).toEqual([true, false]);
    await release();
    expect(config.current.failDeletesFor).toBeNull();
  });

  it('keeps the slowest delay asked for, and the defaults once all are given back', async () => {
    const slow = await faults.slowDown({ snapshotDelayMs: 3_000, deleteDelayMs: 1_000 });
    const slower = await faults.slowDown({ snapshotDelayMs: 2_000, deleteDelayMs: 4_000 });
    expect(config.current).toMatchObject({ snapshotDelayMs: 3_000, deleteDelayMs: 4_000 });
    await slow();
    expect(config.current).toMatchObject({ snapshotDelayMs: 2_000, deleteDelayMs: 4_000 });
    await slower();
    expect(config.current).toMatchObject({ snapshotDelayMs: 0, deleteDelayMs: 0 });
  });
});
