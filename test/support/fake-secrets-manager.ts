import { serveAwsJsonOperation } from './aws-json-service';

/**
 * A stand-in for AWS Secrets Manager on 127.0.0.1: it answers GetSecretValue in the
 * service's JSON protocol (POST, `X-Amz-Target: secretsmanager.GetSecretValue`) from
 * `secrets`, and with the service's 500 while `down`. It checks no signature.
 */
export interface FakeSecretsManager {
  /** `http://127.0.0.1:<port>`, for an SDK client's `endpoint`. */
  endpoint: string;
  /** Secret strings by SecretId; change one to rotate it. */
  secrets: Map<string, string>;
  /** While true, every call fails as an outage does (HTTP 500, InternalServiceError). */
  down: boolean;
  /** How many GetSecretValue calls arrived, failed ones included. */
  calls: number;
  close(): Promise<void>;
}

export async function startFakeSecretsManager(secrets: Record<string, string>): Promise<FakeSecretsManager> {
  const state = { secrets: new Map(Object.entries(secrets)), down: false, calls: 0 };
  const service = await serveAwsJsonOperation('secretsmanager.GetSecretValue', (body) => {
    state.calls++;
    if (state.down) return { status: 500, body: { __type: 'InternalServiceError', message: 'the service is unavailable' } };
    const { SecretId } = body as { SecretId: string };
    const value = state.secrets.get(SecretId);
    if (value === undefined) return { status: 400, body: { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." } };
    const secret = {
      ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SecretId}-AbCdEf`,
      Name: SecretId,
      SecretString: value,
      VersionId: `v${state.calls}`,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: Date.now() / 1000,
    };
    return { status: 200, body: secret };
  });
  return Object.assign(state, service);
}

/**
 * For tests of a deployed function whose API token lives in Secrets Manager: starts the
 * stand-in with `tokenId` = 'token-1', points the SDK and the function's configuration at
 * it (stubbed environment, one SDK attempt per call so an outage is seen at once), and
 * restores the environment, the timers and the stand-in after each test and at the end.
 * Import the function under test after calling it.
 */
export async function useFakeSecretsManagerForApiToken(
  tokenId: string,
  env: Record<string, string> = {},
): Promise<FakeSecretsManager> {
  const { afterAll, afterEach, vi } = await import('vitest');
  const secretsManager = await startFakeSecretsManager({ [tokenId]: 'token-1' });
  const stubs: Record<string, string> = {
    SKIFF_CONFIG_FILE: '',
    SKIFF_CONFIG: JSON.stringify({ api: { bearerTokens: [{ fromSecretsManager: tokenId }] } }),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local-key-id',
    AWS_SECRET_ACCESS_KEY: 'local-secret-key',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
    AWS_MAX_ATTEMPTS: '1',
    ...env,
  };
  for (const [name, value] of Object.entries(stubs)) vi.stubEnv(name, value);
  afterEach(() => {
    vi.useRealTimers();
    secretsManager.down = false;
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await secretsManager.close();
  });
  return secretsManager;
}
