import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { secretsManagerReader, type ApiConfig } from '../../../lib/config';
import { ConfigError } from '../../../lib/core/errors';
import { apiCredentialsSource } from '../../../lib/http/auth';
import { startFakeSecretsManager } from '../../support/fake-secrets-manager';

const secretsManager = await startFakeSecretsManager({
  'skiff/api-token': 'sm-token-1',
  'skiff/api': JSON.stringify({ token: 'sm-json-token', hmac: 'sm-hmac-secret' }),
});
afterEach(() => {
  vi.useRealTimers();
  secretsManager.down = false;
});
afterAll(() => secretsManager.close());

/** API credentials read from the local Secrets Manager, each value kept `maxAgeSeconds`. */
function source(api: ApiConfig, maxAgeSeconds = 1) {
  const provider = new SecretsProvider({
    clientConfig: {
      endpoint: secretsManager.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local-key-id', secretAccessKey: 'local-secret-key' },
      maxAttempts: 1,
    },
  });
  return apiCredentialsSource(api, { secretsManager: secretsManagerReader({ provider, maxAgeSeconds }) });
}

describe('Function: apiCredentialsSource', () => {
  it('reads the credentials again after a failed read, naming the secret and not its value', async () => {
    // Prepare
    const credentials = source({ bearerTokens: [{ fromSecretsManager: 'skiff/api-token' }] });
    secretsManager.down = true;
    const failure = await credentials().catch((error: unknown) => error);

    // Act
    secretsManager.down = false;
    const read = await credentials();

    // Assess
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toBe('cannot read secret secretsmanager:skiff/api-token: InternalServiceError');
    expect(read).toEqual({ bearerTokens: ['sm-token-1'] });
  });

  it('keeps a value for its max age, then reads the rotated one', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'], now: new Date() });
    const credentials = source({ bearerTokens: [{ fromSecretsManager: 'skiff/api-token' }] }, 1);
    expect(await credentials()).toEqual({ bearerTokens: ['sm-token-1'] });
    secretsManager.secrets.set('skiff/api-token', 'sm-token-2');
    const calls = secretsManager.calls;
    expect(await credentials()).toEqual({ bearerTokens: ['sm-token-1'] });
    expect(secretsManager.calls).toBe(calls);

    // Act
    vi.setSystemTime(Date.now() + 1_500);
    const rotated = await credentials();

    // Assess
    expect(rotated).toEqual({ bearerTokens: ['sm-token-2'] });
  });

  it('reads fields of a JSON secret, and a file on every call', async () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'skiff-token-')), 'token');
    writeFileSync(file, 'file-token-1\n');
    const credentials = source({
      bearerTokens: [{ fromSecretsManager: 'skiff/api', key: 'token' }, { fromFile: file }],
      hmacSecret: { fromSecretsManager: 'skiff/api', key: 'hmac' },
    });
    expect(await credentials()).toEqual({ bearerTokens: ['sm-json-token', 'file-token-1'], hmacSecret: 'sm-hmac-secret' });

    // Act
    writeFileSync(file, 'file-token-2\n');
    const rotated = await credentials();

    // Assess
    expect(rotated.bearerTokens).toEqual(['sm-json-token', 'file-token-2']);
  });
});
