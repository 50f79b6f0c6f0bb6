import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../cli/args';

describe('Module: cli/args', () => {
  it('reads a backup command, its name and its flags', () => {
    const line = parseCommandLine(['backup', 'create', 'shop-1', '--cluster', 'prod', '-o', 'json', '--no-wait']);
    expect(line).toMatchObject({ kind: 'backup', command: 'create', name: 'shop-1', flags: { cluster: 'prod', output: 'json', 'no-wait': true } });
  });

  it('answers --help and -h with the usage text, whatever else is on the line', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['backup', 'get', '-h'])).toEqual({ kind: 'help' });
  });

  it('turns an unknown flag, a missing or unknown command and a missing name into usage errors', () => {
    expect(parseCommandLine(['backup', 'get', '--bogus'])).toMatchObject({ kind: 'usage-error', message: expect.stringContaining("'--bogus'") });
    expect(parseCommandLine([])).toEqual({ kind: 'usage-error' });
    expect(parseCommandLine(['backup'])).toEqual({ kind: 'usage-error' });
    expect(parseCommandLine(['backup', 'frobnicate'])).toMatchObject({ kind: 'usage-error', message: 'unknown command "skiff backup frobnicate"' });
    expect(parseCommandLine(['backup', 'logs'])).toMatchObject({ kind: 'usage-error', message: expect.stringContaining('"skiff backup logs" needs a backup name') });
  });

  it.each([
    { args: ['cluster', 'rbac'], expected: { kind: 'cluster', command: 'rbac', name: undefined } },
    { args: ['cluster', 'readiness', 'prod', '-o', 'json'], expected: { kind: 'cluster', command: 'readiness', name: 'prod', flags: { output: 'json' } } },
    { args: ['cluster', 'readiness'], expected: { kind: 'usage-error', message: expect.stringContaining('needs a cluster name') } },
    { args: ['cluster', 'drain'], expected: { kind: 'usage-error', message: 'unknown command "skiff cluster drain"' } },
  ])('reads skiff $args', ({ args, expected }) => {
    expect(parseCommandLine(args)).toMatchObject(expected);
  });

  it.each([
    { args: ['schedule', 'get'], expected: { kind: 'schedule', command: 'get', name: undefined } },
    { args: ['schedule', 'get', 'nightly', '-o', 'json'], expected: { kind: 'schedule', command: 'get', name: 'nightly', flags: { output: 'json' } } },
    { args: ['schedule', 'describe', 'nightly'], expected: { kind: 'schedule', command: 'describe', name: 'nightly' } },
    { args: ['schedule', 'describe'], expected: { kind: 'usage-error', message: expect.stringContaining('"skiff schedule describe" needs a schedule name') } },
    { args: ['schedule', 'create'], expected: { kind: 'usage-error', message: 'unknown command "skiff schedule create"' } },
    { args: ['schedule', 'get', '--cluster', 'alpha'], expected: { kind: 'usage-error', message: '"skiff schedule get" takes only -o json (got --cluster)' } },
  ])('reads skiff $args', ({ args, expected }) => {
    expect(parseCommandLine(args)).toMatchObject(expected);
  });

  it('reads backup delete and gc with their flags, and refuses what they cannot take', () => {
    expect(parseCommandLine(['backup', 'delete', 'shop-1', '--confirm', '--wait'])).toMatchObject({ kind: 'backup', command: 'delete', name: 'shop-1', flags: { confirm: true, wait: true } });
    expect(parseCommandLine(['gc', '--dry-run', '--location', 'default'])).toMatchObject({ kind: 'gc', flags: { 'dry-run': true, location: 'default' } });
    expect(parseCommandLine(['backup', 'delete'])).toMatchObject({ kind: 'usage-error', message: expect.stringContaining('"skiff backup delete" needs a backup name') });
    expect(parseCommandLine(['backup', 'delete', 'shop-1', '--wait'])).toMatchObject({ kind: 'usage-error', message: expect.stringContaining('needs --confirm') });
    expect(parseCommandLine(['gc', 'default'])).toMatchObject({ kind: 'usage-error', message: expect.stringContaining('--location') });
  });

  it.each([
    [['restore', 'create', '--from-backup', 'b1', '--namespace-mappings', 'a:b'], { kind: 'restore', command: 'create', name: undefined, flags: { 'from-backup': 'b1', 'namespace-mappings': 'a:b' } }],
    [['restore', 'get'], { kind: 'restore', command: 'get', name: undefined }],
    [['restore', 'logs', 'r1'], { kind: 'restore', command: 'logs', name: 'r1' }],
    [['restore', 'create', 'r1'], { kind: 'usage-error', message: expect.stringContaining('--from-backup') }],
    [['restore', 'describe'], { kind: 'usage-error', message: expect.stringContaining('"skiff restore describe" needs a restore name') }],
    [['restore', 'undo'], { kind: 'usage-error', message: 'unknown command "skiff restore undo"' }],
  ])('reads the restore command line %j', (args, expected) => {
    expect(parseCommandLine(args)).toMatchObject(expected);
  });

  it('lets create and get go without a name', () => {
    expect(parseCommandLine(['backup', 'create', '--cluster', 'c'])).toMatchObject({ kind: 'backup', command: 'create', name: undefined });
    expect(parseCommandLine(['backup', 'get'])).toMatchObject({ kind: 'backup', command: 'get', name: undefined });
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
      env: { ...process.env, SKIFF_CONFIG: '', SKIFF_CONFIG_FILE: '' },
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

  it('prints the usage on stdout and exits 0 for --help and -h', () => {
    for (const flag of ['--help', '-h']) {
      const run = skiff(flag);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^usage: skiff backup <command>/);
      expect(run.stderr).toBe('');
    }
  });

  it('exits 2 with the error and the usage, and no stack trace, for usage errors', () => {
    for (const args of [['--bogus'], [], ['backup', 'frobnicate'], ['backup', 'describe']]) {
      const run = skiff(...args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toContain('usage: skiff backup <command>');
      noStackTrace(run.stderr);
    }
    expect(skiff('--bogus').stderr).toMatch(/^error: Unknown option '--bogus'/);
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
    expect(run.stderr).toMatch(/^error: configuration from SKIFF_CONFIG is invalid/);
    expect(run.stderr).toContain('storageLocations.0.bucket');
    noStackTrace(run.stderr);
  });
});

describe('Function: parseCommandLine (sync)', () => {
  it.each([
    [['sync', 'run'], { kind: 'sync', command: 'run' }],
    [['sync', 'run', '--location', 'default', '--cluster', 'beta', '--dry-run'], { kind: 'sync', command: 'run', flags: { location: 'default', cluster: 'beta', 'dry-run': true } }],
    [['sync', 'report', '-o', 'json'], { kind: 'sync', command: 'report', flags: { output: 'json' } }],
    [['sync', 'frob'], { kind: 'usage-error', message: 'unknown command "skiff sync frob"' }],
    [['sync', 'run', 'default'], { kind: 'usage-error', message: expect.stringContaining('takes no name') }],
    [['sync'], { kind: 'usage-error' }],
  ])('%j', (args, expected) => {
    expect(parseCommandLine(args)).toMatchObject(expected);
  });
});
