import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { ConfigError } from '../core/errors';
import { secretsManagerReader, type SecretsManagerReader } from './resolve-secret';

/**
 * Where a deployed Skiff reads its configuration document: an SSM Parameter Store
 * parameter (String or SecureString) or a Secrets Manager secret, named by the
 * function's environment, so neither the document nor the secrets it names sit in
 * the CloudFormation template or in Lambda's 4 KB of environment.
 */
export const CONFIG_PARAMETER_ENV = 'SKIFF_CONFIG_PARAMETER';
export const CONFIG_SECRET_ENV = 'SKIFF_CONFIG_SECRET';

/**
 * How long a configuration document read from AWS is kept before it is read again,
 * in seconds. Functions read it once per cold start; the cache keeps a burst of cold
 * starts in one process (tests, the CLI) to one request.
 */
export const CONFIG_MAX_AGE_SECONDS = 300;

/** The text of a configuration document and where it came from (for error messages). */
export interface ConfigText {
  text: string;
  /** e.g. `ssm:/skiff/prod/config` or `secretsmanager:skiff/prod/config`. */
  source: string;
}

/**
 * Reads one SSM parameter's value by name (decrypting a SecureString); throws the
 * service's error (ParameterNotFound, AccessDeniedException, ...).
 */
export type ParameterReader = (name: string) => Promise<string>;

export interface ParameterStoreReaderOptions {
  /** Defaults to Powertools' own provider, one SDK client per cold start. */
  provider?: Pick<SSMProvider, 'get'>;
  /** Whole seconds; defaults to CONFIG_MAX_AGE_SECONDS. */
  maxAgeSeconds?: number;
}

/**
 * A ParameterReader through Powertools' SSM provider, which keeps each value for
 * `maxAgeSeconds`. `name` may carry a version or label selector
 * (`/skiff/prod/config:3`), as GetParameter accepts.
 */
export function parameterStoreReader(options: ParameterStoreReaderOptions = {}): ParameterReader {
  const maxAge = options.maxAgeSeconds ?? CONFIG_MAX_AGE_SECONDS;
  return async (name) => {
    let value: unknown;
    try {
      value = options.provider
        ? await options.provider.get(name, { maxAge, decrypt: true })
        : await (await parameterStore!()).getParameter(name, { maxAge, decrypt: true });
    } catch (error) {
      // Powertools wraps the service's error, whose name says what to fix.
      throw error instanceof Error && error.cause instanceof Error ? error.cause : error;
    }
    if (typeof value !== 'string') {
      const error = new Error('ParameterNotFound');
      error.name = 'ParameterNotFound';
      throw error;
    }
    return value;
  };
}

/**
 * Powertools' SSM module, loaded on first use. The SSM client adds about 230 KB to a
 * function's bundle, so the build leaves it out when no function names a parameter:
 * plugins/skiff-deploy.mjs defines SKIFF_BUILD_WITHOUT_SSM, and the bundler drops the
 * branch that makes dead. Such a package refuses SKIFF_CONFIG_PARAMETER, saying why.
 */
const parameterStore: (() => Promise<typeof import('@aws-lambda-powertools/parameters/ssm')>) | undefined =
  process.env.SKIFF_BUILD_WITHOUT_SSM === 'true' ? undefined : () => import('@aws-lambda-powertools/parameters/ssm');

export interface RemoteConfigReaders {
  parameter?: ParameterReader;
  secret?: SecretsManagerReader;
}

type Env = Record<string, string | undefined>;

/**
 * Reads the configuration document named by SKIFF_CONFIG_PARAMETER or
 * SKIFF_CONFIG_SECRET; undefined when neither is set (the file or inline text is then
 * read by loadConfig). Throws ConfigError when both are set, or naming the parameter or
 * secret, the service's error and the permission the functions' role needs; never the
 * document's text.
 */
export async function fetchConfigText(env: Env = process.env, readers: RemoteConfigReaders = {}): Promise<ConfigText | undefined> {
  const parameter = env[CONFIG_PARAMETER_ENV];
  const secret = env[CONFIG_SECRET_ENV];
  if (parameter && secret) {
    throw new ConfigError(`set one of ${CONFIG_PARAMETER_ENV} and ${CONFIG_SECRET_ENV}, not both`);
  }
  if (parameter) {
    if (!readers.parameter && !parameterStore) {
      throw new ConfigError(`this package was built without SSM Parameter Store: set ${CONFIG_PARAMETER_ENV} when packaging, or use ${CONFIG_SECRET_ENV}`);
    }
    const read = readers.parameter ?? parameterStoreReader();
    return { text: await readOrExplain(() => read(parameter), `SSM parameter ${parameter} (${CONFIG_PARAMETER_ENV})`, 'ssm:GetParameter'), source: `ssm:${parameter}` };
  }
  if (secret) {
    const read = readers.secret ?? secretsManagerReader({ maxAgeSeconds: CONFIG_MAX_AGE_SECONDS });
    return { text: await readOrExplain(() => read(secret), `secret ${secret} (${CONFIG_SECRET_ENV})`, 'secretsmanager:GetSecretValue'), source: `secretsmanager:${secret}` };
  }
  return undefined;
}

async function readOrExplain(read: () => Promise<string>, what: string, permission: string): Promise<string> {
  try {
    return await read();
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const hint = /AccessDenied/.test(name) ? `; the functions' role needs ${permission} on it (see "Deploy to AWS" in the README)` : '';
    throw new ConfigError(`cannot read the configuration from ${what}: ${name}${hint}`, [], { cause: error });
  }
}
