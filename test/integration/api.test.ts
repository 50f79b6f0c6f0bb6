import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../lib/http/auth';
import { bedState, freshBucket, freshNamespace, kubeConfigFor, waitFor } from '../bed/context';
import { offlineLambdaClient, startOffline, type OfflineStack } from '../bed/offline';
import { skiffConfigForBed } from '../bed/skiff-config';

/**
 * The API through the real function stack: `serverless offline` serves the bundled
 * functions, POST /backups invokes the runner asynchronously through the local Lambda
 * API, and the runner backs up a real cluster into MinIO.
 */

const apiToken = randomBytes(24).toString('hex');
const hmacSecret = randomBytes(24).toString('hex');
/** A token the unreachable cluster is configured with; it must never show in an answer. */
const unreachableToken = `unreachable-${randomBytes(16).toString('hex')}`;

let offline: OfflineStack;
let lambda: LambdaClient;
let namespace: string;
/** Every value of the configuration that is a secret; no answer may contain one. */
let secrets: string[];

interface BackupView {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { includedNamespaces?: string[]; storageLocation?: string };
  status: {
    phase?: string;
    failureReason?: string;
    progress?: { totalItems?: number; itemsBackedUp?: number };
    csiVolumeSnapshotsAttempted?: number;
  };
}

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
  json: any;
}

/** Every answer of the API passes through here, so every one is checked for leaks. */
function assertClean(text: string): void {
  expect(text, 'no stack trace in an answer').not.toMatch(/\n\s+at /);
  expect(text).not.toMatch(/    at /);
  for (const secret of secrets) expect(text.includes(secret), 'no secret in an answer').toBe(false);
}

