import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore } from '../../bed/simulator/config';
import { createHttpServer, listen } from '../../bed/simulator/http';
import { Ledger } from '../../bed/simulator/ledger';
import { ONTAP_DRIVER } from '../../bed/simulator/personalities';

describe('simulator HTTP surface', () => {
  const ledger = new Ledger();
  const config = new ConfigStore();
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createHttpServer(ledger, config);
    base = `http://127.0.0.1:${await listen(server, 0)}`;
    ledger.createVolume({ handle: 'pvc-1', driver: ONTAP_DRIVER, cluster: 'alpha', pvName: 'pvc-1', sizeBytes: 10 });
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves the ledger', async () => {
    const res = await fetch(`${base}/ledger`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { volumes: unknown[]; snapshots: unknown[]; events: unknown[] };
    expect(body.volumes).toHaveLength(1);
    expect(body.snapshots).toEqual([]);
    expect(body.events).toHaveLength(1);
  });

  it('changes the config and answers the result', async () => {
    const res = await fetch(`${base}/config`, { method: 'POST', body: JSON.stringify({ deleteDelayMs: 250, failSnapshotsFor: '^x' }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ deleteDelayMs: 250, failSnapshotsFor: '^x' });
    expect(config.current.deleteDelayMs).toBe(250);
    expect(await (await fetch(`${base}/config`)).json()).toMatchObject({ deleteDelayMs: 250 });
  });

  it('refuses bad config with the issues, and changes nothing', async () => {
    const res = await fetch(`${base}/config`, { method: 'POST', body: JSON.stringify({ snapshotDelayMs: 'slow' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { issues: string[] }).issues[0]).toMatch(/snapshotDelayMs/);
    const notJson = await fetch(`${base}/config`, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect(config.current.snapshotDelayMs).toBe(0);
  });

  it.each([
    { body: { failDeletesFor: '^app/data$' }, shown: '^app/data$' },
    { body: { failDeletesFor: '' }, shown: null },
    { body: { failDeletesFor: '^app/' }, shown: '^app/' },
    { body: { failDeletesFor: null }, shown: null },
  ])('sets failDeletesFor with $body and shows it on GET', async ({ body, shown }) => {
    const res = await fetch(`${base}/config`, { method: 'POST', body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ failDeletesFor: shown });
    expect(await (await fetch(`${base}/config`)).json()).toMatchObject({ failDeletesFor: shown });
  });

  it('refuses a broken failDeletesFor, and keeps the pattern it had', async () => {
    await fetch(`${base}/config`, { method: 'POST', body: JSON.stringify({ failDeletesFor: '^keep' }) });
    const res = await fetch(`${base}/config`, { method: 'POST', body: JSON.stringify({ failDeletesFor: '(' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { issues: string[] }).issues).toEqual(['failDeletesFor: not a valid regular expression']);
    expect(config.current.failDeletesFor).toBe('^keep');
  });

  it('answers 405 and 404 for anything else', async () => {
    expect((await fetch(`${base}/ledger`, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok');
  });
});
