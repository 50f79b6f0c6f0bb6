import { createServer, request as httpRequest, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent as HttpsAgent } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient, type KubeTransport } from '../../../lib/kube/client';
import { KubeApiError } from '../../../lib/kube/errors';
import { listAll, listPages } from '../../../lib/kube/list-all';
import { RateLimiter } from '../../../lib/kube/rate-limiter';

/**
 * An API server stand-in that speaks the list protocol: items in key order, `limit`,
 * `continue`, and 410 Gone for tokens it declares expired. Real API servers expire
 * tokens after minutes, which no test can wait for.
 */
function listServer(names: string[], options: { expireTokensOnce?: boolean; offerInconsistentContinue?: boolean } = {}) {
  const sorted = [...names].sort();
  const seenRequests: string[] = [];
  let expired = false;
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    seenRequests.push(url.search);
    const limit = Number(url.searchParams.get('limit') ?? 500);
    const token = url.searchParams.get('continue');
    const start = token ? Number(token) : 0;
    if (token && options.expireTokensOnce && !expired) {
      expired = true;
      res.writeHead(410, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          reason: 'Expired',
          code: 410,
          message: 'The provided continue parameter is too old',
          metadata: options.offerInconsistentContinue ? { continue: String(start) } : {},
        }),
      );
      return;
    }
    const page = sorted.slice(start, start + limit);
    const next = start + limit < sorted.length ? String(start + limit) : undefined;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMapList',
        metadata: { ...(next ? { continue: next, remainingItemCount: sorted.length - start - limit } : {}) },
        items: page.map((name) => ({ metadata: { name, namespace: 'ns' } })),
      }),
    );
  });
  return { server, seenRequests };
}

let server: Server | undefined;
afterEach(() => server?.close());

async function clientFor(s: Server): Promise<KubeClient> {
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  const transport: KubeTransport = {
    server: `http://127.0.0.1:${port}`,
    agent: new Agent({ keepAlive: true }) as unknown as HttpsAgent,
    headers: {},
    send: httpRequest as unknown as KubeTransport['send'],
  };
  return new KubeClient('test', transport, new RateLimiter(1000, 1000));
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `cm-${String(i).padStart(5, '0')}`);

describe('listPages', () => {
  it('follows continue to the very end, one request per page, and completes items with apiVersion and kind', async () => {
    const { server: s, seenRequests } = listServer(names(1234));
    const client = await clientFor(s);

    const items = await listAll(client, '/api/v1/configmaps', { limit: 500 });

    expect(items.map((i) => i.metadata.name)).toEqual(names(1234));
    expect(items[0]).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
    expect(seenRequests).toHaveLength(3);
    expect(client.requestCount).toBe(3);
  });

  it.each([
    ['restarting from the beginning and skipping what it already yielded', false],
    ['going on from the inconsistent continue token the server offers', true],
  ])('survives an expired continue token by %s', async (_how, offer) => {
    const { server: s } = listServer(names(1200), { expireTokensOnce: true, offerInconsistentContinue: offer });
    const client = await clientFor(s);

    const yielded: string[] = [];
    for await (const page of listPages(client, '/api/v1/configmaps', { limit: 500 })) {
      yielded.push(...page.map((i) => i.metadata.name));
    }

    expect(yielded).toEqual(names(1200));
  });

  it('reports the collection size estimate from the first page', async () => {
    const { server: s } = listServer(names(1234));
    const client = await clientFor(s);
    const estimates: number[] = [];

    await listAll(client, '/api/v1/configmaps', { limit: 500, onSizeEstimate: (n) => estimates.push(n) });

    expect(estimates).toEqual([1234]);
  });

  it('throws a KubeApiError with code and reason when the first page is refused', async () => {
    const s = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', reason: 'Forbidden', code: 403, message: 'configmaps is forbidden' }));
    });
    const client = await clientFor(s);

    const error = await listAll(client, '/api/v1/configmaps').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ code: 403, reason: 'Forbidden' });
    expect((error as Error).message).toContain('configmaps is forbidden');
  });
});

describe('RateLimiter', () => {
  it('lets a burst through at once, then paces requests at qps', async () => {
    let now = 0;
    const limiter = new RateLimiter(10, 5, () => now);
    const started = Date.now();

    for (let i = 0; i < 5; i++) await limiter.take();

    expect(Date.now() - started).toBeLessThan(50);
    const sixth = limiter.take();
    now += 100; // one token refilled at 10 qps
    await sixth;
  });
});
