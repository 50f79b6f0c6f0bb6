/** Formatting for the bench's markdown tables; numbers stay raw in results.json. */

export interface Row {
  measurement: string;
  baseline: string;
  skiff: string;
  ratio: string;
  goal: string;
  /** 'yes', 'no', or '' for rows that only inform. */
  met: string;
}

export function markdownTable(headers: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  const lines = [
    `| ${headers.map(escape).join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ];
  return lines.join('\n');
}

export function resultsTable(rows: Row[]): string {
  return markdownTable(
    ['measurement', 'baseline', 'skiff', 'ratio', 'goal', 'met'],
    rows.map((r) => [r.measurement, r.baseline, r.skiff, r.ratio, r.goal, r.met]),
  );
}

export function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

export function mb(value: number): string {
  return `${value.toFixed(0)} MB`;
}

export function ratio(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function count(value: number): string {
  return value >= 1000 && value % 1000 === 0 ? `${value / 1000}k` : String(value);
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function met(ok: boolean | undefined): string {
  if (ok === undefined) return '';
  return ok ? 'yes' : 'no';
}
