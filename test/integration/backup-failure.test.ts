import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPartWriter } from '../../lib/backup/part-writer';
import type { BackupProgressRecord } from '../../lib/backup/progress-record';
import { runBackup } from '../../lib/backup/run-backup';
import { getBackupLog } from '../../lib/backup/service';
import { backupServiceDeps } from '../../lib/backup/service';
import { storeResolver } from '../../lib/store/resolver';
import { validateConfig, type SkiffConfig } from '../../lib/config';
import type { KubeClient } from '../../lib/kube/client';
import { bedState, freshBucket, freshNamespace, s3Client } from '../bed/context';
import { skiffConfigForBed } from '../bed/skiff-config';
import { clusterClient, objectKeys, observedDeps, requestBackup } from './backup-helpers';

/**
 * Backups that cannot be taken: the cluster is unreachable, refuses the credentials,
 * or goes away half-way. Each ends Failed with a reason a person can act on, leaves
 * nothing that looks like a backup, and leaks no secret anywhere.
 */

const WRONG_TOKEN = 'wrong-token-5f3a9c1e7b2d4a60';
const SECRET_DATA = 'hunter2';

let bucket: string;
let config: SkiffConfig;
let namespace: string;
let proxy: CutProxy;
let admin: KubeClient;

/** A TCP proxy in front of the API server that the test can cut, as a network would. */
interface CutProxy {
  port: number;
  cut(): void;
  close(): Promise<void>;
}

async function startProxy(target: URL): Promise<CutProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((incoming) => {
    const outgoing = tcpConnect(Number(target.port), target.hostname);
    sockets.add(incoming).add(outgoing);
    incoming.pipe(outgoing).pipe(incoming);
    const drop = () => {
      incoming.destroy();
      outgoing.destroy();
    };
    incoming.on('error', drop).on('close', drop);
    outgoing.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  let closed = false;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (closed) return resolve();
      closed = true;
      server.close(() => resolve());
    });
  return { port, cut: () => void close(), close };
}

let output: string[] = [];
let restoreOutput: (() => void) | undefined;

/** Everything the process writes to stdout and stderr while a test runs (the function's logs). */
function captureOutput(): void {
  output = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((s) => s.write);
  for (const stream of streams) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  }
  restoreOutput = () => streams.forEach((s, i) => (s.write = originals[i]!));
}

function secrets(): string[] {
  const state = bedState();
  return [state.clusters.alpha!.adminToken, WRONG_TOKEN, state.minio.accessKey, state.minio.secretKey, SECRET_DATA];
}

beforeAll(async () => {
  const state = bedState();
  bucket = await freshBucket('backup-failure');
  proxy = await startProxy(new URL(state.clusters.alpha!.server));
  const raw = skiffConfigForBed(state, { bucket, apiToken: 'test-api-token' });
  const alpha = raw.clusters.find((c) => c.name === 'alpha')!;
  raw.clusters.push(
    { ...alpha, name: 'unreachable', server: 'https://127.0.0.1:1' },
    { ...alpha, name: 'wrong-token', auth: { token: WRONG_TOKEN } },
    { ...alpha, name: 'flaky', server: `https://127.0.0.1:${proxy.port}` },
  );
  config = validateConfig(raw, 'test');
  admin = await clusterClient(config);
  namespace = await freshNamespace('alpha', 'failure');
  await admin.create(`/api/v1/namespaces/${namespace}/secrets`, { metadata: { name: 'db' }, stringData: { password: SECRET_DATA } });
  for (let i = 0; i < 20; i++) {
    await admin.create(`/api/v1/namespaces/${namespace}/configmaps`, { metadata: { name: `cm-${i}` }, data: { i: String(i) } });
  }
});

afterAll(async () => {
  admin?.close();
  await proxy?.close();
});

beforeEach(captureOutput);
afterEach(() => restoreOutput?.());

