import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bedState, freshBucket, freshNamespace, kubeConfigFor } from '../bed/context';
import { startOffline, type OfflineStack } from '../bed/offline';
import { skiffConfigForBed } from '../bed/skiff-config';

const run = promisify(execFile);
const apiToken = randomBytes(24).toString('hex');

/**
 * The CLI as a client of a deployed Skiff: `serverless offline` serves the functions
 * with a configuration; the CLI has only the server's URL and a bearer token (no
 * cluster or S3 credentials), and prints what local mode prints with the configuration.
 */
describe('skiff as a client of the HTTP API (CLI)', () => {
  let offline: OfflineStack;
  let clientEnv: NodeJS.ProcessEnv;
  let localEnv: NodeJS.ProcessEnv;
  let namespace: string;
  let workDir: string;
  const name = () => `cli-client-${namespace}`.slice(0, 63);

  beforeAll(async () => {
    const state = bedState();
    namespace = await freshNamespace('alpha', 'cli-client');
    await kubeConfigFor('alpha')
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({ namespace, body: { metadata: { name: 'app-config' }, data: { k: 'v' } } });
    const bucket = await freshBucket('cli-client');
    const config = skiffConfigForBed(state, { bucket, apiToken });
    workDir = mkdtempSync(join(tmpdir(), 'skiff-cli-client-'));
    const clean = { SKIFF_CONFIG: '', SKIFF_CONFIG_FILE: '', SKIFF_SERVER: '', SKIFF_TOKEN: '', XDG_CONFIG_HOME: workDir, SKIFF_CONTEXT_FILE: '' };
    [offline] = await Promise.all([
      startOffline({ config, logDir: join(state.workDir, 'logs') }),
      run(process.execPath, ['scripts/build-cli.mjs'], { cwd: process.cwd() }),
    ]);
    clientEnv = { ...process.env, ...clean, SKIFF_SERVER: offline.httpUrl, SKIFF_TOKEN: apiToken };
    localEnv = { ...process.env, ...clean, SKIFF_CONFIG: JSON.stringify(config) };
  }, 240_000);

  afterAll(async () => {
    await offline?.stop();
  });

  const skiffWith = (env: NodeJS.ProcessEnv, ...args: string[]) => run('node', ['bin/skiff.mjs', ...args], { env, cwd: process.cwd() });
  const skiff = (...args: string[]) => skiffWith(clientEnv, 'backup', ...args);
  const failureOf = (p: Promise<unknown>) => p.then(() => undefined, (error: { code: number; stdout: string; stderr: string }) => error);

  it('creates a backup through the API and waits for it with --wait', async () => {
    const created = await skiff('create', name(), '--cluster', 'alpha', '--include-namespaces', namespace, '--labels', 'team=client', '-w');
    expect(created.stdout).toContain(`Backup request "${name()}" submitted successfully.`);
    expect(created.stdout).toContain('Waiting for backup to complete.');
    expect(created.stdout).toContain('Backup completed with status: Completed.');
    expect(created.stderr).toBe('');
  });

  it('prints get and describe exactly as local mode does', async () => {
    for (const args of [['get', name()], ['get', '-l', 'team=client', '--show-labels'], ['describe', name()], ['get', name(), '-o', 'json']]) {
      const [client, local] = await Promise.all([skiff(...args), skiffWith(localEnv, 'backup', ...args)]);
      expect(client.stdout, args.join(' ')).toBe(local.stdout);
      expect(local.stderr).toBe('running locally with SKIFF_CONFIG\n');
    }
    expect((await skiff('get')).stdout).toMatch(new RegExp(`\\n${name()}\\s+Completed\\s.*\\salpha$`, 'm'));
  });

  it('shows logs and streams the tarball from a presigned URL', async () => {
    expect((await skiff('logs', name())).stdout).toContain('backup completed');
    const file = join(workDir, 'client.tar.gz');
    await skiff('download', name(), '-o', file);
    expect(gunzipSync(readFileSync(file)).toString('latin1')).toContain(`resources/configmaps/namespaces/${namespace}/app-config.json`);
    expect(await failureOf(skiff('download', name(), '-o', file))).toMatchObject({ code: 2 });
  });

  it("reaches the other jobs' routes: restores, sync report, readiness, and a deletion's plan", async () => {
    for (const args of [['restore', 'get'], ['sync', 'report']]) {
      const [client, local] = await Promise.all([skiffWith(clientEnv, ...args), skiffWith(localEnv, ...args)]);
      expect(client.stdout, args.join(' ')).toBe(local.stdout);
    }
    const readiness = await skiffWith(clientEnv, 'cluster', 'readiness', 'alpha', '--include-namespaces', namespace, '-o', 'json').catch((e: { stdout: string }) => e);
    expect(JSON.parse(readiness.stdout)).toMatchObject({ cluster: 'alpha' });
    const plan = await skiff('delete', name());
    expect(plan.stdout).toMatch(new RegExp(`^${name()}\\s+-\\s+backups/${name()}/\\s+deleteBackupData`, 'm'));
    expect(plan.stderr).toContain('run again with --confirm');
    const [clientGc, localGc] = await Promise.all([skiffWith(clientEnv, 'gc', '--dry-run'), skiffWith(localEnv, 'gc', '--dry-run')]);
    // The same plan; only the moment each was made differs.
    const moment = (text: string) => text.replace(/ at \d{4}-\d\d-\d\dT[\d:.]+Z/g, ' at <now>');
    expect(moment(clientGc.stdout)).toBe(moment(localGc.stdout));
    expect(clientGc.stdout).toContain('default');
    const unknown = await failureOf(skiffWith(clientEnv, 'gc', '--location', 'nowhere'));
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown!.stderr).toMatch(/storage location "nowhere" not found/);
  });

  it('answers skiff version with the server\'s version from GET /version', async () => {
    const version = JSON.parse((await skiffWith(clientEnv, 'version', '-o', 'json')).stdout);
    expect(version).toMatchObject({ client: { version: expect.any(String) }, server: { version: expect.any(String), url: offline.httpUrl } });
  });

  it('answers unknown names and clusters on one line, exit 2, and a wrong token as refused', async () => {
    const unknown = await failureOf(skiff('describe', 'no-such-backup'));
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown!.stderr).toMatch(/^error: backup "no-such-backup" not found[^\n]*\n$/);
    const cluster = await failureOf(skiff('get', '--cluster', 'nowhere'));
    expect(cluster).toMatchObject({ code: 2 });
    expect(cluster!.stderr).toMatch(/cluster "nowhere" not found/);
    const refused = await failureOf(skiffWith({ ...clientEnv, SKIFF_TOKEN: 'wrong' }, 'backup', 'get'));
    expect(refused!.stderr).toMatch(/^error: the server refused the token \(HTTP 40[13]\)/);
    expect(refused!.stderr).not.toContain(apiToken);
  });

  it('connects through a context: add writes the file 0600 with the token, use and list, then get works with no SKIFF_SERVER', async () => {
    const env = { ...clientEnv, SKIFF_SERVER: '', SKIFF_TOKEN: '' };
    const added = await skiffWith(env, 'context', 'add', 'offline', '--server', offline.httpUrl, '--token', apiToken);
    expect(added.stdout).toContain('Context "offline" added');
    const file = join(workDir, 'skiff', 'config');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await skiffWith(env, 'context', 'add', 'by-env', '--server', offline.httpUrl, '--token-env', 'MY_SKIFF_TOKEN');
    await skiffWith(env, 'context', 'use', 'offline');
    const listed = await skiffWith(env, 'context', 'list');
    expect(listed.stdout).toMatch(/^\*\s+offline\s+http:\S+\s+in file$/m);
    expect(listed.stdout).not.toContain(apiToken);
    expect((await skiffWith(env, 'backup', 'get', name())).stdout).toContain(name());
    expect((await skiffWith({ ...env, MY_SKIFF_TOKEN: apiToken }, '--context', 'by-env', 'backup', 'get', name())).stdout).toContain(name());
    const version = await skiffWith(env, 'version');
    expect(version.stdout).toMatch(/^Client:\n\tVersion: \S+\n\nServer:\n\tVersion: \S+\n\tURL: http/);
  });
});
