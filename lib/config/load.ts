import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type FieldIssue } from '../core/errors';
import { isSecretFieldName, redactText } from '../core/redact';
import { CONFIG_PARAMETER_ENV, CONFIG_SECRET_ENV, type ConfigText } from './remote-source';
import { configSchema, type SkiffConfig } from './schema';

/** Environment variables that locate the configuration. */
export const CONFIG_FILE_ENV = 'SKIFF_CONFIG_FILE';
export const CONFIG_INLINE_ENV = 'SKIFF_CONFIG';
/**
 * Override prefix: `SKIFF__storageLocations__default__bucket=b` sets `bucket` of the
 * storage location named "default". After an array, a segment picks the element by
 * its `name` (or by index when numeric). Values are read as YAML scalars.
 */
export const OVERRIDE_PREFIX = 'SKIFF__';

type Env = Record<string, string | undefined>;

/**
 * Reads the configuration once: `fetched` (the document read from SSM Parameter Store
 * or Secrets Manager by fetchConfigText), else the YAML file named by SKIFF_CONFIG_FILE
 * (a relative path is read from the working directory: on Lambda, the package), else
 * the YAML/JSON text in SKIFF_CONFIG, else embedded defaults; then the SKIFF__
 * overrides, then validates everything together. Throws ConfigError naming every wrong
 * field, what was found and what is allowed.
 */
export function loadConfig(env: Env = process.env, fetched?: ConfigText): SkiffConfig {
  const { raw, source } = fetched ? { raw: parseDocument(fetched.text, fetched.source), source: fetched.source } : readRawConfig(env);
  applyOverrides(raw, env);
  return validateConfig(raw, source);
}

export function validateConfig(raw: unknown, source: string): SkiffConfig {
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues.map(describeIssue);
  throw new ConfigError(
    `configuration from ${source} is invalid:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    issues,
  );
}

function readRawConfig(env: Env): { raw: Record<string, unknown>; source: string } {
  const remote = [CONFIG_PARAMETER_ENV, CONFIG_SECRET_ENV].find((name) => env[name]);
  if (remote && !env[CONFIG_FILE_ENV] && !env[CONFIG_INLINE_ENV]) {
    // Reading AWS is asynchronous: the functions do it at cold start (lib/runtime/config.ts).
    throw new ConfigError(`${remote} is set, but this reads only ${CONFIG_FILE_ENV} or ${CONFIG_INLINE_ENV}; name the configuration file with ${CONFIG_FILE_ENV}`);
  }
  const file = env[CONFIG_FILE_ENV];
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read configuration file ${file} (from ${CONFIG_FILE_ENV}): ${(error as Error).message}`);
    }
    return { raw: parseDocument(text, file), source: file };
  }
  const inline = env[CONFIG_INLINE_ENV];
  if (inline) return { raw: parseDocument(inline, CONFIG_INLINE_ENV), source: CONFIG_INLINE_ENV };
  return { raw: {}, source: 'embedded defaults' };
}

function parseDocument(text: string, source: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (error) {
    // The YAML parser's message names line and column but not values, so it is safe to show.
    throw new ConfigError(`${source} is not valid YAML: ${(error as Error).message}`);
  }
  if (typeof doc !== 'object' || Array.isArray(doc) || doc === null) {
    throw new ConfigError(`${source} must hold a mapping with clusters, storageLocations and defaults`);
  }
  return doc as Record<string, unknown>;
}

function applyOverrides(raw: Record<string, unknown>, env: Env): void {
  const names = Object.keys(env)
    .filter((name) => name.startsWith(OVERRIDE_PREFIX))
    .sort();
  for (const name of names) {
    const path = name.slice(OVERRIDE_PREFIX.length).split('__');
    if (path.some((segment) => segment === '')) {
      throw new ConfigError(`environment variable ${name}: empty path segment; use ${OVERRIDE_PREFIX}a__b__c`);
    }
    setPath(raw, path, parseScalar(env[name] ?? ''), name);
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown, variable: string): void {
  let node: unknown = target;
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1;
    if (Array.isArray(node)) {
      let index = /^\d+$/.test(segment) ? Number(segment) : node.findIndex((item) => item?.name === segment);
      if (index === -1) {
        // A new named element: created with its name so the override can complete it.
        node.push({ name: segment });
        index = node.length - 1;
      }
      if (last) node[index] = value;
      else node = node[index] ??= {};
      continue;
    }
    if (typeof node !== 'object' || node === null) {
      throw new ConfigError(`environment variable ${variable}: ${path.slice(0, i).join('.')} is not an object or list`);
    }
    const record = node as Record<string, unknown>;
    if (last) {
      record[segment] = value;
    } else {
      // Lists of named things are the norm in this configuration (clusters, storageLocations).
      record[segment] ??= isListField(segment) ? [] : {};
      node = record[segment];
    }
  }
}

const LIST_FIELDS = new Set(['clusters', 'storageLocations', 'schedules']);
function isListField(segment: string): boolean {
  return LIST_FIELDS.has(segment);
}

function parseScalar(text: string): unknown {
  try {
    const value = parseYaml(text);
    return value === null ? text : value;
  } catch {
    return text;
  }
}

function describeIssue(issue: z.core.$ZodIssue): FieldIssue {
  const path = issue.path.map(String).join('.');
  // A wrong value under a secret's name, or one that looks like a secret, is never echoed back.
  const secret = issue.path.some((segment) => isSecretFieldName(String(segment))) || looksSecret(issue.input);
  // Cross-field checks carry the whole document as input: only a plain value is worth showing.
  const crossField = issue.code === 'custom' && typeof issue.input === 'object' && issue.input !== null;
  const showsInput = !secret && 'input' in issue && issue.code !== 'unrecognized_keys' && !crossField;
  const found = showsInput ? describeFound(issue.input) : '';
  return { path, message: found ? `${issue.message} (found ${found})` : issue.message };
}

function looksSecret(input: unknown): boolean {
  return typeof input === 'string' && redactText(input) !== input;
}

function describeFound(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (typeof input === 'object' && input !== null) return Array.isArray(input) ? 'a list' : 'an object';
  const text = JSON.stringify(input);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