async function call(
  method: 'GET' | 'POST',
  path: string,
  options: { body?: string | object; headers?: Record<string, string>; auth?: boolean } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth !== false) headers.authorization = `Bearer ${apiToken}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${offline.httpUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  assertClean(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type'), text, json };
}

async function invokeBackups(payload: unknown): Promise<any> {
  const answer = await lambda.send(
    new InvokeCommand({
      FunctionName: offline.functionName('backups'),
      InvocationType: 'RequestResponse',
      Payload: Buffer.from(JSON.stringify(payload)),
    }),
  );
  const text = Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8');
  assertClean(text);
  expect(answer.FunctionError, `invocation failed: ${text}`).toBeUndefined();
  return JSON.parse(text);
}

const FINAL_PHASES = ['Completed', 'PartiallyFailed', 'Failed'];

/** Polls GET /backups/{name} until the backup is finished; returns it and every phase seen on the way. */
async function untilFinished(name: string, timeoutMs = 120_000): Promise<{ backup: BackupView; seen: BackupView[] }> {
  const seen: BackupView[] = [];
  const backup = await waitFor(
    async () => {
      const answer = await call('GET', `/backups/${name}`);
      if (answer.status !== 200) throw new Error(`GET /backups/${name} answered ${answer.status}: ${answer.text}`);
      const view = answer.json as BackupView;
      seen.push(view);
      return FINAL_PHASES.includes(view.status.phase ?? '') ? view : undefined;
    },
    { what: `backup ${name} to finish`, timeoutMs, intervalMs: 500 },
  );
  return { backup, seen };
}

beforeAll(async () => {
  const state = bedState();
  const [bucket, otherBucket] = await Promise.all([freshBucket('api'), freshBucket('api-other')]);
  const base = skiffConfigForBed(state, { bucket, apiToken });
  const defaultLocation = base.storageLocations[0]!;
  const config = {
    ...base,
    api: { bearerTokens: [apiToken], hmacSecret },
    clusters: [
      ...base.clusters,
      {
        name: 'unreachable',
        server: 'https://127.0.0.1:1',
        auth: { token: unreachableToken },
        storageLocations: ['default'],
      },
    ],
    // A location no cluster but beta backs up to.
    storageLocations: [...base.storageLocations, { ...defaultLocation, name: 'other', bucket: otherBucket }],
  };
  config.clusters = config.clusters.map((c) => (c.name === 'beta' ? { ...c, storageLocations: ['default', 'other'] } : c));
  secrets = [
    apiToken,
    hmacSecret,
    unreachableToken,
    state.minio.secretKey,
    ...Object.values(state.clusters).flatMap((c) => [c.adminToken, c.limitedToken]),
  ];

  namespace = await freshNamespace('alpha', 'api');
  const core = kubeConfigFor('alpha').makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { a: '1' } } });
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'db' }, stringData: { password: 'hunter2' } } });

  offline = await startOffline({ config, logDir: join(state.workDir, 'logs') });
  lambda = offlineLambdaClient(offline);
});

afterAll(async () => {
  lambda?.destroy();
  await offline?.stop();
});

describe('API: POST /backups over HTTP', () => {
  it('answers 202, runs the backup asynchronously, and shows, lists and serves the log of it', async () => {
    const name = `http-${namespace}`;
    const created = await call('POST', '/backups', {
      body: { cluster: 'alpha', name, includedNamespaces: [namespace], ttl: '24h' },
    });
    expect(created.status, created.text).toBe(202);
    expect(created.json).toEqual({ name, phase: 'New', cluster: 'alpha', storageLocation: 'default' });

    const { backup, seen } = await untilFinished(name);
    expect(backup.status.phase, JSON.stringify(backup.status)).toBe('Completed');
    expect(backup.metadata.labels).toMatchObject({ 'skiff.io/cluster': 'alpha', 'velero.io/storage-location': 'default' });
    expect(backup.spec.includedNamespaces).toEqual([namespace]);
    // Progress: the final status counts what was backed up, and every answer on the way had a phase.
    expect(backup.status.progress?.itemsBackedUp).toBeGreaterThan(0);
    expect(backup.status.progress?.totalItems).toBe(backup.status.progress?.itemsBackedUp);
    // Every answer on the way showed a phase, and phases only moved forward.
    const order = ['New', 'InProgress', 'Finalizing', 'Completed'];
    const steps = seen.map((b) => order.indexOf(b.status.phase ?? ''));
    expect(steps.every((i) => i >= 0), JSON.stringify(seen.map((b) => b.status.phase))).toBe(true);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));

    const all = await call('GET', '/backups');
    expect(all.status).toBe(200);
    expect(all.json.unreadable).toEqual([]);
    expect((all.json.items as BackupView[]).map((b) => b.metadata.name)).toContain(name);

    const alpha = await call('GET', '/backups?cluster=alpha');
    expect(alpha.status).toBe(200);
    expect((alpha.json.items as BackupView[]).map((b) => b.metadata.name)).toContain(name);
    expect((alpha.json.items as BackupView[]).every((b) => b.metadata.labels?.['skiff.io/cluster'] === 'alpha')).toBe(true);

    const beta = await call('GET', '/backups?cluster=beta');
    expect(beta.status).toBe(200);
    expect((beta.json.items as BackupView[]).map((b) => b.metadata.name)).not.toContain(name);

    const completed = await call('GET', '/backups?phase=Completed');
    expect((completed.json.items as BackupView[]).map((b) => b.metadata.name)).toContain(name);
    expect((completed.json.items as BackupView[]).every((b) => b.status.phase === 'Completed')).toBe(true);
    const failed = await call('GET', '/backups?phase=Failed&cluster=alpha');
    expect((failed.json.items as BackupView[]).map((b) => b.metadata.name)).not.toContain(name);

    const bySchedule = await call('GET', '/backups?schedule=x');
    expect(bySchedule.status).toBe(200);
    expect(bySchedule.json.items).toEqual([]);

    const logs = await call('GET', `/backups/${name}/logs`);
    expect(logs.status, logs.text).toBe(200);
    expect(logs.contentType).toBe('text/plain; charset=utf-8');
    expect(logs.text).toMatch(/level=info msg="backup started"/);
    expect(logs.text).toMatch(/level=info msg="backup completed"/);
    expect(logs.text).not.toContain('hunter2');
  });

  it.each([
    ['an unknown query parameter', '/backups?clster=alpha', 'clster'],
    ['an unknown phase', '/backups?phase=Done', 'phase'],
  ])('answers 400 to %s', async (_what, path, field) => {
    const answer = await call('GET', path);
    expect(answer.status, answer.text).toBe(400);
    expect(answer.json.error).toBe('ValidationError');
    expect(JSON.stringify(answer.json.issues)).toContain(field);
  });

  it.each(['/backups/no-such-backup', '/backups/no-such-backup/logs'])('answers 404 to GET %s', async (path) => {
    const answer = await call('GET', path);
    expect(answer.status, answer.text).toBe(404);
    expect(answer.json.error).toBe('NotFoundError');
    expect(answer.json.message).toContain('no-such-backup');
  });

  it.each(['/backups/..%2F..%2Fmetadata', '/backups/..%2F..%2Fmetadata/logs'])('answers 400 to GET %s, a name no backup can have', async (path) => {
    const answer = await call('GET', path);
    expect(answer.status, answer.text).toBe(400);
    expect(answer.json.issues[0].path).toBe('name');
  });
});

describe('API: direct invocation of the backups function', () => {
  it('creates a backup from the same body as POST /backups, and the runner completes it', async () => {
    const name = `invoke-${namespace}`;
    const created = await invokeBackups({ cluster: 'alpha', name, includedNamespaces: [namespace] });
    expect(created).toEqual({ name, phase: 'New', cluster: 'alpha', storageLocation: 'default' });
    const { backup } = await untilFinished(name);
    expect(backup.status.phase, JSON.stringify(backup.status)).toBe('Completed');
  });

  it('reports the same validation issues as HTTP for a bad body', async () => {
    const body = { cluster: 'alpha', name: 'same-issues', includedNamespace: ['x'], ttl: 'soon', snapshotVolumes: 'yes' };
    const byHttp = await call('POST', '/backups', { body });
    expect(byHttp.status, byHttp.text).toBe(400);
    const byInvocation = await invokeBackups(body);
    expect(byInvocation.error).toBe('ValidationError');
    expect(byInvocation.issues).toEqual(byHttp.json.issues);
    expect((byHttp.json.issues as { path: string }[]).map((i) => i.path).sort()).toEqual(
      ['includedNamespace', 'snapshotVolumes', 'ttl'].sort(),
    );
  });

  it('answers an unknown cluster by invocation with a NotFoundError, not a crash', async () => {
    const answer = await invokeBackups({ cluster: 'gamma' });
    expect(answer.error).toBe('NotFoundError');
    expect(answer.message).toContain('gamma');
  });
});

describe('API: authentication', () => {
  const body = () => JSON.stringify({ cluster: 'alpha', name: `signed-${randomBytes(3).toString('hex')}`, includedNamespaces: [namespace] });

  // The HTTP API's authorizer answers these before the function runs (functions/authorizer.ts),
  // so the answer is API Gateway's own `{"message": "Unauthorized"}`.
  it('refuses a request without credentials with 401 and a message', async () => {
    const answer = await call('POST', '/backups', { body: body(), auth: false });
    expect(answer.status, answer.text).toBe(401);
    expect(answer.json.message).toEqual(expect.any(String));
    expect(answer.json.message.length).toBeGreaterThan(0);
    const list = await call('GET', '/backups', { auth: false });
    expect(list.status, list.text).toBe(401);
    const logs = await call('GET', '/backups/no-such-backup/logs', { auth: false });
    expect(logs.status, logs.text).toBe(401);
  });

  it('denies a wrong bearer token at the authorizer with 403', async () => {
    const answer = await call('GET', '/backups', { auth: false, headers: { authorization: 'Bearer not-the-token' } });
    expect(answer.status, answer.text).toBe(403);
    expect(answer.json.message).toEqual(expect.any(String));
    expect(answer.text).not.toContain('not-the-token');
  });

  it('accepts a body signed with the HMAC secret in the Authorization header', async () => {
    const text = body();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const answer = await call('POST', '/backups', {
      body: text,
      auth: false,
      headers: { authorization: `Skiff-Signature t=${timestamp},sig=${signBody(hmacSecret, timestamp, text)}` },
    });
    expect(answer.status, answer.text).toBe(202);
    const { backup } = await untilFinished(answer.json.name);
    expect(backup.status.phase).toBe('Completed');
  });

  it('refuses a signature in the x-skiff headers alone at the gateway: the Authorization header is required', async () => {
    const text = body();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const answer = await call('POST', '/backups', {
      body: text,
      auth: false,
      headers: { 'x-skiff-timestamp': timestamp, 'x-skiff-signature': signBody(hmacSecret, timestamp, text) },
    });
    expect(answer.status, answer.text).toBe(401);
  });

  it.each([
    ['a stale timestamp', -10 * 60, hmacSecret, /within 5 minutes/],
    ['a wrong secret', 0, 'not-the-secret', /does not match/],
  ])('refuses a signature with %s', async (_what, skewSeconds, secret, message) => {
    const text = body();
    const timestamp = String(Math.floor(Date.now() / 1000) + skewSeconds);
    const answer = await call('POST', '/backups', {
      body: text,
      auth: false,
      headers: { authorization: `Skiff-Signature t=${timestamp},sig=${signBody(secret, timestamp, text)}` },
    });
    expect(answer.status).toBe(401);
    expect(answer.json.message).toMatch(message);
  });

  it('serves /healthz without credentials, saying only ok', async () => {
    const answer = await call('GET', '/healthz', { auth: false });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toEqual({ status: 'ok' });
  });

  it('serves the details at /status, behind a bearer token and without secrets', async () => {
    const answer = await call('GET', '/status');
    expect(answer.status, answer.text).toBe(200);
    expect((answer.json.clusters as { name: string }[]).map((c) => c.name).sort()).toEqual(['alpha', 'beta', 'unreachable']);
    expect((answer.json.storageLocations as { name: string }[]).map((l) => l.name).sort()).toEqual(['default', 'other']);
    // assertClean (in call) already refused every secret; the access key is not a secret but is not shown either.
    expect(answer.text).not.toContain(bedState().minio.accessKey);
    expect(answer.text).not.toContain('BEGIN CERTIFICATE');
  });
});

describe('API: bad input', () => {
  it('answers 400 to a body that is not JSON', async () => {
    const answer = await call('POST', '/backups', { body: '{"cluster": "alpha",' });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.json.issues[0].message).toMatch(/not JSON/);
  });

  it('answers 400 to a body that is JSON but not an object', async () => {
    const answer = await call('POST', '/backups', { body: '["alpha"]' });
    expect(answer.status, answer.text).toBe(400);
  });

  it('answers 400 naming an unknown spec field and what is allowed', async () => {
    const answer = await call('POST', '/backups', { body: { cluster: 'alpha', includedNamespace: [namespace] } });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.json.issues).toHaveLength(1);
    expect(answer.json.issues[0].path).toBe('includedNamespace');
    expect(answer.json.issues[0].message).toContain('did you mean "includedNamespaces"?');
    expect(answer.json.issues[0].message).toContain('allowed fields here are:');
  });

  it('answers 400 to an invalid backup name', async () => {
    const answer = await call('POST', '/backups', { body: { cluster: 'alpha', name: 'Upper_Case' } });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.json.issues[0].path).toBe('name');
    expect(answer.json.issues[0].message).toMatch(/upper-case/);
  });

  it('answers 400 to labels a cluster would refuse, or that Skiff sets itself', async () => {
    const answer = await call('POST', '/backups', {
      body: {
        cluster: 'alpha',
        labels: { 'bad key': 'x', team: 'not a value', 'velero.io/schedule-name': 'nightly' },
        annotations: { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'ok', '/empty-prefix': 'x' },
      },
    });
    expect(answer.status, answer.text).toBe(400);
    expect((answer.json.issues as { path: string }[]).map((i) => i.path).sort()).toEqual(
      ['annotations./empty-prefix', 'labels.bad key', 'labels.team', 'labels.velero.io/schedule-name'].sort(),
    );
  });

  it('answers 400 to a missing cluster', async () => {
    const answer = await call('POST', '/backups', { body: { includedNamespaces: [namespace] } });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.json.issues[0].path).toBe('cluster');
  });

  it('answers 404 to an unknown cluster, naming the configured ones', async () => {
    const answer = await call('POST', '/backups', { body: { cluster: 'gamma' } });
    expect(answer.status, answer.text).toBe(404);
    expect(answer.json.message).toContain('"gamma"');
    expect(answer.json.message).toContain('alpha');
  });

  it('answers 409 to the same name twice', async () => {
    const name = `twice-${namespace}`;
    const first = await call('POST', '/backups', { body: { cluster: 'alpha', name, includedNamespaces: [namespace] } });
    expect(first.status, first.text).toBe(202);
    const second = await call('POST', '/backups', { body: { cluster: 'alpha', name, includedNamespaces: [namespace] } });
    expect(second.status, second.text).toBe(409);
    expect(second.json.message).toContain(name);
    await untilFinished(name);
    const third = await call('POST', '/backups', { body: { cluster: 'alpha', name, includedNamespaces: [namespace] } });
    expect(third.status, third.text).toBe(409);
  });

  it('answers 400 to a storage location the cluster does not back up to', async () => {
    const answer = await call('POST', '/backups', { body: { cluster: 'alpha', storageLocation: 'other' } });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.json.issues[0].path).toBe('storageLocation');
    expect(answer.json.issues[0].message).toContain('allowed: default');
  });
});

describe('API: a cluster that cannot be reached', () => {
  it('accepts the backup, then fails it with a reason a person can act on', async () => {
    const name = `unreachable-${randomBytes(3).toString('hex')}`;
    const created = await call('POST', '/backups', { body: { cluster: 'unreachable', name } });
    expect(created.status, created.text).toBe(202);
    const { backup } = await untilFinished(name);
    expect(backup.status.phase).toBe('Failed');
    expect(backup.status.failureReason).toMatch(/127\.0\.0\.1:1/);
    expect(backup.status.failureReason).toMatch(/check the cluster's server URL/);
    const failed = await call('GET', '/backups?phase=Failed&cluster=unreachable');
    expect((failed.json.items as BackupView[]).map((b) => b.metadata.name)).toEqual([name]);

    // Nothing of a failed backup is stored where Velero looks; its log still reads, reason
    // included, and `call` has checked that it holds no secret (the cluster's token among them).
    const logs = await call('GET', `/backups/${name}/logs`);
    expect(logs.status, logs.text).toBe(200);
    expect(logs.contentType).toBe('text/plain; charset=utf-8');
    expect(logs.text).toMatch(/level=error msg="backup failed: .*cannot reach API server https:\/\/127\.0\.0\.1:1/);
    expect(logs.text).toContain("check the cluster's server URL");
  });
});
