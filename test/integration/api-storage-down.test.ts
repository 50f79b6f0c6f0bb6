import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bedState, freshBucket, freshNamespace, waitFor } from '../bed/context';
import { offlineLambdaClient, startOffline, type OfflineStack } from '../bed/offline';
import { skiffConfigForBed } from '../bed/skiff-config';

/**
 * One storage location that cannot be reached, next to one that works: through the
 * real function stack, failures on the server are generic answers with a request id
 * (no stack, no secret, no remote system's words), and the broken location does not
 * take listing, lookups or the scheduler down with it.
 */

const apiToken = randomBytes(24).toString('hex');
let offline: OfflineStack;
let lambda: LambdaClient;
let namespace: string;
let secrets: string[];

function assertClean(text: string): void {
  expect(text).not.toMatch(/\n\s+at /);
  expect(text).not.toMatch(/    at /);
  for (const secret of secrets) expect(text.includes(secret), 'no secret in an answer').toBe(false);
}

async function call(method: 'GET' | 'POST', path: string, body?: object): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(`${offline.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  assertClean(text);
  return { status: res.status, text, json: JSON.parse(text) };
}

async function invoke(short: string, payload: unknown): Promise<any> {
  const answer = await lambda.send(
    new InvokeCommand({ FunctionName: offline.functionName(short), InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const text = Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8');
  assertClean(text);
  expect(answer.FunctionError, text).toBeUndefined();
  return JSON.parse(text);
}

beforeAll(async () => {
  const state = bedState();
  const bucket = await freshBucket('api-down');
  const base = skiffConfigForBed(state, { bucket, apiToken });
  const alpha = base.clusters.find((c) => c.name === 'alpha')!;
  const config = {
    ...base,
    clusters: [...base.clusters, { ...alpha, name: 'stranded', storageLocations: ['broken'] }],
    storageLocations: [...base.storageLocations, { ...base.storageLocations[0]!, name: 'broken', bucket: 'nowhere', endpoint: 'http://127.0.0.1:1' }],
  };
  secrets = [apiToken, state.minio.secretKey, ...Object.values(state.clusters).flatMap((c) => [c.adminToken, c.limitedToken])];
  namespace = await freshNamespace('alpha', 'down');
  offline = await startOffline({ config, logDir: join(state.workDir, 'logs') });
  lambda = offlineLambdaClient(offline);
});

afterAll(async () => {
  lambda?.destroy();
  await offline?.stop();
});

describe('API: a storage location that cannot be reached', () => {
  it('answers a backup request for it with a generic 502 and a request id', async () => {
    const answer = await call('POST', '/backups', { cluster: 'stranded' });
    expect(answer.status, answer.text).toBe(502);
    expect(answer.json).toEqual({
      error: 'InternalError',
      message: expect.stringContaining(answer.json.requestId),
      requestId: expect.any(String),
    });
    expect(answer.text).not.toContain('ECONNREFUSED');
  });

  it('answers the same request by direct invocation with the same generic error', async () => {
    const answer = await invoke('backups', { cluster: 'stranded' });
    expect(answer).toEqual({ error: 'InternalError', message: expect.stringContaining('request id'), requestId: expect.any(String) });
  });

  it('still runs, lists and shows the backups of the location that works', async () => {
    const name = `ok-${namespace}`;
    const created = await call('POST', '/backups', { cluster: 'alpha', name, includedNamespaces: [namespace] });
    expect(created.status, created.text).toBe(202);
    await waitFor(async () => (await call('GET', `/backups/${name}`)).json.status?.phase === 'Completed', {
      what: `backup ${name} to complete`,
      timeoutMs: 120_000,
      intervalMs: 500,
    });

    const listed = await call('GET', '/backups');
    expect(listed.status, listed.text).toBe(200);
    expect((listed.json.items as { metadata: { name: string } }[]).map((b) => b.metadata.name)).toContain(name);
    expect(listed.json.unreadable).toEqual([{ storageLocation: 'broken' }]);
  });

  it('does not claim a backup is missing when a location it could be in cannot be read', async () => {
    const answer = await call('GET', '/backups/not-anywhere');
    expect(answer.status, answer.text).toBe(502);
    expect(answer.json.error).toBe('InternalError');
  });

  it('keeps /healthz and the scheduler working', async () => {
    const health = await call('GET', '/healthz');
    expect(health.status).toBe(200);
    const report = await invoke('scheduler', {});
    expect(report.created).toEqual([]);
    expect(report.reconcileFailed).toEqual([{ storageLocation: 'broken', error: expect.stringContaining('cannot reach') }]);
  });
});
