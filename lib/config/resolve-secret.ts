import { readFile } from 'node:fs/promises';
import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { ConfigError } from '../core/errors';
import { rememberSecret } from '../core/redact';
import { describeSecretSource, type SecretValue } from './secret-value';

/**
 * Reads one secret's string from AWS Secrets Manager by id or ARN; throws the
 * service's error (AccessDeniedException, ResourceNotFoundException, ...).
 */
export type SecretsManagerReader = (secretId: string) => Promise<string>;

/**
 * How long a value read from Secrets Manager is used before it is read again, in
 * seconds: a rotated secret is in use within this, and a warm function does not ask
 * Secrets Manager on every request. A failed read is never kept.
 */
export const SECRET_MAX_AGE_SECONDS = 300;

export interface SecretsManagerReaderOptions {
  /** Defaults to Powertools' own provider, one SDK client per cold start. */
  provider?: Pick<SecretsProvider, 'get'>;
  /** Whole seconds; defaults to SECRET_MAX_AGE_SECONDS. */
  maxAgeSeconds?: number;
}

/**
 * A SecretsManagerReader through Powertools' SecretsProvider, which keeps each value
 * for `maxAgeSeconds`. A secret stored as binary is refused (SecretBinaryNotSupported).
 */
export function secretsManagerReader(options: SecretsManagerReaderOptions = {}): SecretsManagerReader {
  const maxAge = options.maxAgeSeconds ?? SECRET_MAX_AGE_SECONDS;
  return async (secretId) => {
    let value: unknown;
    try {
      value = options.provider
        ? await options.provider.get(secretId, { maxAge })
        : // Loaded on first use: only deployments that keep secrets there pay for the client.
          await (await import('@aws-lambda-powertools/parameters/secrets')).getSecret(secretId, { maxAge });
    } catch (error) {
      // Powertools wraps the service's error, whose name says what to fix.
      throw error instanceof Error && error.cause instanceof Error ? error.cause : error;
    }
    if (typeof value !== 'string') throw namedError(value === undefined ? 'SecretNotFound' : 'SecretBinaryNotSupported');
    return value;
  };
}

function namedError(name: string): Error {
  const error = new Error(name);
  error.name = name;
  return error;
}

export interface SecretSources {
  env?: Record<string, string | undefined>;
  secretsManager?: SecretsManagerReader;
}

/**
 * Turns a configured secret into its value, and remembers the value so that logs
 * redact it wherever it appears (lib/core/redact.ts). Throws ConfigError naming the
 * source (variable, file, secret id) and never the value. Secrets Manager values are
 * read through `sources.secretsManager`, by default a secretsManagerReader keeping
 * each for SECRET_MAX_AGE_SECONDS; files are read on every call.
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
  // Powertools' default provider keeps the values, so a reader made per call loses none.
  const reader = sources.secretsManager ?? secretsManagerReader();
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
