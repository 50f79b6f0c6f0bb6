import { isAbsolute, normalize } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../core/errors';
import { redactText } from '../core/redact';
import { CONFIG_FILE_ENV, CONFIG_INLINE_ENV, validateConfig } from './load';
import { CONFIG_PARAMETER_ENV, CONFIG_SECRET_ENV } from './remote-source';
import type { SkiffConfig } from './schema';
import type { SecretValue } from './secret-value';

/**
 * What `serverless package` (and so `serverless deploy`) checks before it writes a
 * template: that the configuration reaches the functions without a secret in the
 * CloudFormation template or the package, without a path that exists only on the
 * deployer's machine, within Lambda's environment limit, and readable by the
 * functions' role. Pure: the serverless plugin (plugins/skiff-deploy.mjs) gathers the
 * inputs and refuses the package when a problem is found.
 */

/** Lambda's limit on a function's environment: all names and values together, in bytes. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/** Absolute paths a function may read: a Lambda layer (/opt) or a mounted file system (/mnt). */
const LAMBDA_PATH = /^\/(opt|mnt)\//;

const DO_INSTEAD =
  `keep the configuration in SSM Parameter Store (${CONFIG_PARAMETER_ENV}=/skiff/<stage>/config, a SecureString) or ` +
  `Secrets Manager (${CONFIG_SECRET_ENV}=skiff/<stage>/config), or ship a file with the functions ` +
  `(${CONFIG_FILE_ENV}=<path relative to the service directory>)`;

export interface Deployment {
  /** Each function's environment as the template will hold it, by function name. */
  environments: Record<string, Record<string, string>>;
  /** Resources of the role's statements that allow ssm:GetParameter (ARN patterns with `*`). */
  readableParameters: string[];
  /** Resources of the role's statements that allow secretsmanager:GetSecretValue. */
  readableSecrets: string[];
  /** A file of the service directory by relative path; undefined when there is none. */
  readServiceFile(path: string): string | undefined;
  /** Whether an absolute path exists on the deployer's machine. */
  existsLocally(path: string): boolean;
}

export interface DeploymentCheck {
  /** What is wrong and what to do instead; empty when the package may be written. */
  problems: string[];
  /** Files of the service directory (relative paths) the functions read: ship them in every package. */
  filesToShip: string[];
}

/** Checks a deployment's configuration as described above; never includes a secret's value in a problem. */
export function checkDeployment(deployment: Deployment): DeploymentCheck {
  const problems = new Set<string>();
  const files = new Set<string>();
  const byFunction = new Map<string, string[]>();
  for (const [fn, env] of Object.entries(deployment.environments)) {
    for (const problem of environmentProblems(env, deployment)) byFunction.set(problem, [...(byFunction.get(problem) ?? []), fn]);
    const sources = [CONFIG_PARAMETER_ENV, CONFIG_SECRET_ENV, CONFIG_FILE_ENV, CONFIG_INLINE_ENV].filter((name) => env[name]);
    if (sources.length > 1) problems.add(`set one of ${sources.join(', ')}, not ${sources.length}`);
    const parameter = env[CONFIG_PARAMETER_ENV];
    if (parameter) parameterProblem(parameter, deployment).forEach((p) => problems.add(p));
    const secret = env[CONFIG_SECRET_ENV];
    if (secret && !readable(secretArn(secret), deployment.readableSecrets)) problems.add(notReadable(`secret ${secret} (${CONFIG_SECRET_ENV})`, 'secretArns'));
    const file = env[CONFIG_FILE_ENV];
    if (file) {
      const where = `${CONFIG_FILE_ENV}=${file}`;
      const problem = shippedPathProblem(file, where);
      const text = problem ? undefined : deployment.readServiceFile(file);
      if (problem) problems.add(`${problem}; ${DO_INSTEAD}`);
      else if (text === undefined) problems.add(`${where}: no such file in the service directory; ${DO_INSTEAD}`);
      else {
        files.add(normalize(file));
        const doc = documentProblems(text, `the configuration file ${file} (shipped in every function's package)`, deployment);
        doc.problems.forEach((p) => problems.add(p));
        doc.files.forEach((f) => files.add(f));
      }
    }
    const inline = env[CONFIG_INLINE_ENV];
    if (inline) {
      const doc = documentProblems(inline, `${CONFIG_INLINE_ENV} (written into the CloudFormation template)`, deployment);
      doc.problems.forEach((p) => problems.add(p));
      doc.files.forEach((f) => files.add(f));
    }
  }
  const all = Object.keys(deployment.environments).length;
  const environment = [...byFunction].map(([problem, fns]) => `${fns.length === all ? 'every function' : `function ${fns.join(', ')}`}: ${problem}`);
  return { problems: [...environment, ...problems], filesToShip: [...files].sort() };
}

