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
    ]);
    expect(options.config).toEqual({ provisionDelayMs: 10, snapshotDelayMs: 20, deleteDelayMs: 30, failSnapshotsFor: '^bad' });
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