/** Runs a backup of `cluster` to its end and returns its progress record as left behind. */
async function failedRun(cluster: string, wrap?: Parameters<typeof observedDeps>[3]): Promise<{ name: string; record: BackupProgressRecord }> {
  const name = await requestBackup(config, { cluster, includedNamespaces: [namespace] });
  const { deps } = await observedDeps(config, name, () => 600_000, wrap);
  const outcome = await runBackup(deps, name);
  expect(outcome).toEqual({ state: 'failed', phase: 'Failed' });
  const record = (await storeResolver(config)('default').getProgress(name))!.record as BackupProgressRecord;
  return { name, record };
}

/** The failed backup's log as `skiff backup logs` and GET /backups/{name}/logs show it. */
const readableLog = (name: string) => getBackupLog(backupServiceDeps(config), name);

/**
 * Nothing of the backup where Velero looks, no upload left open, no secret anywhere,
 * and a log a person can read that says why the backup failed.
 */
async function expectNothingLeftAndNoSecrets(name: string, record: BackupProgressRecord): Promise<void> {
  expect(await objectKeys(bucket, `backups/${name}/`)).toEqual([]);
  const uploads = await s3Client().send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `backups/${name}/` }));
  expect(uploads.Uploads ?? []).toEqual([]);
  const backupLog = await readableLog(name);
  // logfmt quotes the message, so the reason stands in the line as a JSON string.
  expect(backupLog).toContain(`level=error msg=${JSON.stringify(`backup failed: ${record.backup.status.failureReason}`)}`);
  const places = { failureReason: record.backup.status.failureReason ?? '', backupLog, processLog: output.join('') };
  for (const [where, text] of Object.entries(places)) {
    for (const secret of secrets()) {
      if (text.includes(secret)) throw new Error(`${where} contains a secret (${secret.length} characters)`);
    }
  }
}

describe('a backup that cannot be taken', () => {
  it('fails with an actionable reason when the API server is unreachable', async () => {
    const { name, record } = await failedRun('unreachable');
    expect(record.stage).toBe('Failed');
    expect(record.backup.status.phase).toBe('Failed');
    expect(record.backup.status.failureReason).toMatch(/cannot reach API server https:\/\/127\.0\.0\.1:1: ECONNREFUSED/);
    expect(record.backup.status.failureReason).toContain("check the cluster's server URL, CA and network access");
    expect(record.backup.status.completionTimestamp).toBeDefined();
    expect(await readableLog(name)).toMatch(/level=error msg="backup failed: .*cannot reach API server https:\/\/127\.0\.0\.1:1: ECONNREFUSED/);
    await expectNothingLeftAndNoSecrets(name, record);
    expect(output.join('')).toContain('backup failed');
  });

  it('fails with a 401-based reason when the credentials are refused', async () => {
    const { name, record } = await failedRun('wrong-token');
    expect(record.backup.status.phase).toBe('Failed');
    expect(record.backup.status.failureReason).toMatch(/HTTP 401/);
    expect(record.backup.status.failureReason).toContain("check the cluster's credentials");
    await expectNothingLeftAndNoSecrets(name, record);
  });

  it('fails when the cluster goes away after its Secrets were read, dropping the partial tarball', async () => {
    let cut = false;
    const { name, record } = await failedRun('flaky', {
      createWriter: (onPart) => {
        const writer = createPartWriter(onPart);
        return {
          append(paths, body) {
            // The Secret is in the tarball (in memory); now the network goes.
            if (paths.some((path) => path.includes('/secrets/')) && !cut) {
              cut = true;
              proxy.cut();
            }
            writer.append(paths, body);
          },
          ready: () => writer.ready(),
          get openBytes() {
            return writer.openBytes;
          },
          flush: () => writer.flush(),
          finish: () => writer.finish(),
        };
      },
    });
    expect(cut).toBe(true);
    expect(record.backup.status.phase).toBe('Failed');
    expect(record.backup.status.failureReason).toMatch(new RegExp(`cannot reach API server https://127\\.0\\.0\\.1:${proxy.port}`));
    expect(record.tarball?.uploadId).toBeDefined();
    await expectNothingLeftAndNoSecrets(name, record);
  });
});
