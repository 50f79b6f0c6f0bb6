import { afterEach, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../../lib/kube/client';
import { KubeAmbiguousWriteError, KubeApiError, KubeUnreachableError } from '../../../lib/kube/errors';
import { MAX_ATTEMPTS } from '../../../lib/kube/retry';
import { answer, closedPortUrl, kubeClientFor, startKubeServer, status, type KubeServer, type KubeServerHandler } from '../../support/kube-server';

/** What the stand-in server does with one request: answer with a code, or break the connection. */
type Step = { code: number; headers?: Record<string, string> } | 'hang-up';

const COLLECTION = '/api/v1/namespaces/app/configmaps';
const OBJECT = `${COLLECTION}/settings`;
const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'app' } };

/** Answers the requests in order with `steps`, the last one for every request after. */
function scripted(steps: Step[]): KubeServerHandler {
  let next = 0;
  return (_received, res, req) => {
    const step = steps[Math.min(next++, steps.length - 1)]!;
    if (step === 'hang-up') {
      // The server read the whole request (it is recorded) and goes away without answering.
      req.socket.destroy();
      return;
    }
    if (step.code < 300) answer(res, step.code, configMap, step.headers);
    else answer(res, step.code, status(step.code, step.code === 429 ? 'TooManyRequests' : 'InternalError', `failure ${step.code}`), step.headers);
  };
}

/** One call per kind of request, so tables can name them. */
const calls = {
  GET: (client: KubeClient) => client.get(OBJECT),
  PUT: (client: KubeClient) => client.replace(OBJECT, configMap),
  DELETE: (client: KubeClient) => client.delete(OBJECT),
  'merge PATCH': (client: KubeClient) => client.patch(OBJECT, { metadata: { labels: { a: 'b' } } }, 'merge'),
  'strategic PATCH': (client: KubeClient) => client.patch(OBJECT, { metadata: { labels: { a: 'b' } } }, 'strategic'),
  'JSON PATCH': (client: KubeClient) => client.patch(OBJECT, [{ op: 'add', path: '/metadata/finalizers/-', value: 'x' }], 'json'),
  POST: (client: KubeClient) => client.create(COLLECTION, { ...configMap, metadata: { generateName: 'settings-', namespace: 'app' } }),
};
type Call = keyof typeof calls;

let server: KubeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(steps: Step[]) {
  server = await startKubeServer(scripted(steps));
  return { ...kubeClientFor(server.url), received: server.received };
}

describe('Class: KubeClient', () => {
  it.each<[Call, Step, number]>([
    ['GET', { code: 503 }, 200],
    ['GET', { code: 500 }, 200],
    ['PUT', { code: 502 }, 200],
    ['DELETE', { code: 504 }, 200],
    ['merge PATCH', { code: 503 }, 200],
    ['strategic PATCH', { code: 503 }, 200],
    ['POST', { code: 429 }, 201],
    ['JSON PATCH', { code: 429 }, 200],
    ['GET', 'hang-up', 200],
    ['DELETE', 'hang-up', 200],
  ])('sends a %s again after %o, and answers what the second attempt got', async (call, first, second) => {
    const { client, received } = await serve([first, { code: second }]);

    const result = await calls[call](client);

    expect(result).toMatchObject({ metadata: { name: 'settings' } });
    expect(received).toHaveLength(2);
    expect(client.requestCount).toBe(2);
  });

  it.each<[Call, Step]>([
    ['POST', { code: 503 }],
    ['POST', { code: 500 }],
    ['POST', { code: 502 }],
    ['POST', { code: 504 }],
    ['POST', 'hang-up'],
    ['JSON PATCH', { code: 503 }],
    ['JSON PATCH', 'hang-up'],
  ])('sends a %s once when the server received it and then %o, and says it may have been applied', async (call, step) => {
    const { client, received } = await serve([step, { code: 201 }]);

    const error = await calls[call](client).catch((e: unknown) => e);

    expect(received).toHaveLength(1);
    expect(error).toBeInstanceOf(KubeAmbiguousWriteError);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ code: step === 'hang-up' ? 0 : step.code });
    expect((error as Error).message).toContain('may have applied it');
  });

  it.each<Call>(['POST', 'GET'])('tries a %s to a closed port MAX_ATTEMPTS times, then reports it unreachable', async (call) => {
    const { client, sleeps } = kubeClientFor(await closedPortUrl());

    const error = await calls[call](client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubeUnreachableError);
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect(client.requestCount).toBe(MAX_ATTEMPTS);
    expect(sleeps).toEqual([400, 800, 1600, 3200]);
  });

  it('gives up on a POST throttled every time with a plain KubeApiError: it was never applied', async () => {
    const { client, received } = await serve([{ code: 429 }]);

    const error = await calls.POST(client).catch((e: unknown) => e);

    expect(received).toHaveLength(MAX_ATTEMPTS);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).not.toBeInstanceOf(KubeAmbiguousWriteError);
    expect(error).toMatchObject({ code: 429, reason: 'TooManyRequests' });
  });

  it('waits as long as Retry-After says before sending again', async () => {
    const { client, sleeps } = await serve([{ code: 429, headers: { 'retry-after': '2' } }, { code: 201 }]);

    await calls.POST(client);

    expect(sleeps).toEqual([2000]);
  });

  it.each<[Call, number]>([
    ['GET', 404],
    ['POST', 403],
    ['PUT', 409],
    ['GET', 501],
  ])('sends a %s answered %i only once', async (call, code) => {
    const { client, received } = await serve([{ code }, { code: 200 }]);

    const error = await calls[call](client).catch((e: unknown) => e);

    expect(received).toHaveLength(1);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).not.toBeInstanceOf(KubeAmbiguousWriteError);
    expect(error).toMatchObject({ code });
  });
});
