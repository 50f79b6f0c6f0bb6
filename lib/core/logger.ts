/**
 * Structured JSON logs, one line each, as CloudWatch and local runs both read well.
 * Errors are reduced to name, message and cause chain: stack traces stay out of
 * responses but are kept here only when SKIFF_LOG_STACKS=1, for local debugging.
 * Callers must not pass secret values; `redact` is a second line of defence for
 * well-known secret field names.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_KEYS = /^(token|password|secret|secretAccessKey|accessKeyId|sessionToken|kubeconfig|key|cert|authorization|data|stringData)$/i;

function threshold(): number {
  const level = (process.env.SKIFF_LOG_LEVEL ?? 'info') as Level;
  return LEVELS[level] ?? LEVELS.info;
}

function serialise(value: unknown, depth = 0): unknown {
  if (value instanceof Error) {
    return {
      name: value.name,
      message: value.message,
      ...(process.env.SKIFF_LOG_STACKS === '1' ? { stack: value.stack } : {}),
      ...(value.cause !== undefined && depth < 3 ? { cause: serialise(value.cause, depth + 1) } : {}),
    };
  }
  if (Array.isArray(value)) return depth < 4 ? value.map((v) => serialise(v, depth + 1)) : '[...]';
  if (value && typeof value === 'object') {
    if (depth >= 4) return '{...}';
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.test(k) ? '[redacted]' : serialise(v, depth + 1)]),
    );
  }
  return value;
}

function write(level: Level, message: string, fields?: Record<string, unknown>): void {
  if (LEVELS[level] < threshold()) return;
  const line = JSON.stringify({ level, time: new Date().toISOString(), message, ...(serialise(fields ?? {}) as object) });
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
