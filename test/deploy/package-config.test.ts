import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { templateSecretPaths } from '../../lib/config/deploy-check';
import { repoRoot } from '../bed/paths';
import { runServerless } from './serverless';
import { unzip } from './zip';

/**
 * `serverless package` (which `serverless deploy` runs first) ships the configuration
 * without a secret or a local path in the CloudFormation template, and refuses, saying
 * what to do instead, a configuration that would put one there.
 */
const outputs: string[] = [];
afterAll(() => outputs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function packageWith(env: Record<string, string>, ...args: string[]) {
  const out = mkdtempSync(join(tmpdir(), 'skiff-package-'));
  outputs.push(out);
  const run = await runServerless(['package', '--package', out, ...args], env);
  return { ...run, out };
}

interface Template {
  Resources: Record<string, { Type: string; Properties: { Environment?: { Variables: Record<string, string> }; Policies?: { PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] } }[] } }>;
}

function template(out: string): { text: string; json: Template } {
  const text = readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8');
  return { text, json: JSON.parse(text) as Template };
}

function functionEnvironments(json: Template): Record<string, string>[] {
  return Object.values(json.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map((r) => r.Properties.Environment!.Variables);
}

/** Whether a function's bundle holds a package's code, from its source map. */
function bundles(out: string, fn: string, pkg: string): boolean {
  const entries = unzip(readFileSync(join(out, `${fn}.zip`)));
  const map = [...entries].find(([name]) => name.endsWith('.mjs.map'))![1];
  return (JSON.parse(map.toString('utf8')) as { sources: string[] }).sources.some((s) => s.includes(`node_modules/${pkg}/`));
}

/** No secret shape, and nothing that names this machine: the service directory, the home directory or the temporary directory. */
function expectNothingLocalOrSecret(text: string, json: Template): void {
  expect(templateSecretPaths(json)).toEqual([]);
  for (const local of [repoRoot, homedir(), tmpdir()]) expect(text, `template names ${local}`).not.toContain(local);
}

describe('serverless package: the configuration', () => {
  it('ships a configuration file named by relative path in every package, its name alone in the template', async () => {
    // Act
    const run = await packageWith({ SKIFF_CONFIG_FILE: 'test/deploy/skiff.yaml' }, '--param', 'bucketArns=arn:aws:s3:::skiff-backups,arn:aws:s3:::skiff-backups/*');

    // Assess
    expect(run.code, run.output).toBe(0);
    const { text, json } = template(run.out);
    expectNothingLocalOrSecret(text, json);
    expect(new Set(functionEnvironments(json).map((env) => env.SKIFF_CONFIG_FILE))).toEqual(new Set(['test/deploy/skiff.yaml']));
    const shipped = readFileSync(join(repoRoot, 'test/deploy/skiff.yaml'));
    for (const zip of readdirSync(run.out).filter((f) => f.endsWith('.zip'))) {
      expect(unzip(readFileSync(join(run.out, zip))).get('test/deploy/skiff.yaml'), `${zip} holds the configuration`).toEqual(shipped);
    }
    // No function names a parameter: the SSM client (~230 KB) stays out of the bundles.
    expect(bundles(run.out, 'healthz', '@aws-sdk/client-ssm')).toBe(false);
    const statements = json.Resources.IamRoleLambdaExecution!.Properties.Policies![0]!.PolicyDocument.Statement;
    expect(statements.find((s) => s.Action.includes('s3:PutObject'))?.Resource).toEqual(['arn:aws:s3:::skiff-backups', 'arn:aws:s3:::skiff-backups/*']);
  });

  it('names an SSM parameter in the template, and lets the functions read it and nothing else', async () => {
    // Act
    const run = await packageWith({ SKIFF_CONFIG_PARAMETER: '/skiff/prod/config' }, '--param', 'configParameterArns=arn:aws:ssm:eu-west-1:123456789012:parameter/skiff/prod/config');

    // Assess
    expect(run.code, run.output).toBe(0);
    const { text, json } = template(run.out);
    expectNothingLocalOrSecret(text, json);
    expect(new Set(functionEnvironments(json).map((env) => [env.SKIFF_CONFIG_PARAMETER, env.SKIFF_CONFIG, env.SKIFF_CONFIG_FILE].join('|')))).toEqual(new Set(['/skiff/prod/config||']));
    expect(bundles(run.out, 'healthz', '@aws-sdk/client-ssm')).toBe(true);
    const statements = json.Resources.IamRoleLambdaExecution!.Properties.Policies![0]!.PolicyDocument.Statement;
    expect(statements.filter((s) => s.Action.some((a) => a.startsWith('ssm:')))).toEqual([
      { Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: 'arn:aws:ssm:eu-west-1:123456789012:parameter/skiff/prod/config' },
    ]);
  });

  const S3_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const CLUSTER_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJza2lmZi1iYWNrdXAifQ.c2lnbmF0dXJl';
  it.each<[string, Record<string, string>, RegExp[]]>([
    [
      'an inline configuration holding S3 keys and a cluster token',
      {
        SKIFF_CONFIG: JSON.stringify({
          clusters: [{ name: 'prod', server: 'https://10.0.0.1:6443', auth: { token: CLUSTER_TOKEN }, storageLocations: ['default'] }],
          storageLocations: [{ name: 'default', bucket: 'skiff-backups', credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: S3_SECRET } }],
        }),
      },
      [
        /clusters\.0\.auth\.token is an inline secret, which would be stored in plain text; reference it instead/,
        /storageLocations\.0\.credentials\.secretAccessKey is an inline secret/,
        /SKIFF_CONFIG_PARAMETER, a SecureString/,
      ],
    ],
    [
      'a configuration file named by a path on this machine',
      { SKIFF_CONFIG_FILE: join(repoRoot, 'test/deploy/skiff.yaml') },
      [/SKIFF_CONFIG_FILE=\S+ names a path on this machine, which the functions do not have; keep the configuration in SSM Parameter Store/, /ship a file with the functions \(SKIFF_CONFIG_FILE=<path relative to the service directory>\)/],
    ],
  ])('refuses %s, saying what to do instead and showing no secret', async (_, env, messages) => {
    // Act
    const run = await packageWith(env);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('Skiff will not package this configuration');
    for (const message of messages) expect(run.output).toMatch(message);
    expect(run.output).not.toContain(S3_SECRET);
    expect(run.output).not.toContain(CLUSTER_TOKEN);
    expect(readdirSync(run.out)).toEqual([]);
  });
});

describe('serverless deploy function: the configuration', () => {
  it('refuses an inline secret before it updates a function, as package does', async () => {
    // Act
    const run = await runServerless(['deploy', 'function', '-f', 'healthz'], {
      SKIFF_CONFIG: JSON.stringify({ api: { hmacSecret: 'an-inline-webhook-secret' } }),
      AWS_ACCESS_KEY_ID: 'not-a-key',
      AWS_SECRET_ACCESS_KEY: 'not-a-secret',
    });

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/Skiff will not package this configuration:\n {2}- SKIFF_CONFIG \(written into the CloudFormation template\): api\.hmacSecret is an inline secret/);
    expect(run.output).not.toContain('an-inline-webhook-secret');
  });
});
