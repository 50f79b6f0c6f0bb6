import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bedState, freshBucket } from '../bed/context';
import { offlineLambdaClient, startOffline, type OfflineStack } from '../bed/offline';
import { skiffConfigForBed } from '../bed/skiff-config';

/**
 * The readiness function through the real stack: `serverless offline` serves the
 * bundled function over HTTP and the local Lambda API, against a bed cluster.
 */

const apiToken = randomBytes(24).toString('hex');
let offline: OfflineStack;
let lambda: LambdaClient;
let secrets: string[];
let config: ReturnType<typeof skiffConfigForBed>;
const run = promisify(execFile);

beforeAll(async () => {
  const state = bedState();
  const bucket = await freshBucket('readiness-fn');
  secrets = [apiToken, state.minio.secretKey, ...Object.values(state.clusters).flatMap((c) => [c.adminToken, c.limitedToken])];
  config = skiffConfigForBed(state, { bucket, apiToken });
  offline = await startOffline({ config, logDir: join(state.workDir, 'logs') });
  lambda = offlineLambdaClient(offline);
});

afterAll(async () => {
  lambda?.destroy();
  await offline?.stop();
});

function clean(text: string): string {
  expect(text).not.toMatch(/\n\s+at /);
  for (const secret of secrets) expect(text.includes(secret), 'no secret in an answer').toBe(false);
  return text;
}

async function get(path: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${offline.httpUrl}${path}`, { headers: { authorization: `Bearer ${apiToken}` } });
  return { status: res.status, json: JSON.parse(clean(await res.text())) };
}

describe('Function: readiness (serverless offline)', () => {
  it('answers GET /clusters/{name}/readiness with the report', async () => {
    const answer = await get('/clusters/alpha/readiness');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ cluster: 'alpha', ready: expect.any(Boolean), counts: expect.any(Object) });
    // The admin token may do everything the manifest grants.
    expect(answer.json.findings).toContainEqual(expect.objectContaining({ check: 'access', severity: 'info', message: expect.stringMatching(/can do everything/) }));
  });

  it.each([
    { path: '/clusters/nope/readiness', status: 404, error: 'NotFoundError' },
    { path: '/clusters/alpha/readiness?namespaces=Not_A_Name', status: 400, error: 'ValidationError' },
  ])('answers $path with $status', async ({ path, status, error }) => {
    const answer = await get(path);
    expect(answer.status).toBe(status);
    expect(answer.json.error).toBe(error);
  });

  it('answers a direct invocation with the report, narrowed to the namespaces asked', async () => {
    const answer = await lambda.send(
      new InvokeCommand({
        FunctionName: offline.functionName('readiness'),
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify({ cluster: 'beta', namespaces: ['default'] })),
      }),
    );
    const text = clean(Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8'));
    expect(answer.FunctionError, text).toBeUndefined();
    expect(JSON.parse(text)).toMatchObject({ cluster: 'beta', findings: expect.any(Array) });
  });
});

describe('skiff cluster readiness (CLI)', () => {
  let cli: string;
  beforeAll(async () => {
    const outdir = join(mkdtempSync(join(tmpdir(), 'skiff-readiness-cli-')), 'cli');
    await run(process.execPath, ['scripts/build-cli.mjs', '--outdir', outdir], { cwd: process.cwd() });
    cli = join(outdir, 'skiff.mjs');
  }, 120_000);

  const skiff = (...args: string[]) =>
    run(process.execPath, [cli, 'cluster', 'readiness', ...args], { env: { ...process.env, SKIFF_CONFIG: JSON.stringify(config) } }).catch(
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('prints the report as JSON and as a table, and exits 1 only when a finding blocks', async () => {
    const json = await skiff('beta', '--include-namespaces', 'default', '-o', 'json');
    const report = JSON.parse(clean(json.stdout));
    expect(report).toMatchObject({ cluster: 'beta', findings: expect.any(Array) });
    expect('code' in json ? json.code : 0).toBe(report.ready ? 0 : 1);

    const table = await skiff('beta', '--include-namespaces', 'default');
    expect(clean(table.stdout)).toMatch(/^Cluster beta, checked .*\n\nSEVERITY   CHECK +FINDING\n/);
    expect(table.stdout).toMatch(/\n(READY|NOT READY): \d+ blocking/);
  });

  it('names an unknown cluster without a stack trace', async () => {
    const answer = await skiff('nope');
    expect(answer).toMatchObject({ code: 2, stderr: expect.stringMatching(/^error: cluster "nope" not found/m) });
  });
});
