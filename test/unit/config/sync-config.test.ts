import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/core/errors';
import { configWarnings, validateConfig } from '../../../lib/config';

/** A configuration with one cluster whose `sync` field is `sync` (left out when undefined). */
function withSync(sync: unknown, refreshInterval = '1m') {
  return {
    clusters: [
      {
        name: 'alpha',
        server: 'https://127.0.0.1:6443',
        auth: { token: 't' },
        storageLocations: ['default'],
        ...(sync === undefined ? {} : { sync }),
      },
    ],
    storageLocations: [{ name: 'default', bucket: 'skiff-backups', refreshInterval }],
  };
}

function issuesOf(raw: unknown): string[] {
  try {
    validateConfig(raw, 'test');
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('Configuration: clusters[].sync', () => {
  it.each([
    ['left out', undefined, { mode: 'all', maxContentsPerRun: 500 }],
    ['only the mode', { mode: 'own' }, { mode: 'own', maxContentsPerRun: 500 }],
    ['only the cap', { maxContentsPerRun: 20 }, { mode: 'all', maxContentsPerRun: 20 }],
    ['none', { mode: 'none' }, { mode: 'none', maxContentsPerRun: 500 }],
  ])('accepts %s', (_, sync, expected) => {
    expect(validateConfig(withSync(sync), 'test').clusters[0]!.sync).toEqual(expected);
  });

  it.each([
    ['an unknown mode', { mode: 'some' }, /clusters\.0\.sync\.mode: must be "all" .*"own" .*"none"/],
    ['a cap of 0', { maxContentsPerRun: 0 }, /clusters\.0\.sync\.maxContentsPerRun: must be at least 1; use mode: none/],
    ['a fractional cap', { maxContentsPerRun: 2.5 }, /clusters\.0\.sync\.maxContentsPerRun: must be a whole number/],
    ['a misspelt field', { mod: 'all' }, /clusters\.0\.sync: unknown field "mod"; allowed: mode, maxContentsPerRun/],
  ])('refuses %s, naming the field', (_, sync, message) => {
    expect(issuesOf(withSync(sync))).toEqual([expect.stringMatching(message)]);
  });

  it('warns, saying what is lost, when rediscovery is off', () => {
    const warnings = configWarnings(validateConfig(withSync(undefined, '0'), 'test'));
    expect(warnings.filter((w) => w.includes("rediscovery"))).toEqual([expect.stringMatching(/rediscovery is OFF for storage location "default".*after a disaster/)]);
  });
});
