import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/core/errors';
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

    expect(config.defaults).toEqual({ backupTTL: '720h0m0s', gcFrequency: '60m', csiSnapshotTimeout: '10m', maxDeletionsPerRun: 50 });
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

describe('loadConfig: schedules', () => {
  const withSchedules = (schedules: string) => `${validYaml}\nschedules:\n${schedules}`;

  it('reads schedules and fills their defaults', () => {
    const config = loadConfig({
      SKIFF_CONFIG_FILE: writeConfig(
        withSchedules(`
  - name: nightly
    cluster: alpha
    schedule: "0 2 * * *"
  - name: shop
    cluster: alpha
    schedule: "CRON_TZ=Europe/Berlin @every 6h"
    timeZone: America/New_York
    template: { includedNamespaces: [shop], ttl: 24h, metadata: { labels: { team: payments } } }
    ttl: 168h
    paused: true
    readiness: block
`),
      ),
    });

    expect(config.schedules).toEqual([
      { name: 'nightly', cluster: 'alpha', schedule: '0 2 * * *', timeZone: 'UTC', template: {}, paused: false, readiness: 'warn' },
      {
        name: 'shop',
        cluster: 'alpha',
        schedule: 'CRON_TZ=Europe/Berlin @every 6h',
        timeZone: 'America/New_York',
        template: { includedNamespaces: ['shop'], ttl: '24h', metadata: { labels: { team: 'payments' } } },
        ttl: '168h',
        paused: true,
        readiness: 'block',
      },
    ]);
  });

  it('names every wrong schedule field, with what is allowed', () => {
    const error = loadError({
      SKIFF_CONFIG_FILE: writeConfig(
        withSchedules(`
  - name: Nightly
    cluster: alpha
    schedule: "0 25 * * *"
    timeZone: Europe/Atlantis
    template:
      labelSelector: { matchLabels: { "-bad": x } }
      snapshotVolume: true
    ttl: forever
    pasued: true
  - name: ${'a'.repeat(49)}
    cluster: alpha
    schedule: "@every 30s"
`),
      ),
    });

    const byPath = Object.fromEntries(error.issues.map((i) => [i.path, i.message]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        'schedules.0',
        'schedules.0.name',
        'schedules.0.schedule',
        'schedules.0.timeZone',
        'schedules.0.template.labelSelector.matchLabels.-bad',
        'schedules.0.template.snapshotVolume',
        'schedules.0.ttl',
        'schedules.1.name',
        'schedules.1.schedule',
      ].sort(),
    );
    expect(byPath['schedules.0']).toMatch(/unknown field "pasued"; allowed: name, cluster, schedule, timeZone, template, ttl, paused/);
    expect(byPath['schedules.0.schedule']).toMatch(/^hour field "25": 25 is above 23; allowed: 0-23.* \(found "0 25 \* \* \*"\)$/);
    expect(byPath['schedules.0.timeZone']).toMatch(/"Europe\/Atlantis" is not an IANA time zone name/);
    expect(byPath['schedules.0.template.snapshotVolume']).toMatch(/unknown field "snapshotVolume" \(did you mean "snapshotVolumes"\?\)/);
    expect(byPath['schedules.0.template.labelSelector.matchLabels.-bad']).toMatch(/label key "-bad"/);
    expect(byPath['schedules.1.name']).toMatch(/at most 48 characters, so that "<name>-yyyyMMddHHmmss" is a valid backup name/);
    expect(byPath['schedules.1.schedule']).toMatch(/whole number of minutes, at least 1m/);
  });

  it('checks a template with Velero\'s cross-field rules, at the template\'s paths', () => {
    const error = loadError({
      SKIFF_CONFIG_FILE: writeConfig(
        withSchedules(`
  - name: nightly
    cluster: alpha
    schedule: "@daily"
    template:
      includedNamespaces: ["*", shop]
      excludedNamespaces: [Bad_Name]
      labelSelector: { matchLabels: { app: x } }
      orLabelSelectors: [{ matchLabels: { app: y } }]
`),
      ),
    });

    const byPath = Object.fromEntries(error.issues.map((i) => [i.path, i.message]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        'schedules.0.template.includedNamespaces',
        'schedules.0.template.excludedNamespaces',
        'schedules.0.template.orLabelSelectors',
      ].sort(),
    );
    expect(byPath['schedules.0.template.includedNamespaces']).toMatch(/'\*' means everything and must be the only item/);
  });

  it('refuses a template asking for work Skiff does not do, naming the field and why', () => {
    const error = loadError({
      SKIFF_CONFIG_FILE: writeConfig(
        withSchedules(`
  - name: nightly
    cluster: alpha
    schedule: "@daily"
    template:
      defaultVolumesToFsBackup: true
      snapshotMoveData: false
      hooks:
        resources:
          - name: freeze
            pre: [{ exec: { command: [fsfreeze, -f, /data], onError: Fail } }]
`),
      ),
    });

    const byPath = Object.fromEntries(error.issues.map((i) => [i.path, i.message]));
    expect(Object.keys(byPath).sort()).toEqual(['schedules.0.template.defaultVolumesToFsBackup', 'schedules.0.template.hooks.resources']);
    expect(byPath['schedules.0.template.hooks.resources']).toMatch(/Skiff does not run backup hooks/);
    expect(byPath['schedules.0.template.defaultVolumesToFsBackup']).toMatch(/node agent/);
  });

  it('reports schedules of unknown clusters, foreign storage locations and duplicate names', () => {
    const error = loadError({
      SKIFF_CONFIG_FILE: writeConfig(
        withSchedules(`
  - name: nightly
    cluster: gamma
    schedule: "@daily"
  - name: nightly
    cluster: alpha
    schedule: "@hourly"
    template: { storageLocation: elsewhere }
`),
      ),
    });

    expect(error.issues).toEqual([
      { path: 'schedules.1.name', message: 'duplicate name "nightly"' },
      { path: 'schedules.0.cluster', message: 'no cluster named "gamma"; defined: alpha' },
      {
        path: 'schedules.1.template.storageLocation',
        message: 'cluster "alpha" does not back up to "elsewhere"; allowed: default',
      },
    ]);
  });

  it('applies SKIFF__ overrides to a schedule by name', () => {
    const config = loadConfig({
      SKIFF_CONFIG_FILE: writeConfig(withSchedules(`  - { name: nightly, cluster: alpha, schedule: "@daily" }\n`)),
      SKIFF__schedules__nightly__paused: 'true',
      SKIFF__schedules__nightly__schedule: '0 3 * * *',
    });

    expect(config.schedules[0]).toMatchObject({ paused: true, schedule: '0 3 * * *' });
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

  it.each([
    ['a paused schedule', '{ name: nightly, cluster: alpha, schedule: "@daily", paused: true }', {}, /schedule "nightly" is paused: it starts no backups/],
    [
      'a schedule backing up to a ReadOnly location',
      '{ name: nightly, cluster: alpha, schedule: "@daily" }',
      { SKIFF__storageLocations__default__accessMode: 'ReadOnly' },
      /schedule "nightly" backs up to "default", which is ReadOnly: every backup it starts will fail/,
    ],
    [
      'a schedule that never fires',
      '{ name: nightly, cluster: alpha, schedule: "0 0 30 2 *" }',
      {},
      /schedule "nightly" \("0 0 30 2 \*"\) never fires/,
    ],
  ])('warns about %s', (_case, schedule, env, warning) => {
    const config = loadConfig({ SKIFF_CONFIG_FILE: writeConfig(`${validYaml}\nschedules: [${schedule}]\n`), ...env });

    expect(configWarnings(config)).toEqual(expect.arrayContaining([expect.stringMatching(warning)]));
  });

  it('has nothing to say about an active schedule of a writable location', () => {
    const config = loadConfig({
      SKIFF_CONFIG_FILE: writeConfig(`${validYaml}\nschedules: [{ name: nightly, cluster: alpha, schedule: "@daily" }]\n`),
    });

    expect(configWarnings(config).filter((w) => w.includes('schedule'))).toEqual([]);
  });
});

describe('loadConfig: features', () => {
  it.each([
    { yaml: '', expected: { enableAPIGroupVersions: false } },
    { yaml: 'features: {}', expected: { enableAPIGroupVersions: false } },
    { yaml: 'features: { enableAPIGroupVersions: true }', expected: { enableAPIGroupVersions: true } },
  ])('reads features ($yaml), off by default', ({ yaml, expected }) => {
    const config = loadConfig({ SKIFF_CONFIG_FILE: writeConfig(`${validYaml}\n${yaml}\n`) });

    expect(config.features).toEqual(expected);
  });

  it.each([
    { yaml: 'features: { enableAPIGroupVersions: "yes" }', path: 'features.enableAPIGroupVersions', message: 'must be true or false (found "yes")' },
    { yaml: 'features: { enableApiGroupVersions: true }', path: 'features', message: expect.stringContaining('enableApiGroupVersions') },
  ])('refuses $yaml, naming the field', ({ yaml, path, message }) => {
    const error = loadError({ SKIFF_CONFIG_FILE: writeConfig(`${validYaml}\n${yaml}\n`) });

    expect(error.issues).toEqual([{ path, message }]);
  });
});