/**
 * A function's environment: within Lambda's limit, and no value that looks secret or
 * names a local path (the configuration's own variables are checked field by field).
 */
function environmentProblems(env: Record<string, string>, deployment: Deployment): string[] {
  const problems: string[] = [];
  const bytes = Object.entries(env).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (bytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
    problems.push(`the environment takes ${bytes} bytes, over Lambda's limit of ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}; ${DO_INSTEAD}`);
  }
  for (const [name, value] of Object.entries(env)) {
    if (name === CONFIG_INLINE_ENV || name === CONFIG_FILE_ENV) continue;
    if (redactText(value) !== value) {
      problems.push(`environment variable ${name} holds what looks like a secret (a token, key or kubeconfig), which the CloudFormation template would show in plain text; put it in Secrets Manager and reference it from the configuration`);
    } else if (isAbsolute(value) && !LAMBDA_PATH.test(value) && deployment.existsLocally(value)) {
      problems.push(`environment variable ${name} names ${value}, a path on this machine that the functions do not have`);
    }
  }
  return problems;
}

function parameterProblem(parameter: string, deployment: Deployment): string[] {
  if (!parameter.startsWith('/')) {
    return [`${CONFIG_PARAMETER_ENV}=${parameter}: name the parameter by its full path, starting with "/" (e.g. /skiff/prod/config)`];
  }
  // A version or label selector (`/skiff/prod/config:3`) is not part of the parameter's ARN.
  const name = parameter.replace(/:[^/:]+$/, '');
  return readable(`arn:aws:ssm:*:*:parameter${name}`, deployment.readableParameters)
    ? []
    : [notReadable(`SSM parameter ${name} (${CONFIG_PARAMETER_ENV})`, 'configParameterArns')];
}

function notReadable(what: string, param: string): string {
  return `the functions' role may not read ${what}; pass its ARN with --param ${param}=<arn> (see "Deploy to AWS" in the README)`;
}

/** A secret's ARN for a name (Secrets Manager appends a 6-character suffix), or the ARN given. */
function secretArn(secret: string): string {
  return secret.startsWith('arn:') ? secret : `arn:aws:secretsmanager:*:*:secret:${secret}-XXXXXX`;
}

/**
 * Whether an IAM resource pattern list covers `arn`. Region and account are not
 * known before deployment and match anything; service and resource must match, with
 * IAM's `*` and `?` wildcards.
 */
function readable(arn: string, patterns: readonly string[]): boolean {
  const [, , service, , , ...resource] = arn.split(':');
  return patterns.some((pattern) => {
    if (pattern === '*') return true;
    const [, , patternService, , , ...patternResource] = pattern.split(':');
    return patternService === service && wildcard(patternResource.join(':')).test(resource.join(':'));
  });
}

