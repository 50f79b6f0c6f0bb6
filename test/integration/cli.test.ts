import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
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
    env = { ...process.env, SKIFF_CONFIG: JSON.stringify(config) };
    workDir = mkdtempSync(join(tmpdir(), 'skiff-cli-'));
    // bin/skiff.mjs runs the bundle in dist/cli/: rebuilt here so the test runs the
    // sources as they are, not what the last `npm ci` built.
    await run(process.execPath, ['scripts/build-cli.mjs'], { cwd: process.cwd() });
  });

  const skiff = (...args: string[]) => run('node', ['bin/skiff.mjs', 'backup', ...args], { env, cwd: process.cwd() });
  const gc = (...args: string[]) => run('node', ['bin/skiff.mjs', 'gc', ...args], { env, cwd: process.cwd() });
  const failureOf = (p: Promise<unknown>) => p.then(() => undefined, (error: { code: number; stdout: string; stderr: string }) => error);

  it('creates a backup, then gets, describes, shows logs of and downloads it', async () => {
    const name = `cli-${namespace}`;
    const created = await skiff('create', name, '--cluster', 'alpha', '--include-namespaces', namespace, '-o', 'json');
    expect(JSON.parse(created.stdout).status).toMatchObject({ phase: 'Completed' });

    const table = await skiff('get');
    expect(table.stdout).toMatch(new RegExp(`^NAME\\s+STATUS[\\s\\S]*\\n${name}\\s+Completed`));

    const described = await skiff('describe', name);
    expect(described.stdout).toContain('\nPhase:  Completed\n');
    expect(described.stdout).toContain(`Namespaces:\n  Included:  ${namespace}\n`);
    expect(described.stdout).toContain('\nBackup Volumes:\n');
    expect(described.stdout).not.toContain('Resource List:');
    const detailed = await skiff('describe', name, '--details');
    expect(detailed.stdout).toContain(`Resource List:\n  v1/ConfigMap:\n    - ${namespace}/app-config`);
    const structured = JSON.parse((await skiff('describe', name, '-o', 'json')).stdout);
    expect(structured).toMatchObject({ metadata: { name }, phase: 'Completed', status: { backupVolumes: { podVolumeBackups: '<none included>' } } });

    const logs = await skiff('logs', name);
    expect(logs.stdout).toContain('backup completed');

    const file = join(workDir, 'backup.tar.gz');
    await skiff('download', name, '--file', file);
    const tar = gunzipSync(readFileSync(file)).toString('latin1');
    expect(tar).toContain(`resources/configmaps/namespaces/${namespace}/app-config.json`);
  });

  it('shows the log of a backup that failed, reason included and no secret', async () => {
    const name = `cli-failed-${namespace}`.slice(0, 63);
    const failure = await skiff('create', name, '--cluster', 'unreachable', '-o', 'json').catch((error: { code: number; stdout: string }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect(JSON.parse((failure as { stdout: string }).stdout).status).toMatchObject({ phase: 'Failed' });

    const logs = await skiff('logs', name);
    expect(logs.stdout).toMatch(/level=error msg="backup failed: .*cannot reach API server https:\/\/127\.0\.0\.1:1/);
    const state = bedState();
    for (const secret of [state.clusters.alpha!.adminToken, state.minio.secretKey]) {
      if (logs.stdout.includes(secret) || logs.stderr.includes(secret)) throw new Error(`the log contains a secret (${secret.length} characters)`);
    }
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
    await skiff('create', name, '--cluster', 'alpha', '--include-namespaces', namespace, '-o', 'json');

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
    await skiff('create', name, '--cluster', 'alpha', '--include-namespaces', namespace, '-o', 'json');
    const done = await skiff('delete', name, '--confirm', '--wait');
    expect(done.stdout).toMatch(new RegExp(`^${name}\\s+-\\s+backups/${name}/\\s+deleteBackupData\\s+done`, 'm'));
    expect(done.stdout).toContain(`Deleted: ${name}`);
    expect(await failureOf(skiff('get', name))).toMatchObject({ code: 2 });
  });

  it('answers an unknown backup or location on one line with exit code 2, and a bad command line with the usage', async () => {
    const unknown = await failureOf(skiff('delete', 'no-such-backup', '--confirm'));
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown!.stderr).toMatch(/^error: backup "no-such-backup" not found[^\n]*\n$/);
    const location = await failureOf(gc('--dry-run', '--location', 'nowhere'));
    expect(location).toMatchObject({ code: 2 });
    expect(location!.stderr).toMatch(/^error: storage location "nowhere" not found[^\n]*\n$/);
    expect(await failureOf(gc('default'))).toMatchObject({ code: 2 });
  });
});
