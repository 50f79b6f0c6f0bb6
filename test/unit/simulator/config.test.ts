import { describe, expect, it } from 'vitest';
import { ConfigStore, defaultConfig, parseConfigPatch } from '../../bed/simulator/config';
import { parseOptions } from '../../bed/simulator/options';

describe('config patches', () => {
  it('accepts any subset of the knobs', () => {
    expect(parseConfigPatch({ snapshotDelayMs: 500 })).toEqual({ ok: true, patch: { snapshotDelayMs: 500 } });
    expect(parseConfigPatch({})).toEqual({ ok: true, patch: {} });
  });

  it('refuses unknown fields, negative delays and broken patterns, naming each', () => {
    const result = parseConfigPatch({ provisionDelayMs: -1, failSnapshotsFor: '(', colour: 'red' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues.join('\n')).toMatch(/provisionDelayMs/);
      expect(result.issues.join('\n')).toMatch(/failSnapshotsFor: not a valid regular expression/);
      expect(result.issues.join('\n')).toMatch(/colour/);
    }
  });

  it('clears the failure pattern with null or an empty string', () => {
    const store = new ConfigStore({ ...defaultConfig, failSnapshotsFor: 'x' });
    store.update((parseConfigPatch({ failSnapshotsFor: '' }) as { patch: object }).patch);
    expect(store.current.failSnapshotsFor).toBeNull();
    store.update({ failSnapshotsFor: 'y' });
    store.update({ failSnapshotsFor: null });
    expect(store.current.failSnapshotsFor).toBeNull();
  });

  it.each([
    { input: { failDeletesFor: '^app/data$' }, patch: { failDeletesFor: '^app/data$' } },
    { input: { failDeletesFor: null }, patch: { failDeletesFor: null } },
    // An empty pattern would match every PVC: it clears instead.
    { input: { failDeletesFor: '' }, patch: { failDeletesFor: null } },
    { input: { failDeletesFor: 'x', failSnapshotsFor: 'y' }, patch: { failDeletesFor: 'x', failSnapshotsFor: 'y' } },
  ])('accepts failDeletesFor $input.failDeletesFor', ({ input, patch }) => {
    expect(parseConfigPatch(input)).toEqual({ ok: true, patch });
  });

  it.each([
    { value: '(', issue: 'failDeletesFor: not a valid regular expression' },
    { value: '[a-', issue: 'failDeletesFor: not a valid regular expression' },
    { value: 42, issue: 'failDeletesFor: ' },
    { value: ['x'], issue: 'failDeletesFor: ' },
  ])('refuses failDeletesFor $value, naming the field', ({ value, issue }) => {
    const result = parseConfigPatch({ failDeletesFor: value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.join('\n')).toContain(issue);
  });

  it.each([
    { start: { failDeletesFor: 'x' }, patch: { failDeletesFor: null }, expected: { failDeletesFor: null } },
    { start: { failDeletesFor: 'x' }, patch: { failDeletesFor: 'y' }, expected: { failDeletesFor: 'y' } },
    // The two patterns are separate knobs: setting one leaves the other.
    { start: { failSnapshotsFor: 'x' }, patch: { failDeletesFor: 'y' }, expected: { failSnapshotsFor: 'x', failDeletesFor: 'y' } },
    { start: {}, patch: { deleteDelayMs: 5 }, expected: { failDeletesFor: null } },
  ])('updates failDeletesFor from $start with $patch', ({ start, patch, expected }) => {
    const store = new ConfigStore({ ...defaultConfig, ...start });
    store.update(patch);
    expect(store.current).toMatchObject(expected);
  });

  it('updates only the given knobs', () => {
    const store = new ConfigStore();
    store.update({ deleteDelayMs: 100 });
    store.update({ snapshotDelayMs: 5 });
    expect(store.current).toEqual({ ...defaultConfig, deleteDelayMs: 100, snapshotDelayMs: 5 });
  });
});

describe('failSnapshotsFor', () => {
  it('matches the PVC name or namespace/name', () => {
    const store = new ConfigStore({ ...defaultConfig, failSnapshotsFor: '^data-' });
    expect(store.snapshotFails({ namespace: 'app', name: 'data-0' })).toBe(true);
    expect(store.snapshotFails({ namespace: 'app', name: 'logs-0' })).toBe(false);
    store.update({ failSnapshotsFor: '^prod/' });
    expect(store.snapshotFails({ namespace: 'prod', name: 'logs-0' })).toBe(true);
    expect(store.snapshotFails({ namespace: 'dev', name: 'logs-0' })).toBe(false);
    expect(store.snapshotFails(undefined)).toBe(false);
  });
});

describe('failDeletesFor', () => {
  const claim = (namespace: string, name: string) => ({ namespace, name });

  it.each([
    { pattern: '^data-', claim: claim('app', 'data-0'), fails: true },
    { pattern: '^data-', claim: claim('app', 'logs-0'), fails: false },
    { pattern: '^prod/', claim: claim('prod', 'logs-0'), fails: true },
    { pattern: '^prod/', claim: claim('dev', 'logs-0'), fails: false },
    { pattern: '^app/data$', claim: claim('app', 'data'), fails: true },
    { pattern: '^app/data$', claim: claim('app', 'data-1'), fails: false },
    { pattern: '^app/data$', claim: undefined, fails: false },
    { pattern: null, claim: claim('app', 'data'), fails: false },
  ])('$pattern on $claim: fails $fails', ({ pattern, claim, fails }) => {
    const store = new ConfigStore({ ...defaultConfig, failDeletesFor: pattern });
    expect(store.deleteFails(claim)).toBe(fails);
  });

  it.each([
    { config: { failDeletesFor: '^app/' }, deleteFails: true, snapshotFails: false },
    { config: { failSnapshotsFor: '^app/' }, deleteFails: false, snapshotFails: true },
  ])('is separate from failSnapshotsFor ($config)', ({ config, deleteFails, snapshotFails }) => {
    const store = new ConfigStore({ ...defaultConfig, ...config });
    expect(store.deleteFails(claim('app', 'data'))).toBe(deleteFails);
    expect(store.snapshotFails(claim('app', 'data'))).toBe(snapshotFails);
  });

  it('reads the pattern current at each call, not the one at start', () => {
    const store = new ConfigStore({ ...defaultConfig, failDeletesFor: '^app/' });
    expect(store.deleteFails(claim('app', 'data'))).toBe(true);
    store.update({ failDeletesFor: null });
    expect(store.deleteFails(claim('app', 'data'))).toBe(false);
  });
});

describe('command line', () => {
  it('reads the bed contract', () => {
    const options = parseOptions(['--port', '7001', '--cluster', 'alpha=/k/a', '--cluster', 'beta=/k/b=c']);
    expect(options).toMatchObject({
      port: 7001,
      clusters: [
        { name: 'alpha', kubeconfig: '/k/a' },
        { name: 'beta', kubeconfig: '/k/b=c' },
      ],
      config: defaultConfig,
      resyncMs: 2000,
    });
  });

  it('takes starting delays and a failure pattern', () => {
    const options = parseOptions([
      '--port=1',
      '--cluster=a=/x',
      '--provision-delay-ms=10',
      '--snapshot-delay-ms=20',
      '--delete-delay-ms=30',
      '--fail-snapshots-for=^bad',
      '--fail-deletes-for=^stuck',
    ]);
    expect(options.config).toEqual({
      provisionDelayMs: 10,
      snapshotDelayMs: 20,
      deleteDelayMs: 30,
      failSnapshotsFor: '^bad',
      failDeletesFor: '^stuck',
    });
  });

  it.each([
    { flag: '--fail-deletes-for=', expected: null },
    { flag: '--fail-deletes-for=^app/data$', expected: '^app/data$' },
  ])('reads $flag', ({ flag, expected }) => {
    expect(parseOptions(['--port=1', '--cluster=a=/x', flag]).config.failDeletesFor).toBe(expected);
  });

  it('refuses a broken --fail-deletes-for, naming the field', () => {
    expect(() => parseOptions(['--port=1', '--cluster=a=/x', '--fail-deletes-for=('])).toThrow(
      /invalid flags: failDeletesFor: not a valid regular expression/,
    );
  });

  it('refuses a missing port, no clusters, bad cluster specs and duplicates', () => {
    expect(() => parseOptions(['--cluster', 'a=/x'])).toThrow(/--port/);
    expect(() => parseOptions(['--port', '1'])).toThrow(/--cluster/);
    expect(() => parseOptions(['--port', '1', '--cluster', 'a'])).toThrow(/<name>=<kubeconfig>/);
    expect(() => parseOptions(['--port', '1', '--cluster', 'a=/x', '--cluster', 'a=/y'])).toThrow(/distinct/);
    expect(() => parseOptions(['--port', '1', '--cluster', 'a=/x', '--delete-delay-ms', 'soon'])).toThrow(/integer/);
    expect(() => parseOptions(['--port', '1', '--cluster', 'a=/x', '--bogus'])).toThrow();
  });
});
