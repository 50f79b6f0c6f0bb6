import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../cli/args';

describe('Module: cli/args', () => {
  it('reads a backup command, its name and its flags', () => {
    const line = parseCommandLine(['backup', 'create', 'shop-1', '--cluster', 'prod', '-w', '--ttl', '72h']);
    expect(line).toMatchObject({ kind: 'backup', command: 'create', name: 'shop-1', flags: { cluster: 'prod', wait: true, ttl: '72h' } });
  });

  it('answers --help and -h on every command with that command\'s help', () => {
    expect(parseCommandLine(['--help'])).toMatchObject({ kind: 'help', text: expect.stringMatching(/^Usage: skiff /) });
    for (const args of [['backup', '-h'], ['backup', 'get', '-h'], ['backup', 'create', '--help'], ['restore', 'create', '-h'], ['sync', 'run', '-h'], ['context', 'add', '-h']]) {
      expect(parseCommandLine(args), args.join(' ')).toMatchObject({ kind: 'help', text: expect.stringContaining(`Usage: skiff ${args.filter((a) => !a.startsWith('-')).join(' ')}`) });
    }
  });

  it.each([
    [['backup', 'get', '--bogus'], "unknown option '--bogus' (see 'skiff backup get --help')"],
    [[], '"skiff" needs a command'],
    [['backup'], '"skiff backup" needs a command: create, get, describe, logs, download, resume, delete'],
    [['backup', 'frobnicate'], "unknown command 'frobnicate'"],
    [['backup', 'logs'], "missing required argument 'name'"],
    [['backup', 'describe'], 'needs backup names or -l/--selector'],
    [['backup', 'get', '-o', 'xml'], "argument 'xml' is invalid"],
    [['backup', 'delete', 'shop-1', '--wait'], 'needs --confirm'],
    [['gc', 'default'], 'too many arguments'],
    [['restore', 'create', 'r1'], "'--from-backup <backup>' not specified"],
    [['completion', 'tcsh'], 'bash, zsh and fish'],
  ])('turns %j into a one-line usage error', (args, message) => {
    const line = parseCommandLine(args);
    expect(line).toMatchObject({ kind: 'usage-error', message: expect.stringContaining(message) });
    expect((line as { message: string }).message).not.toContain('\n');
  });

  it.each([
    [['--snapshot-volumes'], true],
    [['--snapshot-volumes=true'], true],
    [['--snapshot-volumes=True'], true],
    [['--snapshot-volumes=1'], true],
    [['--snapshot-volumes=t'], true],
    [['--snapshot-volumes=false'], false],
    [['--snapshot-volumes=False'], false],
    [['--snapshot-volumes=0'], false],
    [['--snapshot-volumes=f'], false],
    [[], undefined],
  ])('reads the optional bool %j as velero does', (flag, expected) => {
    const line = parseCommandLine(['backup', 'create', 'b', '--cluster', 'c', ...flag]);
    expect(line).toMatchObject({ kind: 'backup' });
    expect((line as { flags: { snapshotVolumes?: boolean } }).flags.snapshotVolumes).toBe(expected);
  });

  it.each(['maybe', 'yes', '', 'TRUE!'])('refuses --include-cluster-resources=%j naming the flag', (value) => {
    expect(parseCommandLine(['backup', 'create', `--include-cluster-resources=${value}`])).toMatchObject({
      kind: 'usage-error',
      message: expect.stringContaining('--include-cluster-resources'),
    });
  });

  it('takes a bare optional bool followed by a word as the switch and a name, as pflag does', () => {
    expect(parseCommandLine(['backup', 'create', '--snapshot-volumes', 'b1'])).toMatchObject({ name: 'b1', flags: { snapshotVolumes: true } });
  });

  it.each([
    { args: ['cluster', 'rbac'], expected: { kind: 'cluster', command: 'rbac', name: undefined } },
    { args: ['cluster', 'readiness', 'prod', '-o', 'json'], expected: { kind: 'cluster', command: 'readiness', name: 'prod', flags: { output: 'json' } } },
    { args: ['cluster', 'readiness'], expected: { kind: 'usage-error', message: expect.stringContaining("missing required argument 'cluster'") } },
    { args: ['backup', 'delete', 'shop-1', '--confirm', '--wait'], expected: { kind: 'backup', command: 'delete', name: 'shop-1', flags: { confirm: true, wait: true } } },
    { args: ['gc', '--dry-run', '--location', 'default'], expected: { kind: 'gc', flags: { dryRun: true, location: 'default' } } },
    { args: ['restore', 'create', '--from-backup', 'b1', '--namespace-mappings', 'a:b'], expected: { kind: 'restore', command: 'create', flags: { fromBackup: 'b1', namespaceMappings: 'a:b', noWait: false } } },
    { args: ['restore', 'create', '--from-backup', 'b1', '--no-wait', '--restore-volumes=false'], expected: { kind: 'restore', flags: { noWait: true, restoreVolumes: false } } },
    { args: ['restore', 'logs', 'r1'], expected: { kind: 'restore', command: 'logs', name: 'r1' } },
    { args: ['backup', 'describe', 'a', 'b'], expected: { kind: 'backup', command: 'describe', names: ['a', 'b'] } },
    { args: ['backup', 'get', '-l', 'app=x', '--show-labels', '-L', 'team', '-o', 'wide'], expected: { kind: 'backup', flags: { selector: 'app=x', showLabels: true, labelColumns: ['team'], output: 'wide' } } },
    { args: ['backup', 'download', 'b1', '-o', 'f.tgz', '--force'], expected: { kind: 'backup', command: 'download', flags: { output: 'f.tgz', force: true } } },
    { args: ['--server', 'http://x', 'backup', 'get', '--verbose'], expected: { kind: 'backup', flags: { server: 'http://x', verbose: true } } },
    { args: ['sync', 'run', '--location', 'default', '--cluster', 'beta', '--dry-run'], expected: { kind: 'sync', command: 'run', flags: { location: 'default', cluster: 'beta', dryRun: true } } },
    { args: ['sync', 'report', '-o', 'json'], expected: { kind: 'sync', command: 'report', flags: { output: 'json' } } },
    { args: ['context', 'add', 'prod', '--server', 'https://s', '--token-env', 'T'], expected: { kind: 'context', command: 'add', name: 'prod', flags: { server: 'https://s', tokenEnv: 'T' } } },
  ])('reads skiff $args', ({ args, expected }) => {
    expect(parseCommandLine(args)).toMatchObject(expected);
  });

  it.each([
    { args: ['schedule', 'get'], expected: { kind: 'schedule', command: 'get', name: undefined } },
    { args: ['schedule', 'get', 'nightly', '-o', 'json'], expected: { kind: 'schedule', command: 'get', name: 'nightly', flags: { output: 'json' } } },
    { args: ['schedule', 'describe', 'nightly'], expected: { kind: 'schedule', command: 'describe', name: 'nightly' } },
    { args: ['schedule', 'describe'], expected: { kind: 'usage-error', message: expect.stringContaining("missing required argument 'name'") } },
    { args: ['schedule', 'create'], expected: { kind: 'usage-error', message: expect.stringContaining("unknown command 'create'") } },
    { args: ['schedule', 'get', '--cluster', 'alpha'], expected: { kind: 'usage-error', message: expect.stringContaining("unknown option '--cluster'") } },
  ])('reads skiff $args', ({ args, expected }) => {
    expect(parseCommandLine(args)).toMatchObject(expected);
  });
});

