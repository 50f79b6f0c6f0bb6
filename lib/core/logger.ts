/**
 * Structured JSON logs, one line each, as CloudWatch and local runs both read well.
 * Errors are reduced to name, message and cause chain: stack traces stay out of
 * responses but are kept here only when SKIFF_LOG_STACKS=1, for local debugging.
 * Callers must not pass secret values; `redact` (lib/core/redact.ts) is a second
 * line of defence, by what values are rather than by what their fields are called.
 */
import { redact, redactText } from './redact';

type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function threshold(): number {
  const level = (process.env.SKIFF_LOG_LEVEL ?? 'info') as Level;
  return LEVELS[level] ?? LEVELS.info;
}

function write(level: Level, message: string, fields?: Record<string, unknown>): void {
  if (LEVELS[level] < threshold()) return;
  const safe = redact(fields ?? {}, { stacks: process.env.SKIFF_LOG_STACKS === '1' }) as object;
  const line = JSON.stringify({ level, time: new Date().toISOString(), message: redactText(message), ...safe });
  // Always stderr: Lambda and serverless offline capture it like stdout, and a CLI's
  // stdout stays free for its output (tables, JSON).
  process.stderr.write(`${line}\n`);
}

export const logger = {
  debug: (message: string, fields?: Record<string, unknown>) => write('debug', message, fields),
  info: (message: string, fields?: Record<string, unknown>) => write('info', message, fields),
  warn: (message: string, fields?: Record<string, unknown>) => write('warn', message, fields),
  error: (message: string, fields?: Record<string, unknown>) => write('error', message, fields),
};
