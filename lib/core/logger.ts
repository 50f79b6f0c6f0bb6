import { Logger } from '@aws-lambda-powertools/logger';
import type { LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { redact, redactText } from './redact';

/**
 * Structured JSON logs, one line each, through Powertools' Logger: in a Lambda
 * function every line carries the request id, cold start and function name (see
 * lib/runtime/log-context.ts); the CLI writes the same lines without them.
 *
 * Every field passes through `redact` (lib/core/redact.ts) before Powertools sees it,
 * which has no redaction of its own. Errors are reduced to name, message and cause
 * chain; stack traces are kept only when SKIFF_LOG_STACKS=1, for local debugging.
 * The level is SKIFF_LOG_LEVEL (debug, info, warn, error), else Powertools' own
 * POWERTOOLS_LOG_LEVEL, else info.
 */

/**
 * Powertools' Logger writing every line to stderr. Lambda and serverless offline
 * capture stderr like stdout, and a process's stdout stays free for its output: the
 * CLI's tables and `-o json`, the bench children's answers.
 */
class StderrLogger extends Logger {
  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    process.stderr.write(`${JSON.stringify(log.getAttributes(), this.getJsonReplacer())}\n`);
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new StderrLogger(options);
  }
}

const level = process.env.SKIFF_LOG_LEVEL?.toUpperCase() as ConstructorOptions['logLevel'];

/** The one Powertools Logger of a process; functions hand it to `injectLambdaContext`. */
export const powertoolsLogger: Logger = new StderrLogger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'skiff',
  ...(level ? { logLevel: level } : {}),
});

/** Keys Powertools writes itself and drops from callers' fields, with a warning. */
const POWERTOOLS_KEYS = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);

/**
 * The fields of a line, redacted. A field named like one of Powertools' own keys is
 * kept as `field_<name>` rather than lost.
 */
function safeFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  const redacted = redact(fields ?? {}, { stacks: process.env.SKIFF_LOG_STACKS === '1' }) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(redacted).map(([name, value]) => [POWERTOOLS_KEYS.has(name) ? `field_${name}` : name, value]));
}

type LogMethod = (message: string, fields?: Record<string, unknown>) => void;
const write =
  (method: 'debug' | 'info' | 'warn' | 'error'): LogMethod =>
  (message, fields) =>
    powertoolsLogger[method](redactText(message), safeFields(fields));

/**
 * Skiff's logger: `logger.info(message, fields)`. Callers should not pass secret
 * values; redaction is the second line of defence.
 */
export const logger = {
  debug: write('debug'),
  info: write('info'),
  warn: write('warn'),
  error: write('error'),
  /**
   * Adds fields to every following line, until the function's invocation ends
   * (functions reset them, lib/runtime/log-context.ts) or the process does (CLI).
   * For what one run is about: `{ backup, cluster }`.
   */
  appendKeys: (fields: Record<string, unknown>): void => powertoolsLogger.appendKeys(safeFields(fields)),
};
