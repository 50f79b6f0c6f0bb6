import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/errors';
import { configWarnings, loadConfig } from '../../../lib/config';

const validYaml = `
clusters:
  - name: alpha
    server: https://127.0.0.1:6443
    auth: { token: { fromEnv: ALPHA_TOKEN } }
    storageLocations: [default]
storageLocations:
  - name: default
    bucket: skiff-backups
    endpoint: http://127.0.0.1:9000
    forcePathStyle: true
    credentials:
      accessKeyId: { fromEnv: S3_KEY }
      secretAccessKey: { fromEnv: S3_SECRET }
`;

function writeConfig(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'skiff-config-')), 'skiff.yaml');
  writeFileSync(file, text);
  return file;
}

function loadError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadConfig', () => {
  it('reads a valid file and fills Velero-like defaults', () => {
    const config = loadConfig({ SKIFF_CONFIG_FILE: writeConfig(validYaml) });

    expect(config.defaults).toEqual({ backupTTL: '720h0m0s', gcFrequency: '60m', csiSnapshotTimeout: '10m' });
    expect(config.storageLocations[0]).toMatchObject({
      region: 'us-east-1',
      accessMode: 'ReadWrite',
      refreshInterval: '1m',
    });
    expect(config.clusters[0]).toMatchObject({ qps: 50, burst: 100, insecureSkipTLSVerify: false });
  });

  it('runs on embedded defaults when no file is named, and says there is nothing to do', () => {
    const config = loadConfig({});

    expect(config.clusters).toEqual([]);
    expect(configWarnings(config)).toContain('no clusters are configured: there is nothing to back up');
  });

  it('applies SKIFF__ overrides by list element name and parses scalars', () => {
    const config = loadConfig({
      SKIFF_CONFIG_FILE: writeConfig(validYaml),
      SKIFF__storageLocations__default__bucket: 'other-bucket',
      SKIFF__storageLocations__default__accessMode: 'ReadOnly',
      SKIFF__clusters__alpha__qps: '5',
      SKIFF__defaults__backupTTL: '24h',
    });

    expect(config.storageLocations[0]).toMatchObject({ bucket: 'other-bucket', accessMode: 'ReadOnly' });
    expect(config.clusters[0]?.qps).toBe(5);
    expect(config.defaults.backupTTL).toBe('24h');
  });

  it('names every wrong field at once, with what was found and what is allowed', () => {
    const error = loadError({
      SKIFF_CONFIG_FILE: writeConfig(`
clusters:
  - name: Alpha_1
    server: ftp://x
    auth: { token: "s3cr3t-token-value" }
    storageLocations: [missing]
    qps: -1
storageLocations:
  - name: default
    bucket: UPPER
    bukcet: typo
    accessMode: WriteOnly
    refreshInterval: 5 minutes
defaults:
  backupTTL: forever
`),
    });

    const byPath = Object.fromEntries(error.issues.map((i) => [i.path, i.message]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        'clusters.0.name',
        'clusters.0.server',
        'clusters.0.qps',
        'storageLocations.0',
        'storageLocations.0.bucket',
        'storageLocations.0.accessMode',
        'storageLocations.0.refreshInterval',
        'defaults.backupTTL',
      ].sort(),
    );
    expect(byPath['clusters.0.name']).toMatch(/DNS-1123 label.*found "Alpha_1"/);
    expect(byPath['storageLocations.0']).toMatch(/unknown field "bukcet"; allowed: name, provider, bucket/);
    expect(byPath['storageLocations.0.accessMode']).toMatch(/ReadWrite.*ReadOnly.*found "WriteOnly"/);
    expect(byPath['defaults.backupTTL']).toMatch(/found "forever"/);
  });

  it('reports cross-references that do not resolve', () => {
    const error = loadError({
      SKIFF_CONFIG: `{clusters: [{name: a, server: "https://h", auth: {token: x}, storageLocations: [nowhere]}], storageLocations: [{name: s, bucket: bkt}]}`,
    });

    expect(error.issues).toEqual([
      { path: 'clusters.0.storageLocations.0', message: 'no storage location named "nowhere"; defined: s' },
    ]);
  });

  it.each([
    ['a bearer token', '{token: "s3cr3t-token-value"}', 's3cr3t-token-value'],
    ['a kubeconfig', '{kubeconfig: 12345678}', '12345678'],
  ])('never echoes %s back in an error', (_what, auth, secret) => {
    const error = loadError({
      SKIFF_CONFIG: `{clusters: [{name: "BAD", auth: ${auth}, storageLocations: []}]}`,
    });

    expect(error.message).not.toContain(secret);
    expect(JSON.stringify(error.issues)).not.toContain(secret);
  });

  it('says which file cannot be read', () => {
    expect(() => loadConfig({ SKIFF_CONFIG_FILE: '/nonexistent/skiff.yaml' })).toThrow(
      /cannot read configuration file \/nonexistent\/skiff.yaml/,
    );
  });

  it('says where YAML is broken', () => {
    expect(() => loadConfig({ SKIFF_CONFIG: 'clusters: [' })).toThrow(/SKIFF_CONFIG is not valid YAML/);
  });
});

describe('configWarnings', () => {
  it('says loudly when rediscovery is off and when backups would go to a read-only location', () => {
    const config = loadConfig({
      SKIFF_CONFIG_FILE: writeConfig(validYaml),
      SKIFF__storageLocations__default__refreshInterval: '0',
      SKIFF__storageLocations__default__accessMode: 'ReadOnly',
    });

    const warnings = configWarnings(config);

    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/rediscovery is OFF for storage location "default"/),
        expect.stringMatching(/cluster "alpha" backs up to "default", which is ReadOnly/),
      ]),
    );
  });
});