function wildcard(pattern: string): RegExp {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

/** A path the functions read: relative to the package, or on a layer or file system. */
function shippedPathProblem(path: string, where: string): string | undefined {
  if (isAbsolute(path) || path.startsWith('~')) {
    return LAMBDA_PATH.test(path) ? undefined : `${where} names a path on this machine, which the functions do not have`;
  }
  if (normalize(path).startsWith('..')) return `${where} names a path outside the service directory, which is not shipped`;
  return undefined;
}

/** The problems of one configuration document and the relative files it needs shipped. */
function documentProblems(text: string, where: string, deployment: Deployment): { problems: string[]; files: string[] } {
  let config: SkiffConfig;
  try {
    config = validateConfig(parseYaml(text) ?? {}, where);
  } catch (error) {
    // The YAML parser names line and column; validation never echoes a secret.
    return { problems: [error instanceof ConfigError ? error.message : `${where} is not valid YAML: ${(error as Error).message}`], files: [] };
  }
  const problems: string[] = [];
  const files: string[] = [];
  for (const [path, secret] of secretFields(config)) {
    if (typeof secret === 'string') {
      problems.push(
        `${where}: ${path} is an inline secret, which would be stored in plain text; reference it instead ` +
          `({fromSecretsManager: skiff/<name>, key?}), or keep the whole configuration in SSM Parameter Store ` +
          `(${CONFIG_PARAMETER_ENV}, a SecureString) or Secrets Manager (${CONFIG_SECRET_ENV})`,
      );
    } else if ('fromEnv' in secret) {
      problems.push(`${where}: ${path} reads environment variable ${secret.fromEnv}, whose value a deployment writes into the CloudFormation template; use {fromSecretsManager: skiff/<name>} instead`);
    } else if ('fromFile' in secret && !LAMBDA_PATH.test(secret.fromFile)) {
      problems.push(`${where}: ${path} reads the file ${secret.fromFile}, which the functions do not have (only /opt, a layer, and /mnt, a file system, are); use {fromSecretsManager: skiff/<name>} instead`);
    } else if ('fromSecretsManager' in secret && !readable(secretArn(secret.fromSecretsManager), deployment.readableSecrets)) {
      problems.push(notReadable(`secret ${secret.fromSecretsManager} (${path})`, 'secretArns'));
    }
  }
  config.clusters.forEach((cluster, i) => {
    if (!cluster.caFile) return;
    const problem = shippedPathProblem(cluster.caFile, `${where}: clusters.${i}.caFile`);
    if (problem) problems.push(`${problem}; give the CA as caData, or as a path relative to the service directory`);
    else if (isAbsolute(cluster.caFile)) return;
    else if (deployment.readServiceFile(cluster.caFile) === undefined) problems.push(`${where}: clusters.${i}.caFile: no such file in the service directory`);
    else files.push(normalize(cluster.caFile));
  });
  return { problems, files };
}

/** Every secret of a configuration with its field path, e.g. `clusters.0.auth.token`. */
function secretFields(config: SkiffConfig): [string, SecretValue][] {
  const fields: [string, SecretValue][] = [];
  config.api.bearerTokens.forEach((token, i) => fields.push([`api.bearerTokens.${i}`, token]));
  if (config.api.hmacSecret) fields.push(['api.hmacSecret', config.api.hmacSecret]);
  config.clusters.forEach((cluster, i) => {
    const auth = cluster.auth;
    if ('kubeconfig' in auth) fields.push([`clusters.${i}.auth.kubeconfig`, auth.kubeconfig]);
    if ('token' in auth) fields.push([`clusters.${i}.auth.token`, auth.token]);
    if ('clientCertificate' in auth) {
      fields.push([`clusters.${i}.auth.clientCertificate.cert`, auth.clientCertificate.cert]);
      fields.push([`clusters.${i}.auth.clientCertificate.key`, auth.clientCertificate.key]);
    }
  });
  config.storageLocations.forEach((location, i) => {
    const credentials = location.credentials;
    if (!credentials) return;
    fields.push([`storageLocations.${i}.credentials.accessKeyId`, credentials.accessKeyId]);
    fields.push([`storageLocations.${i}.credentials.secretAccessKey`, credentials.secretAccessKey]);
    if (credentials.sessionToken) fields.push([`storageLocations.${i}.credentials.sessionToken`, credentials.sessionToken]);
  });
  return fields;
}

/**
 * The paths (`Resources.X.Properties...`) of the strings in a compiled CloudFormation
 * template that look like a secret (bearer tokens, JWTs, private keys, kubeconfigs:
 * what lib/core/redact.ts redacts): the last check before a template is written.
 */
export function templateSecretPaths(template: unknown, path = ''): string[] {
  if (typeof template === 'string') return redactText(template) === template ? [] : [path || '(root)'];
  if (typeof template !== 'object' || template === null) return [];
  return Object.entries(template).flatMap(([key, value]) => templateSecretPaths(value, path ? `${path}.${key}` : key));
}
