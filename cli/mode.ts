import { SkiffError, ValidationError } from '../lib/core/errors';
import type { CliFlags } from './args';
import { ApiClient } from './client/api-client';

/**
 * How a command reaches Skiff:
 * - client mode: the HTTP API of a deployed Skiff, with a bearer token. No cluster or
 *   S3 credentials on this machine. From --server / SKIFF_SERVER (token SKIFF_TOKEN), or
 *   a context (--context, else the current one of the contexts file).
 * - local mode: the job runs in this process with the configuration of --config,
 *   SKIFF_CONFIG_FILE or SKIFF_CONFIG (every cluster token and S3 key of it).
 * Explicit flags win over the environment, the environment over the contexts file.
 */
export type Mode = { kind: 'local'; source: string } | { kind: 'client'; api: ApiClient; server: string };

/** Which way this command line and environment say. Throws a ValidationError (exit 2) naming both ways when neither is set. */
export async function resolveMode(flags: CliFlags, env: NodeJS.ProcessEnv = process.env): Promise<Mode> {
  if (flags.config !== undefined) env.SKIFF_CONFIG_FILE = flags.config;
  const local = () => localMode(env);
  if (flags.local || flags.config !== undefined) return local();
  if (flags.server !== undefined) return clientMode(flags.server, env);
  if (flags.context !== undefined) return (await contextMode(flags.context, env))!;
  if (env.SKIFF_SERVER) return clientMode(env.SKIFF_SERVER, env);
  if (env.SKIFF_CONFIG_FILE || env.SKIFF_CONFIG) return local();
  const context = await contextMode(undefined, env);
  if (context) return context;
  throw new NoModeError(
    'no Skiff to talk to: connect to a deployed one (skiff context add NAME --server URL --token-env VAR, or SKIFF_SERVER and SKIFF_TOKEN) ' +
      'or run here with a configuration (--local with SKIFF_CONFIG_FILE, or --config FILE)',
  );
}

/** Neither mode is configured: a usage error (exit 2). */
export class NoModeError extends SkiffError {
  readonly status = 400;
}

function localMode(env: NodeJS.ProcessEnv): Mode {
  const source = env.SKIFF_CONFIG_FILE || (env.SKIFF_CONFIG ? 'SKIFF_CONFIG' : undefined);
  if (!source) {
    throw new ValidationError('command line', [{ path: '--local', message: 'a local run needs a configuration: --config FILE or SKIFF_CONFIG_FILE' }]);
  }
  // Said once, on stderr, so output that looks alike in both modes never leaves the doubt.
  console.error(`running locally with ${source}`);
  return { kind: 'local', source };
}

function clientMode(server: string, env: NodeJS.ProcessEnv): Mode {
  const token = env.SKIFF_TOKEN;
  if (!token) throw new ValidationError('command line', [{ path: 'SKIFF_TOKEN', message: `talking to ${server} needs a bearer token in SKIFF_TOKEN (or use a context: skiff context add)` }]);
  return { kind: 'client', api: new ApiClient(server, token), server };
}

/** The named or current context of the contexts file (loaded, with the YAML library, only here). */
async function contextMode(name: string | undefined, env: NodeJS.ProcessEnv): Promise<Mode | undefined> {
  const { contextFilePath, contextToken, readContextFile, selectContext } = await import('./client/contexts');
  const path = contextFilePath(env);
  const context = selectContext(readContextFile(path), name);
  if (!context) return undefined;
  return { kind: 'client', api: new ApiClient(context.server, contextToken(context, path, env)), server: context.server };
}
