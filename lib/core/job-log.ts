import { gzipSync } from 'node:zlib';

/** Lines kept at most; a run over a huge cluster must not grow its log without bound. */
const MAX_LINES = 20_000;

/**
 * A backup's or restore's own log, uploaded as `<b>-logs.gz` or `restore-<r>-logs.gz`
 * (what `velero backup logs` and `velero restore logs` show). Lines are logfmt like
 * Velero's; callers must not put secret values in messages.
 */
export class JobLog {
  private readonly lines: string[];
  private dropped = 0;

  constructor(lines: string[] = [], private readonly now: () => Date = () => new Date()) {
    this.lines = [...lines];
  }

  info(message: string, fields: Record<string, string | number> = {}): void {
    this.add('info', message, fields);
  }

  warn(message: string, fields: Record<string, string | number> = {}): void {
    this.add('warning', message, fields);
  }

  error(message: string, fields: Record<string, string | number> = {}): void {
    this.add('error', message, fields);
  }

  /** The lines so far, for a progress checkpoint. */
  snapshot(): string[] {
    return [...this.lines];
  }

  gzip(): Buffer {
    const tail = this.dropped > 0 ? [`level=warning msg="${this.dropped} earlier log lines were dropped to bound memory"`] : [];
    return gzipSync(logText([...tail, ...this.lines]));
  }

  private add(level: string, message: string, fields: Record<string, string | number>): void {
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k}=${quote(String(v))}`)
      .join(' ');
    this.lines.push(`time="${this.now().toISOString()}" level=${level} msg=${quote(message)}${extra ? ` ${extra}` : ''}`);
    if (this.lines.length > MAX_LINES) {
      this.lines.shift();
      this.dropped += 1;
    }
  }
}

/** Log lines as the text of a log file: one line each, each ended by a newline. */
export function logText(lines: readonly string[]): string {
  return lines.map((line) => `${line}\n`).join('');
}

function quote(value: string): string {
  return /^[\w./:@-]+$/.test(value) ? value : JSON.stringify(value);
}
