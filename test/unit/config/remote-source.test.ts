import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fetchConfigText, loadConfig, parameterStoreReader } from '../../../lib/config';
import { ConfigError } from '../../../lib/core/errors';
import { startFakeParameterStore } from '../../support/fake-parameter-store';

/** The configuration read from SSM Parameter Store through Powertools and the SDK, against a local stand-in. */
const CONFIG = `
storageLocations:
  - name: default
    bucket: skiff-backups
    region: eu-west-1
`;
const store = await startFakeParameterStore({ '/skiff/test/config': CONFIG });
afterAll(() => store.close());

function reader(maxAgeSeconds = 300) {
  const provider = new SSMProvider({
    clientConfig: {
      endpoint: store.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local-key-id', secretAccessKey: 'local-secret-key' },
      maxAttempts: 1,
    },
  });
  return parameterStoreReader({ provider, maxAgeSeconds });
}

async function fetchError(env: Record<string, string>, read = reader()): Promise<ConfigError> {
  const error = await fetchConfigText(env, { parameter: read }).catch((e: unknown) => e);
  if (error instanceof ConfigError) return error;
  throw new Error(`expected a ConfigError, got ${String(error)}`);
}

describe('Function: fetchConfigText', () => {
  it('reads the parameter decrypted, and loadConfig validates what it read', async () => {
    // Act
    const text = await fetchConfigText({ SKIFF_CONFIG_PARAMETER: '/skiff/test/config' }, { parameter: reader() });
    const config = loadConfig({}, text);

    // Assess
    expect(text?.source).toBe('ssm:/skiff/test/config');
    expect(store.requests.at(-1)).toEqual({ Name: '/skiff/test/config', WithDecryption: true });
    expect(config.storageLocations.map((l) => [l.name, l.bucket, l.region, l.credentials])).toEqual([['default', 'skiff-backups', 'eu-west-1', undefined]]);
  });

  it('asks the service once within the max age', async () => {
    // Prepare
    const read = reader(60);
    const before = store.requests.length;

    // Act
    await fetchConfigText({ SKIFF_CONFIG_PARAMETER: '/skiff/test/config' }, { parameter: read });
    await fetchConfigText({ SKIFF_CONFIG_PARAMETER: '/skiff/test/config' }, { parameter: read });

    // Assess
    expect(store.requests.length - before).toBe(1);
  });

  it.each([
    ['a missing parameter', '/skiff/missing', /SSM parameter \/skiff\/missing \(SKIFF_CONFIG_PARAMETER\): ParameterNotFound$/],
    ['a parameter the role may not read', '/skiff/denied', /AccessDeniedException; the functions' role needs ssm:GetParameter on it/],
  ])('names %s and the service error', async (_, name, message) => {
    // Prepare
    store.denied.add('/skiff/denied');

    // Act
    const error = await fetchError({ SKIFF_CONFIG_PARAMETER: name });

    // Assess
    expect(error.message).toMatch(message);
  });

  it('refuses a parameter and a secret together', async () => {
    // Act
    const error = await fetchError({ SKIFF_CONFIG_PARAMETER: '/skiff/test/config', SKIFF_CONFIG_SECRET: 'skiff/config' });

    // Assess
    expect(error.message).toBe('set one of SKIFF_CONFIG_PARAMETER and SKIFF_CONFIG_SECRET, not both');
  });

  it('reads nothing when neither is set', async () => {
    // Act
    const text = await fetchConfigText({ SKIFF_CONFIG_FILE: 'skiff.yaml' }, { parameter: reader() });

    // Assess
    expect(text).toBeUndefined();
  });
});

describe('Function: fetchConfigText in a package built without SSM', () => {
  it('says so instead of failing to load the client', async () => {
    // Prepare: what the bundler's define makes of the build flag.
    vi.stubEnv('SKIFF_BUILD_WITHOUT_SSM', 'true');
    vi.resetModules();
    const { fetchConfigText: fetchInPackage } = await import('../../../lib/config/remote-source');
    vi.unstubAllEnvs();

    // Act
    const error = await fetchInPackage({ SKIFF_CONFIG_PARAMETER: '/skiff/test/config' }).catch((e: unknown) => e);

    // Assess
    expect((error as Error).message).toBe(
      'this package was built without SSM Parameter Store: set SKIFF_CONFIG_PARAMETER when packaging, or use SKIFF_CONFIG_SECRET',
    );
  });
});

describe('Function: loadConfig with a configuration kept in AWS', () => {
  it('says that it reads only a file or inline text when a parameter is named but was not read', () => {
    // Act
    const load = () => loadConfig({ SKIFF_CONFIG_PARAMETER: '/skiff/test/config' });

    // Assess
    expect(load).toThrow(/SKIFF_CONFIG_PARAMETER is set, but this reads only SKIFF_CONFIG_FILE or SKIFF_CONFIG/);
  });
});
