import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { runExpiry, expiryServiceDeps } from '../../lib/expiry/service';
import { runSync, syncDeps as syncServiceDeps } from '../../lib/sync/service';
import { forBackup } from '../builders';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../lib/config';
import { signBody } from '../../lib/http/auth';
import { WRITE_CHECK_MAX_AGE_MS, writeRefusal } from '../../lib/store/location-check';
import { bedState, freshBucket, freshNamespace, s3Client, waitFor } from '../bed/context';
import { startOffline, type OfflineStack } from '../bed/offline';
import { skiffConfigForBed } from '../bed/skiff-config';
import { startConditionalIgnoringProxy, type ConditionalIgnoringProxy } from '../support/conditional-ignoring-proxy';

/**
 * Who may call what, and what the deployment says about itself, through the real
 * function stack: anonymous /healthz says only ok, GET /status (bearer token only)
 * checks every cluster and storage location live against the bed, webhook signatures
 * only create, and a storage location whose store ignores conditional writes (real
 * MinIO behind a proxy that drops If-Match / If-None-Match) is refused for writing.
 */

const apiToken = randomBytes(24).toString('hex');
const hmacSecret = randomBytes(24).toString('hex');
const unreachableToken = `unreachable-${randomBytes(16).toString('hex')}`;
const wrongClusterToken = `wrong-${randomBytes(16).toString('hex')}`;
const wrongSecretKey = `wrong-${randomBytes(16).toString('hex')}`;

let offline: OfflineStack;
let proxy: ConditionalIgnoringProxy;
let bucket: string;
let ignoringBucket: string;
let namespace: string;
let secrets: string[];
let ignoringLocation: unknown;
let fullConfig: unknown;

interface Answer {
  status: number;
  text: string;
  json: any;
}

function assertClean(text: string): void {
  expect(text, 'no stack trace').not.toMatch(/\n\s+at /);
  for (const secret of secrets) expect(text.includes(secret), 'no secret').toBe(false);
}

