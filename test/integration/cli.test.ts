import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { bedState, freshBucket, freshNamespace, kubeConfigFor } from '../bed/context';
import { skiffConfigForBed } from '../bed/skiff-config';

const run = promisify(execFile);

describe('skiff backup (CLI)', () => {
  let env: NodeJS.ProcessEnv;
  let namespace: string;
  let workDir: string;

  beforeAll(async () => {
    namespace = await freshNamespace('alpha', 'cli');
    await kubeConfigFor('alpha')
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({ namespace, body: { metadata: { name: 'app-config' }, data: { k: 'v' } } });
    const bucket = await freshBucket('cli');
    const config = skiffConfigForBed(bedState(), { bucket, apiToken: 'unused' });
    // alpha's credentials on a server nobody answers at: its backups fail.
    const alpha = config.clusters.find((c) => c.name === 'alpha')!;
    config.clusters.push({ ...alpha, name: 'unreachable', server: 'https://127.0.0.1:1' });
    // A schedule for --from-schedule; the scheduler never runs in this test.
    (config as { schedules?: unknown[] }).schedules = [
      { name: 'cli-nightly', cluster: 'alpha', schedule: '0 2 * * *', template: { includedNamespaces: [namespace], metadata: { labels: { team: 'night' } } }, ttl: '48h' },
    ];
    // Local mode from SKIFF_CONFIG; no server and no contexts file in the way.
    env = { ...process.env, SKIFF_CONFIG: JSON.stringify(config), SKIFF_CONFIG_FILE: '', SKIFF_SERVER: '', SKIFF_CONTEXT_FILE: '/nonexistent/skiff-contexts' };
    workDir = mkdtempSync(join(tmpdir(), 'skiff-cli-'));
    // bin/skiff.mjs runs the bundle in dist/cli/: rebuilt here so the test runs the
    // sources as they are, not what the last `npm ci` built.
    await run(process.execPath, ['scripts/build-cli.mjs'], { cwd: process.cwd() });
  });

  const skiff = (...args: string[]) => run('node', ['bin/skiff.mjs', 'backup', ...args], { env, cwd: process.cwd() });
  const gc = (...args: string[]) => run('node', ['bin/skiff.mjs', 'gc', ...args], { env, cwd: process.cwd() });
  const failureOf = (p: Promise<unknown>) => p.then(() => undefined, (error: { code: number; stdout: string; stderr: string }) => error);

  it('creates a backup here, then gets, describes, shows logs of and downloads it, saying it runs locally', async () => {
    const name = `cli-${namespace}`;
    const created = await skiff('create', name, '--cluster', 'alpha', '--include-namespaces', namespace, '--labels', 'team=cli');
    expect(created.stdout).toContain(`Backup request "${name}" submitted successfully.`);
    expect(created.stdout).toContain('Backup completed with status: Completed.');
    expect(created.stderr).toMatch(/^running locally with SKIFF_CONFIG\n/);
    // Logs only with --verbose: no JSON log line on stderr.
    expect(created.stderr).not.toContain('{"level"');

    const table = await skiff('get');
    expect(table.stdout).toMatch(/^NAME\s+STATUS\s+ERRORS\s+WARNINGS\s+CREATED\s+EXPIRES\s+STORAGE LOCATION\s+SELECTOR\s+CLUSTER\n/);
    expect(table.stdout).toMatch(new RegExp(`\\n${name}\\s+Completed\\s+0\\s+0\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d [+-]\\d{4} \\S+\\s+29d\\s+default\\s+<none>\\s+alpha`));
    expect((await skiff('get', '-l', 'team=cli')).stdout).toContain(name);
    expect((await skiff('get', '-l', 'team notin (cli)')).stdout).not.toContain(name);
    expect((await skiff('get', '--show-labels', name)).stdout).toMatch(/\salpha\s+skiff\.io\/cluster=alpha,team=cli,velero\.io\/storage-location=default$/m);
    expect(JSON.parse((await skiff('get', name, '-o', 'json')).stdout)).toMatchObject({ kind: 'Backup', metadata: { name } });

    const described = await skiff('describe', name);
    expect(described.stdout).toContain('\nPhase:  Completed\n');
    expect(described.stdout).toContain(`Namespaces:\n  Included:  ${namespace}\n`);
    expect(described.stdout).toContain('\nBackup Volumes:\n');
    expect(described.stdout).not.toContain('Resource List:');
    const detailed = await skiff('describe', name, '--details');
    expect(detailed.stdout).toContain(`Resource List:\n  v1/ConfigMap:\n    - ${namespace}/app-config`);
    const structured = JSON.parse((await skiff('describe', name, '-o', 'json')).stdout);
    expect(structured).toMatchObject({ metadata: { name }, phase: 'Completed', status: { backupVolumes: { podVolumeBackups: '<none included>' } } });
    expect((await skiff('describe', '-l', 'team=cli', '-o', 'yaml')).stdout).toContain(`name: ${name}`);

    const logs = await skiff('logs', name);
    expect(logs.stdout).toContain('backup completed');

    const file = join(workDir, 'backup.tar.gz');
    const downloaded = await skiff('download', name, '-o', file);
    expect(downloaded.stdout).toContain(`Backup ${name} has been successfully downloaded to ${file}`);
    const tar = gunzipSync(readFileSync(file)).toString('latin1');
    expect(tar).toContain(`resources/configmaps/namespaces/${namespace}/app-config.json`);

    writeFileSync(file, 'keep me');
    const refused = await failureOf(skiff('download', name, '-o', file));
    expect(refused).toMatchObject({ code: 2 });
    expect(refused!.stderr).toMatch(/already exists; remove it first or use --force\n$/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    await skiff('download', name, '-o', file, '--force');
    expect(gunzipSync(readFileSync(file)).length).toBeGreaterThan(0);
  });

  it('prints the Backup of create -o json and creates nothing', async () => {
    const name = `cli-print-${namespace}`.slice(0, 63);
    const printed = await skiff('create', name, '--cluster', 'alpha', '--snapshot-volumes=false', '-l', 'app in (a,b)', '-o', 'json');
    expect(JSON.parse(printed.stdout)).toMatchObject({ kind: 'Backup', spec: { snapshotVolumes: false, labelSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } } });
    expect(await failureOf(skiff('get', name))).toMatchObject({ code: 2 });
  });

  it('refuses an unknown --cluster on get, exit 2', async () => {
    const failure = await failureOf(skiff('get', '--cluster', 'nowhere'));
    expect(failure).toMatchObject({ code: 2 });
    expect(failure!.stderr).toMatch(/cluster "nowhere" not found/);
  });

  it('shows the log of a backup that failed, reason included and no secret, and names its phase when asked to download it', async () => {
    const name = `cli-failed-${namespace}`.slice(0, 63);
    const failure = await failureOf(skiff('create', name, '--cluster', 'unreachable'));
    expect(failure).toMatchObject({ code: 1 });
    expect(failure!.stdout).toContain('Backup completed with status: Failed.');

    const logs = await skiff('logs', name);
    expect(logs.stdout).toMatch(/level=error msg="backup failed: .*cannot reach API server https:\/\/127\.0\.0\.1:1/);
    const state = bedState();
    for (const secret of [state.clusters.alpha!.adminToken, state.minio.secretKey]) {
      if (logs.stdout.includes(secret) || logs.stderr.includes(secret)) throw new Error(`the log contains a secret (${secret.length} characters)`);
    }
    const nothing = await failureOf(skiff('download', name, '-o', join(workDir, 'failed.tar.gz')));
    expect(nothing).toMatchObject({ code: 2 });
    expect(nothing!.stderr).toMatch(/is Failed: there is nothing to download/);
  });

  it('stops a local run at its next checkpoint on Ctrl-C, and backup resume goes on to the end', async () => {
    const name = `cli-resume-${namespace}`.slice(0, 63);
    // The whole cluster: many resource types, so a checkpoint comes after the signal. No
    // snapshots: other files leave PVCs whose driver has no class, an error of a backup.
    const child = spawn('node', ['bin/skiff.mjs', 'backup', 'create', name, '--cluster', 'alpha', '--snapshot-volumes=false'], { env, cwd: process.cwd() });
    let stdout = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // One Ctrl-C: a second one quits at once.
      if (!interrupted && stdout.includes('Running it here')) interrupted = child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(stdout).toContain(`Backup "${name}" stopped in phase InProgress; run \`skiff backup resume ${name}\` to go on.`);

    const resumed = await skiff('resume', name);
    expect(resumed.stdout).toContain(`Resuming backup "${name}" here`);
    expect(resumed.stdout).toContain('Backup completed with status: Completed.');
    const file = join(workDir, 'resumed.tar.gz');
    await skiff('download', name, '-o', file);
    expect(gunzipSync(readFileSync(file)).toString('latin1')).toContain(`resources/configmaps/namespaces/${namespace}/app-config.json`);
    expect(await failureOf(skiff('resume', name))).toMatchObject({ code: 2 });
  });

  it("creates a backup from a schedule's template with --from-schedule, named and labelled as velero does", async () => {
    const created = await skiff('create', '--from-schedule', 'cli-nightly');
    const name = /Backup request "(cli-nightly-\d{14})" submitted successfully/.exec(created.stdout)?.[1];
    expect(name).toBeDefined();
    const backup = JSON.parse((await skiff('get', name!, '-o', 'json')).stdout);
    expect(backup.metadata.labels).toMatchObject({ 'velero.io/schedule-name': 'cli-nightly', team: 'night', 'skiff.io/cluster': 'alpha' });
    expect(backup.spec).toMatchObject({ includedNamespaces: [namespace], ttl: '48h0m0s' });
    expect(await failureOf(skiff('create', '--from-schedule', 'nope'))).toMatchObject({ code: 2 });
  });

  it('answers logs of an unknown backup as not found, exit code 2', async () => {
    const failure = await skiff('logs', 'no-such-backup').catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toMatch(/backup "no-such-backup" not found/);
  });

  it('says which field is wrong and exits 2 for bad input', async () => {
    const failure = await skiff('create', 'Bad_Name', '--cluster', 'alpha').catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toMatch(/name.*"Bad_Name"/);
  });

  it('deletes a backup: the plan without --confirm, Deleting with it, then gc plans and finishes it', async () => {
    const name = `cli-del-${namespace}`.slice(0, 63);
    await skiff('create', name, '--cluster', 'alpha', '--include-namespaces', namespace);

    const asked = await skiff('delete', name);
    expect(asked.stdout).toMatch(new RegExp(`^BACKUP\\s+CLUSTER\\s+OBJECT\\s+ACTION\\s+WHY`, 'm'));
    expect(asked.stdout).toMatch(new RegExp(`^${name}\\s+-\\s+backups/${name}/\\s+deleteBackupData`, 'm'));
    expect(asked.stderr).toContain('run again with --confirm');
    expect((await skiff('get', name)).stdout).toMatch(new RegExp(`\\n${name}\\s+Completed`));

    const confirmed = await skiff('delete', name, '--confirm');
    expect(confirmed.stdout).toContain('Phase:        Deleting');
    expect((await skiff('get', name)).stdout).toMatch(new RegExp(`\\n${name}\\s+Deleting`));

    const plan = await gc('--dry-run', '--location', 'default');
    expect(plan.stdout).toMatch(new RegExp(`^${name}\\s+-\\s+metadata/skiff/deleting/${name}\\.json\\s+deleteDeletionMarker`, 'm'));
    expect(plan.stdout).toMatch(new RegExp(`^${name}\\s+delete\\s+being deleted since`, 'm'));
    expect(plan.stdout).toMatch(/^BACKUP\s+VERDICT\s+WHY/m);
    expect((await skiff('get', name)).stdout).toContain('Deleting');

    const done = await gc('--location', 'default');
    expect(done.stdout).toContain(`Deleted: ${name}`);
    expect(await failureOf(skiff('get', name))).toMatchObject({ code: 2 });
  });

  it('deletes a backup here, to the end, with --confirm --wait', async () => {
    const name = `cli-wait-${namespace}`.slice(0, 63);
    await skiff('create', name, '--cluster', 'alpha', '--include-namespaces', namespace);
    const done = await skiff('delete', name, '--confirm', '--wait');
    expect(done.stdout).toMatch(new RegExp(`^${name}\\s+-\\s+backups/${name}/\\s+deleteBackupData\\s+done`, 'm'));
    expect(done.stdout).toContain(`Deleted: ${name}`);
    expect(await failureOf(skiff('get', name))).toMatchObject({ code: 2 });
  });

  it('answers an unknown backup or location on one line with exit code 2, and a bad command line too', async () => {
    const unknown = await failureOf(skiff('delete', 'no-such-backup', '--confirm'));
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown!.stderr).toMatch(/^running locally with SKIFF_CONFIG\nerror: backup "no-such-backup" not found[^\n]*\n$/);
    const location = await failureOf(gc('--dry-run', '--location', 'nowhere'));
    expect(location).toMatchObject({ code: 2 });
    expect(location!.stderr).toMatch(/^running locally with SKIFF_CONFIG\nerror: storage location "nowhere" not found[^\n]*\n$/);
    expect(await failureOf(gc('default'))).toMatchObject({ code: 2 });
  });
});
