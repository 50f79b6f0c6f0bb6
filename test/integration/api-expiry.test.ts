import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { backupServiceDeps, createBackup } from '../../lib/backup/service';
import { validateConfig, type SkiffConfig } from '../../lib/config';
import { DELETION_WAITING_ON_ANNOTATION } from '../../lib/velero/labels';
import { bedState, freshBucket, freshNamespace, kubeConfigFor, waitFor } from '../bed/context';
import { offlineLambdaClient, startOffline, type OfflineStack } from '../bed/offline';
import { skiffConfigForBed } from '../bed/skiff-config';
import { exists, objectKeys, observedDeps } from './backup-helpers';

/**
 * Expiry through the real function stack: DELETE /backups/{name} served by `serverless
 * offline`, the expiry run it starts through the local Lambda API, and the scheduler
 * starting a run per storage location when gcFrequency is due.
 *
 * The backups are made beforehand in this process. One is taken of cluster "gone",
 * which the stack's configuration points at a server nobody answers at: its deletion
 * must wait (the cluster may hold its snapshots), so it stays Deleting, deterministically.
 */

const apiToken = randomBytes(24).toString('hex');
let offline: OfflineStack;
let lambda: LambdaClient;
let bucket: string;
const names = { doomed: '', stranded: '', expired: '', writing: '' };

async function call(method: 'GET' | 'DELETE', path: string): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(`${offline.httpUrl}${path}`, { method, headers: { authorization: `Bearer ${apiToken}` } });
  const text = await res.text();
  expect(text, 'no stack trace in an answer').not.toMatch(/\n\s+at /);
  expect(text.includes(apiToken)).toBe(false);
  return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
}

/** A completed backup of `namespace` taken of `cluster`, made the real way in this process. */
async function completedBackup(config: SkiffConfig, cluster: string, name: string, namespace: string, ttl: string): Promise<string> {
  await createBackup(backupServiceDeps(config), { cluster, name, includedNamespaces: [namespace], ttl });
  const { deps } = await observedDeps(config, name, () => 600_000);
  expect(await runBackup(deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
  return name;
}

beforeAll(async () => {
  const state = bedState();
  bucket = await freshBucket('api-expiry');
  const namespace = await freshNamespace('alpha', 'apiexp');
  await kubeConfigFor('alpha').makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { a: '1' } } });
  const base = skiffConfigForBed(state, { bucket, apiToken });
  const alpha = base.clusters.find((c) => c.name === 'alpha')!;
  // Here "gone" is alpha under another name; the stack sees it unreachable.
  const local = validateConfig({ ...base, clusters: [...base.clusters, { ...alpha, name: 'gone' }] }, 'test');
  const suffix = randomBytes(3).toString('hex');
  names.doomed = await completedBackup(local, 'alpha', `doomed-${suffix}`, namespace, '720h');
  names.stranded = await completedBackup(local, 'gone', `stranded-${suffix}`, namespace, '720h');
  names.expired = await completedBackup(local, 'alpha', `expired-${suffix}`, namespace, '1s');
  // Created and never run: in progress for as long as the test needs.
  names.writing = (await createBackup(backupServiceDeps(local), { cluster: 'alpha', name: `writing-${suffix}`, includedNamespaces: [namespace] })).name;

  offline = await startOffline({
    config: {
      ...base,
      api: { bearerTokens: [apiToken] },
      clusters: [...base.clusters, { ...alpha, name: 'gone', server: 'https://127.0.0.1:1' }],
      // Due at every tick, so one invocation of the scheduler starts the runs.
      defaults: { gcFrequency: '1m' },
    },
    logDir: join(state.workDir, 'logs'),
  });
  lambda = offlineLambdaClient(offline);
}, 300_000);

afterAll(async () => {
  lambda?.destroy();
  await offline?.stop();
});