async function call(method: 'GET' | 'POST' | 'DELETE', path: string, options: { body?: object; auth?: 'bearer' | 'signed' | 'none' } = {}): Promise<Answer> {
  const body = options.body === undefined ? '' : JSON.stringify(options.body);
  const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
  const auth = options.auth ?? 'bearer';
  if (auth === 'bearer') headers.authorization = `Bearer ${apiToken}`;
  if (auth === 'signed') {
    const timestamp = String(Math.floor(Date.now() / 1000));
    headers.authorization = `Skiff-Signature t=${timestamp},sig=${signBody(hmacSecret, timestamp, body)}`;
  }
  const res = await fetch(`${offline.httpUrl}${path}`, { method, headers, ...(body ? { body } : {}) });
  const text = await res.text();
  assertClean(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

async function probeObjectsLeft(name: string): Promise<string[]> {
  const listed = await s3Client().send(new ListObjectsV2Command({ Bucket: name, Prefix: 'metadata/skiff/write-probes/' }));
  return (listed.Contents ?? []).map((o) => o.Key!);
}

beforeAll(async () => {
  const state = bedState();
  [bucket, ignoringBucket] = await Promise.all([freshBucket('status'), freshBucket('status-ignoring')]);
  namespace = await freshNamespace('alpha', 'status');
  proxy = await startConditionalIgnoringProxy({
    endpoint: state.minio.endpoint,
    region: state.minio.region,
    accessKeyId: state.minio.accessKey,
    secretAccessKey: state.minio.secretKey,
  });
  const base = skiffConfigForBed(state, { bucket, apiToken });
  const alpha = base.clusters.find((c) => c.name === 'alpha')!;
  const location = base.storageLocations[0]!;
  const config = {
    ...base,
    api: { bearerTokens: [apiToken], hmacSecret },
    clusters: [
      { ...alpha, storageLocations: ['default', 'ignoring'] },
      { name: 'unreachable', server: 'https://127.0.0.1:1', auth: { token: unreachableToken }, storageLocations: ['default'] },
      { ...alpha, name: 'stranger', auth: { token: wrongClusterToken } },
    ],
    storageLocations: [
      location,
      { ...location, name: 'missing', bucket: `missing-${randomBytes(4).toString('hex')}` },
      { ...location, name: 'badkeys', credentials: { accessKeyId: state.minio.accessKey, secretAccessKey: wrongSecretKey } },
      { ...location, name: 'readonly', accessMode: 'ReadOnly' },
      { ...location, name: 'ignoring', bucket: ignoringBucket, endpoint: proxy.url },
    ],
  };
  secrets = [
    apiToken,
    hmacSecret,
    unreachableToken,
    wrongClusterToken,
    wrongSecretKey,
    state.minio.secretKey,
    ...Object.values(state.clusters).flatMap((c) => [c.adminToken, c.limitedToken]),
  ];
  ignoringLocation = config.storageLocations.find((l) => l.name === 'ignoring');
  fullConfig = config;
  offline = await startOffline({ config, logDir: join(state.workDir, 'logs') });
}, 180_000);

afterAll(async () => {
  await offline?.stop();
  await proxy?.close();
});

describe('API: webhook signatures only create', () => {
  it.each(['/backups', '/status', '/restores'])('answers a signed GET %s with 403 saying to use a bearer token', async (path) => {
    const answer = await call('GET', path, { auth: 'signed' });
    expect(answer.status, answer.text).toBe(403);
    expect(answer.json).toEqual({ error: 'ForbiddenError', message: expect.stringMatching(/may only create \(POST .*not GET.*Bearer <token>/) });
  });

  it('still accepts a signed POST', async () => {
    const answer = await call('POST', '/sync', { auth: 'signed', body: { location: 'default', cluster: 'alpha', dryRun: true } });
    expect(answer.status, answer.text).toBe(200);
  });

  it('lets a bearer token read', async () => {
    const answer = await call('GET', '/backups');
    expect(answer.status, answer.text).toBe(200);
  });
});

describe('API: /healthz and /status', () => {
  it('answers /healthz anonymously with "ok" and nothing else', async () => {
    const answer = await call('GET', '/healthz', { auth: 'none' });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toEqual({ status: 'ok' });
  });

  it('refuses /status without credentials', async () => {
    const answer = await call('GET', '/status', { auth: 'none' });
    expect(answer.status, answer.text).toBe(401);
  });

  it('checks each cluster live: reachable, unreachable, credentials refused', async () => {
    const answer = await call('GET', '/status');
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json.status).toBe('degraded');
    const clusters = Object.fromEntries((answer.json.clusters as any[]).map((c) => [c.name, c])) as Record<string, any>;
    expect(clusters.alpha).toMatchObject({ phase: 'Available', kubernetesVersion: expect.stringMatching(/^v1\./), auth: 'bearer token (inline)' });
    expect(clusters.alpha.message).toBeUndefined();
    expect(clusters.unreachable).toMatchObject({ phase: 'Unavailable', message: expect.stringMatching(/127\.0\.0\.1:1.*check the cluster's server URL/) });
    expect(clusters.stranger).toMatchObject({ phase: 'Unavailable', message: expect.stringMatching(/HTTP 401.*refused the credentials/) });
    expect(answer.text).not.toContain('BEGIN CERTIFICATE');
    expect(answer.text).not.toContain(bedState().minio.accessKey);
  });

  it('checks each storage location live, like Velero\'s location phase, and leaves no probe behind', async () => {
    const answer = await call('GET', '/status');
    expect(answer.status, answer.text).toBe(200);
    const locations = Object.fromEntries((answer.json.storageLocations as any[]).map((l) => [l.name, l])) as Record<string, any>;
    expect(locations.default).toMatchObject({ phase: 'Available', conditionalWrites: 'honoured', lastValidationTime: expect.any(String) });
    expect(locations.readonly).toMatchObject({ phase: 'Available', message: expect.stringMatching(/ReadOnly/) });
    expect(locations.readonly.conditionalWrites).toBeUndefined();
    expect(locations.missing).toMatchObject({ phase: 'Unavailable', message: expect.stringMatching(/NoSuchBucket.*does not exist/) });
    expect(locations.badkeys).toMatchObject({ phase: 'Unavailable', message: expect.stringMatching(/refused the credentials of location "badkeys"/) });
    expect(locations.ignoring).toMatchObject({
      phase: 'Unavailable',
      conditionalWrites: 'ignored',
      writesRefused: expect.stringMatching(/^storage location "ignoring" is refused for writing: its object store ignores conditional writes/),
    });
    expect(proxy.strippedRequests()).toBeGreaterThanOrEqual(3);
    expect(await probeObjectsLeft(bucket)).toEqual([]);
    expect(await probeObjectsLeft(ignoringBucket)).toEqual([]);
  });
});

describe('A storage location whose store ignores conditional writes', () => {
  it('fails a backup to it with that reason instead of running it, and logs why', async () => {
    const name = `ignored-${randomBytes(3).toString('hex')}`;
    const created = await call('POST', '/backups', { body: { cluster: 'alpha', name, includedNamespaces: [namespace], storageLocation: 'ignoring' } });
    expect(created.status, created.text).toBe(202);
    const backup = await waitFor(
      async () => {
        const got = await call('GET', `/backups/${name}`);
        return ['Completed', 'PartiallyFailed', 'Failed'].includes(got.json?.status?.phase) ? got.json : undefined;
      },
      { what: `backup ${name} to finish`, timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(backup.status.phase).toBe('Failed');
    expect(backup.status.failureReason).toMatch(/^storage location "ignoring" is refused for writing: its object store ignores conditional writes/);
    const listed = await s3Client().send(new ListObjectsV2Command({ Bucket: ignoringBucket, Prefix: `backups/${name}/` }));
    expect(listed.KeyCount ?? 0).toBe(0);

    const log = readFileSync(offline.logFile, 'utf8');
    expect(log).toContain('storage location refused for writing');
    expect(log).toMatch(/backup failed.*refused for writing/);
    for (const secret of secrets) expect(log.includes(secret), 'no secret in the functions log').toBe(false);
  });
});

async function allKeys(name: string): Promise<string[]> {
  const listed = await s3Client().send(new ListObjectsV2Command({ Bucket: name }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

describe('The conditional-write verdict a backup run asks for', () => {
  it('is probed once and trusted for a few minutes, then probed again', async () => {
    // Prepare
    const config = validateConfig({ clusters: [], storageLocations: [ignoringLocation] }, 'test');
    const location = config.storageLocations[0]!;
    let now = new Date();
    const clock = { now: () => now };
    const before = proxy.strippedRequests();

    // Act
    const first = await writeRefusal(location, clock);
    const afterFirst = proxy.strippedRequests();
    now = new Date(now.getTime() + WRITE_CHECK_MAX_AGE_MS - 1000);
    const cached = await writeRefusal(location, clock);
    const afterCached = proxy.strippedRequests();
    now = new Date(now.getTime() + 2000);
    const again = await writeRefusal(location, clock);

    // Assess: each probe sends the two conditional writes (and the create-only write that makes the object).
    expect(first).toMatch(/refused for writing/);
    expect(cached).toBe(first);
    expect(again).toBe(first);
    expect(afterFirst - before).toBe(3);
    expect(afterCached).toBe(afterFirst);
    expect(proxy.strippedRequests() - afterCached).toBe(3);
  });
});

describe('Every job refuses to write to a store that ignores conditional writes', () => {
  const refused = /^storage location "ignoring" is refused for writing: its object store ignores conditional writes/;

  it('refuses a sync run, a deletion, an expiry run and a restore, and writes nothing there', async () => {
    // Prepare: a Completed backup in the bucket, written around the proxy.
    const name = `stored-${randomBytes(3).toString('hex')}`;
    const backup = forBackup('velero', name).includedNamespaces(namespace).phase('Completed').result();
    backup.metadata.labels = { 'velero.io/storage-location': 'ignoring', 'skiff.io/cluster': 'alpha' };
    await s3Client().send(new PutObjectCommand({ Bucket: ignoringBucket, Key: `backups/${name}/velero-backup.json`, Body: JSON.stringify(backup) }));
    const keysBefore = await allKeys(ignoringBucket);

    // Act
    const config = validateConfig(fullConfig, 'test');
    const sync = await runSync(syncServiceDeps(config), { location: 'ignoring', cluster: 'alpha' });
    const deletion = await call('DELETE', `/backups/${name}`);
    const restore = await call('POST', '/restores', { body: { backupName: name } });
    const expiry = await runExpiry(expiryServiceDeps(config), { location: 'ignoring' }).catch((error: Error) => error);

    // Assess
    expect(sync.locations[0]!.report.failed).toMatch(refused);
    expect(deletion.status, deletion.text).toBe(409);
    expect(deletion.json.message).toMatch(refused);
    expect(restore.status, restore.text).toBe(409);
    expect(restore.json.message).toMatch(refused);
    expect(expiry).toBeInstanceOf(Error);
    expect((expiry as Error).message).toMatch(refused);
    expect(await allKeys(ignoringBucket)).toEqual(keysBefore);
  });

  it('still lets a dry run read it', async () => {
    const sync = await runSync(syncServiceDeps(validateConfig(fullConfig, 'test')), { location: 'ignoring', cluster: 'alpha', dryRun: true });

    expect(sync.locations[0]!.report.failed).toBeUndefined();
  });
});
