import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ConfigError, NotFoundError, ValidationError } from '../../lib/core/errors';

/**
 * The client's contexts, like kubectl's kubeconfig: `$XDG_CONFIG_HOME/skiff/config`
 * (default `~/.config/skiff/config`), YAML:
 *
 *   current-context: prod
 *   contexts:
 *     - name: prod
 *       server: https://skiff.example.com
 *       tokenEnv: SKIFF_PROD_TOKEN       # or token: <inline, file mode 0600> or tokenCommand: "pass show skiff"
 *
 * The file is written with mode 0600 because it may hold a token.
 */

/** One place a client connects to, and how it finds its bearer token. */
export interface SkiffContext {
  name: string;
  server: string;
  token?: string;
  tokenEnv?: string;
  tokenCommand?: string;
}

export interface ContextFile {
  'current-context'?: string;
  contexts: SkiffContext[];
}

/** Where the contexts live: SKIFF_CONTEXT_FILE, else $XDG_CONFIG_HOME/skiff/config, else ~/.config/skiff/config. */
export function contextFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SKIFF_CONTEXT_FILE) return env.SKIFF_CONTEXT_FILE;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'skiff', 'config');
}

/** The contexts file, or an empty one when there is none. Throws a ConfigError naming the file when it does not parse. */
export function readContextFile(path: string = contextFilePath()): ContextFile {
  if (!existsSync(path)) return { contexts: [] };
  let parsed: unknown;
  try {
    parsed = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`the contexts file ${path} is not YAML: ${(error as Error).message}`);
  }
  const file = (parsed ?? {}) as Partial<ContextFile>;
  if (!Array.isArray(file.contexts ?? [])) throw new ConfigError(`the contexts file ${path}: "contexts" must be a list`);
  return { ...file, contexts: file.contexts ?? [] };
}

/** Writes the contexts file (mode 0600, folder 0700), replacing it whole. */
export function writeContextFile(file: ContextFile, path: string = contextFilePath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const staging = `${path}.tmp-${process.pid}`;
  writeFileSync(staging, stringify(file), { mode: 0o600 });
  chmodSync(staging, 0o600);
  renameSync(staging, path);
}

/** Adds or replaces a context and makes it current. Exactly one token source is allowed. */
export function addContext(context: SkiffContext, path: string = contextFilePath()): void {
  const sources = [context.token, context.tokenEnv, context.tokenCommand].filter((s) => s !== undefined);
  if (sources.length !== 1) {
    throw new ValidationError('context', [{ path: 'token', message: 'give exactly one of --token, --token-env or --token-command' }]);
  }
  try {
    new URL(context.server);
  } catch {
    throw new ValidationError('context', [{ path: '--server', message: `${JSON.stringify(context.server)} is not a URL; e.g. https://skiff.example.com` }]);
  }
  const file = readContextFile(path);
  const contexts = [...file.contexts.filter((c) => c.name !== context.name), stripUndefined(context)];
  writeContextFile({ ...file, 'current-context': context.name, contexts }, path);
}

/** Makes `name` the current context. 404 when there is no such context. */
export function useContext(name: string, path: string = contextFilePath()): void {
  const file = readContextFile(path);
  if (!file.contexts.some((c) => c.name === name)) throw new NotFoundError('context', name, `known: ${file.contexts.map((c) => c.name).join(', ') || 'none'}`);
  writeContextFile({ ...file, 'current-context': name }, path);
}

/** The context to use: `name`, else the current one; undefined when none is set. */
export function selectContext(file: ContextFile, name?: string): SkiffContext | undefined {
  const wanted = name ?? file['current-context'];
  if (wanted === undefined) return undefined;
  const context = file.contexts.find((c) => c.name === wanted);
  if (!context) throw new NotFoundError('context', wanted, `known: ${file.contexts.map((c) => c.name).join(', ') || 'none'}; add one with skiff context add`);
  return context;
}

/**
 * The bearer token of a context: inline, from an environment variable, or the output of
 * a command (run without a shell, split on spaces). Throws a ConfigError naming the
 * context when the source gives nothing; never puts the token in a message.
 */
export function contextToken(context: SkiffContext, path: string = contextFilePath(), env: NodeJS.ProcessEnv = process.env): string {
  if (context.token !== undefined) {
    warnIfReadable(path);
    return context.token;
  }
  if (context.tokenEnv !== undefined) {
    const token = env[context.tokenEnv];
    if (!token) throw new ConfigError(`context "${context.name}" reads its token from $${context.tokenEnv}, which is not set`);
    return token;
  }
  if (context.tokenCommand !== undefined) {
    const [command, ...args] = context.tokenCommand.split(' ').filter(Boolean);
    try {
      return execFileSync(command!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    } catch (error) {
      throw new ConfigError(`context "${context.name}": its token command failed: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new ConfigError(`context "${context.name}" has no token, tokenEnv or tokenCommand`);
}

function warnIfReadable(path: string): void {
  try {
    if ((statSync(path).mode & 0o077) !== 0) console.error(`warning: ${path} holds a token and others can read it; run chmod 600 ${path}`);
  } catch {
    // The file was read a moment ago; a stat failure changes nothing about the token.
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
