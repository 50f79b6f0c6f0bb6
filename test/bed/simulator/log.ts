/**
 * One concise line per storage action or problem, on stderr (stdout carries only
 * the `simulator ready` line the bed waits for). Never logs object bodies, so
 * Secret data read for deletion credentials cannot leak.
 */
export function log(cluster: string | undefined, message: string): void {
  const time = new Date().toISOString().slice(11, 23);
  process.stderr.write(`${time} sim${cluster ? `[${cluster}]` : ''} ${message}\n`);
}

const REPEAT_EVERY_MS = 60_000;

/**
 * For failures that are retried: logs a key's message when it changes, and the
 * same message again only once a minute, so a content that stays broken for the
 * whole run does not drown the log.
 */
export class RepeatLog {
  private readonly last = new Map<string, { message: string; at: number; suppressed: number }>();

  constructor(private readonly cluster: string) {}

  failed(key: string, message: string): void {
    const now = Date.now();
    const previous = this.last.get(key);
    if (previous && previous.message === message && now - previous.at < REPEAT_EVERY_MS) {
      previous.suppressed++;
      return;
    }
    const again = previous && previous.message === message ? ` (repeated ${previous.suppressed + 1}x)` : '';
    log(this.cluster, `${key}: ${message}${again}`);
    this.last.set(key, { message, at: now, suppressed: 0 });
    if (this.last.size > 5000) this.last.delete(this.last.keys().next().value!);
  }
}
