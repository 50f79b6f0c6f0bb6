import type { ReadinessReport } from '../lib/readiness/findings';

/**
 * A readiness report for people: one line per finding (severity, check, message), its
 * objects indented below it and what to do after an arrow, then the verdict.
 */
export function readinessTable(report: ReadinessReport): string {
  const rows = report.findings.map((f) => [f.severity.toUpperCase(), f.check, f.message]);
  const widths = [8, Math.max(5, ...rows.map((r) => r[1]!.length))];
  const lines = [`Cluster ${report.cluster}, checked ${report.checkedAt}`, '', `${'SEVERITY'.padEnd(widths[0]!)}   ${'CHECK'.padEnd(widths[1]!)}   FINDING`];
  report.findings.forEach((finding, i) => {
    const [severity, check, message] = rows[i]!;
    lines.push(`${severity!.padEnd(widths[0]!)}   ${check!.padEnd(widths[1]!)}   ${message}`);
    const indent = ' '.repeat(widths[0]! + widths[1]! + 6);
    for (const object of finding.objects) lines.push(`${indent}- ${object}`);
    if (finding.action) lines.push(`${indent}→ ${finding.action}`);
  });
  const { block, warn, info } = report.counts;
  lines.push('', `${report.ready ? 'READY' : 'NOT READY'}: ${block} blocking, ${warn} warning${warn === 1 ? '' : 's'}, ${info} info`);
  return lines.join('\n');
}
