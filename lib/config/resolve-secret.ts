import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors';
import { rememberSecret } from '../core/redact';
import { describeSecretSource, type SecretValue } from './secret-value';

/** Reads one secret from AWS Secrets Manager; injected so tests and local runs need no AWS. */
export type SecretsManagerReader = (secretId: string) => Promise<string>;

export interface SecretSources {
  env?: Record<string, string | undefined>;
  secretsManager?: SecretsManagerReader;
}

/**
 * Turns a configured secret into its value, and remembers the value so that logs
 * redact it wherever it appears (lib/core/redact.ts). Errors name the source
 * (variable, file, secret id) and never the value.
 */
export async function resolveSecret(secret: SecretValue, sources: SecretSources = {}): Promise<string> {
  const value = await readSecret(secret, sources);
  rememberSecret(value);
  return value;
}

async function readSecret(secret: SecretValue, sources: SecretSources): Promise<string> {
  if (typeof secret === 'string') return secret;
  if ('fromEnv' in secret) {
    const value = (sources.env ?? process.env)[secret.fromEnv];
    if (!value) throw new ConfigError(`secret from env:${secret.fromEnv} is not set or empty`);
    return value;
  }
  if ('fromFile' in secret) {
    try {
      return (await readFile(secret.fromFile, 'utf8')).trim();
    } catch (error) {
      throw new ConfigError(`cannot read secret file ${secret.fromFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const reader = sources.secretsManager ?? defaultSecretsManagerReader;
  let text: string;
  try {
    text = await reader(secret.fromSecretsManager);
  } catch (error) {
    throw new ConfigError(`cannot read secret ${describeSecretSource(secret)}: ${(error as Error).name}`, [], { cause: error });
  }
  if (!secret.key) return text;
  let fields: unknown;
  try {
    fields = JSON.parse(text);
  } catch {
    throw new ConfigError(`secret ${describeSecretSource(secret)} is not JSON, so key "${secret.key}" cannot be read from it`);
  }
  const value = (fields as Record<string, unknown>)?.[secret.key];
  if (typeof value !== 'string' || value === '') {
    throw new ConfigError(`secret ${describeSecretSource(secret)} has no string field "${secret.key}"`);
  }
  return value;
}

async function defaultSecretsManagerReader(secretId: string): Promise<string> {
  // Loaded on first use: only deployments that keep secrets there pay for the client.
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (answer.SecretString === undefined) throw new Error('SecretBinaryNotSupported');
  return answer.SecretString;
}