describe('API: DELETE /backups/{name}', () => {
  it('answers the plan to ?dryRun=true and changes nothing', async () => {
    const answer = await call('DELETE', `/backups/${names.doomed}?dryRun=true`);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({ location: 'default', dryRun: true });
    expect(answer.json.backups).toEqual([expect.objectContaining({ backup: names.doomed, verdict: 'delete', finishes: true })]);
    expect((answer.json.actions as { kind: string; backup: string }[]).map((a) => `${a.kind} ${a.backup}`)).toEqual(
      expect.arrayContaining([`writeDeletionMarker ${names.doomed}`, `deleteBackupData ${names.doomed}`, `deleteDeletionMarker ${names.doomed}`]),
    );
    expect(await exists(bucket, `metadata/skiff/deleting/${names.doomed}.json`)).toBe(false);
    expect((await call('GET', `/backups/${names.doomed}`)).json.status.phase).toBe('Completed');
  });

  it('answers 202 Deleting, and the run it starts removes the backup', async () => {
    const answer = await call('DELETE', `/backups/${names.doomed}`);
    expect(answer.status, answer.text).toBe(202);
    expect(answer.json).toMatchObject({ backup: names.doomed, storageLocation: 'default', phase: 'Deleting', accepted: true });
    const phases: string[] = [];
    await waitFor(
      async () => {
        const got = await call('GET', `/backups/${names.doomed}`);
        if (got.status === 200) phases.push(got.json.status.phase);
        return got.status === 404;
      },
      { what: `backup ${names.doomed} deleted by its run`, timeoutMs: 90_000, intervalMs: 200 },
    );
    expect(phases.every((p) => p === 'Deleting'), phases.join(',')).toBe(true);
    expect(await objectKeys(bucket, `backups/${names.doomed}/`)).toEqual([]);
  });

  it('shows a deletion that must wait as Deleting with what it waits on, and answers a second DELETE with that state', async () => {
    const answer = await call('DELETE', `/backups/${names.stranded}`);
    expect(answer.status, answer.text).toBe(202);
    expect(answer.json).toMatchObject({ phase: 'Deleting', accepted: true });
    const phases: string[] = [];
    const waiting = await waitFor(
      async () => {
        const got = await call('GET', `/backups/${names.stranded}`);
        phases.push(got.json?.status?.phase ?? `HTTP ${got.status}`);
        return got.json?.metadata?.annotations?.[DELETION_WAITING_ON_ANNOTATION] as string | undefined;
      },
      { what: `the run of ${names.stranded} to record what it waits on`, timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(phases.every((p) => p === 'Deleting'), phases.join(',')).toBe(true);
    expect(waiting).toMatch(/cluster gone could not be read/);
    const again = await call('DELETE', `/backups/${names.stranded}`);
    expect(again.status, again.text).toBe(202);
    expect(again.json).toMatchObject({ phase: 'Deleting', accepted: false, waitingOn: [expect.stringMatching(/cluster gone/)] });
    expect(await exists(bucket, `backups/${names.stranded}/velero-backup.json`)).toBe(true);
  });

  it('answers 404 to an unknown backup and 409 to one still being written', async () => {
    const unknown = await call('DELETE', '/backups/no-such-backup');
    expect(unknown.status, unknown.text).toBe(404);
    expect(unknown.json.message).toContain('no-such-backup');
    const writing = await call('DELETE', `/backups/${names.writing}`);
    expect(writing.status, writing.text).toBe(409);
    expect(writing.json.message).toMatch(/in progress/);
    expect(await exists(bucket, `metadata/skiff/deleting/${names.writing}.json`)).toBe(false);
  });
});

describe('the scheduler and expiry', () => {
  it('starts an expiry run of each storage location when gcFrequency is due, which deletes the expired backup only', async () => {
    const answer = await lambda.send(
      new InvokeCommand({ FunctionName: offline.functionName('scheduler'), InvocationType: 'RequestResponse', Payload: Buffer.from('{}') }),
    );
    const text = Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8');
    expect(answer.FunctionError, text).toBeUndefined();
    expect(JSON.parse(text)).toMatchObject({ expiryStarted: ['default'], expiryFailed: [] });
    await waitFor(async () => (await call('GET', `/backups/${names.expired}`)).status === 404, {
      what: `the scheduled run to delete ${names.expired}`,
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    expect(await objectKeys(bucket, `backups/${names.expired}/`)).toEqual([]);
    expect((await call('GET', `/backups/${names.stranded}`)).json.status.phase).toBe('Deleting');
  });
});