/**
 * The built command line, as users run it: scripts/build-cli.mjs bundles it into a
 * temporary folder (and fails if its entry would load the AWS SDK or the Kubernetes
 * client), then each case starts it in a process of its own.
 */
describe('The built CLI (scripts/build-cli.mjs)', () => {
  let outdir: string;
  const skiff = (...args: string[]) =>
    spawnSync(process.execPath, [join(outdir, 'skiff.mjs'), ...args], {
      encoding: 'utf8',
      // No configuration: usage paths must not need one.
      env: { ...process.env, SKIFF_CONFIG: '', SKIFF_CONFIG_FILE: '', SKIFF_SERVER: '', XDG_CONFIG_HOME: outdir, SKIFF_CONTEXT_FILE: '' },
      timeout: 30_000,
    });
  const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at /m);

  beforeAll(() => {
    outdir = join(mkdtempSync(join(tmpdir(), 'skiff-cli-build-')), 'cli');
    const build = spawnSync(process.execPath, ['scripts/build-cli.mjs', '--outdir', outdir], { encoding: 'utf8', timeout: 120_000 });
    expect(build.stderr).toContain('loaded at start');
    expect(build.status).toBe(0);
  }, 120_000);

  afterAll(() => {
    if (outdir) rmSync(join(outdir, '..'), { recursive: true, force: true });
  });

  it('prints the help on stdout and exits 0 for --help and -h, on every command', () => {
    for (const args of [['--help'], ['-h'], ['backup', 'create', '-h'], ['backup', 'get', '--help'], ['cluster', 'readiness', '-h']]) {
      const run = skiff(...args);
      expect(run.status, args.join(' ')).toBe(0);
      expect(run.stdout).toMatch(/^Usage: skiff/);
      expect(run.stderr).toBe('');
    }
  });

  it('exits 2 with the error on one line, and no stack trace, for usage errors (the crashes of the issue included)', () => {
    for (const args of [['--bogus'], [], ['backup', 'frobnicate'], ['backup', 'describe'], ['backup', 'create', '--snapshot-volumes=maybe'], ['backup', 'get', '-o', 'xml']]) {
      const run = skiff(...args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(/^error: [^\n]+\n$/);
      noStackTrace(run.stderr);
    }
    expect(skiff('--bogus').stderr).toMatch(/^error: unknown option '--bogus'/);
  });

  it('names both ways to reach Skiff, exit 2, when neither is set up', () => {
    const run = spawnSync(process.execPath, [join(outdir, 'skiff.mjs'), 'backup', 'get'], {
      encoding: 'utf8',
      env: { ...process.env, SKIFF_CONFIG: '', SKIFF_CONFIG_FILE: '', SKIFF_SERVER: '', XDG_CONFIG_HOME: outdir, SKIFF_CONTEXT_FILE: '' },
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^error: no Skiff to talk to: .*SKIFF_SERVER.*--local.*SKIFF_CONFIG_FILE[^\n]*\n$/);
  });

  it('prints the Backup of create -o yaml without creating it, with no Skiff to talk to', () => {
    const run = skiff('backup', 'create', 'b1', '--cluster', 'alpha', '-l', 'app in (a,b),!legacy', '--snapshot-volumes=false', '-o', 'yaml');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('kind: Backup');
    expect(run.stdout).toContain('operator: DoesNotExist');
    expect(run.stdout).toContain('snapshotVolumes: false');
  });

  it('prints completion scripts for bash, zsh and fish, and the version', () => {
    expect(skiff('completion', 'bash').stdout).toContain('complete -F _skiff skiff');
    expect(skiff('completion', 'zsh').stdout).toMatch(/^#compdef skiff/);
    expect(skiff('completion', 'fish').stdout).toContain("complete -c skiff -n '__fish_seen_subcommand_from backup' -a create");
    expect(skiff('version').stdout).toMatch(/^Client:\n\tVersion: \d+\.\d+\.\d+/);
  });

  it('prints the client version even when the server does not answer, with the error and exit 1', () => {
    const run = spawnSync(process.execPath, [join(outdir, 'skiff.mjs'), 'version'], {
      encoding: 'utf8',
      env: { ...process.env, SKIFF_CONFIG: '', SKIFF_CONFIG_FILE: '', SKIFF_SERVER: 'http://127.0.0.1:1', SKIFF_TOKEN: 't', XDG_CONFIG_HOME: outdir },
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^Client:\n\tVersion: \d+\.\d+\.\d+\n\nServer:\n\tError: cannot reach Skiff at http:\/\/127\.0\.0\.1:1/);
    noStackTrace(run.stderr);
  });

  it('prints the RBAC manifest, byte for byte, without configuration', () => {
    const run = skiff('cluster', 'rbac');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(readFileSync('deploy/rbac/skiff-remote.yaml', 'utf8'));
  });

  it("loads a command's chunk and reports a bad configuration without a stack trace", () => {
    const run = spawnSync(process.execPath, [join(outdir, 'skiff.mjs'), 'backup', 'get'], {
      encoding: 'utf8',
      env: { ...process.env, SKIFF_CONFIG: '{"storageLocations":[{"name":"d","bucket":"b"}]}', SKIFF_CONFIG_FILE: '' },
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^running locally with SKIFF_CONFIG\nerror: configuration from SKIFF_CONFIG is invalid/);
    expect(run.stderr).toContain('storageLocations.0.bucket');
    noStackTrace(run.stderr);
  });
});
