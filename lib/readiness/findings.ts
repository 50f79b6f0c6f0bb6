/**
 * The shape of a readiness report: findings, each with a severity, the objects it is
 * about and what to do. Pure types and helpers; the checks build findings, the service
 * puts them together.
 */

/**
 * `block`: a backup (or an upgrade) would put data at risk or fail; a schedule with
 * `readiness: block` does not start while one exists. `warn`: something is not
 * protected or a job would partly fail. `info`: context, a check skipped and why.
 */
export type Severity = 'block' | 'warn' | 'info';

/** Which check made a finding. */
export type CheckName = 'single-replica' | 'snapshot-coverage' | 'handles' | 'access';

/** One finding of one check. */
export interface Finding {
  check: CheckName;
  severity: Severity;
  /** What was found, in one sentence. */
  message: string;
  /** The objects concerned, e.g. `Volume longhorn-system/pvc-1 (PVC shop/data)`. */
  objects: string[];
  /** What to do about it; empty for information that needs no action. */
  action: string;
  /** The namespace the finding is about, where it is about one. */
  namespace?: string;
}

/** Everything known about one cluster at one moment. */
export interface ReadinessReport {
  cluster: string;
  /** ISO 8601. */
  checkedAt: string;
  /** True when no finding blocks. */
  ready: boolean;
  counts: Record<Severity, number>;
  findings: Finding[];
}

const SEVERITY_ORDER: Record<Severity, number> = { block: 0, warn: 1, info: 2 };

/** Assembles a report: findings ordered by severity, then check, counts and the verdict. */
export function readinessReport(cluster: string, checkedAt: Date, findings: readonly Finding[]): ReadinessReport {
  const ordered = findings
    .map((finding, index) => ({ finding, index }))
    .sort((a, b) => SEVERITY_ORDER[a.finding.severity] - SEVERITY_ORDER[b.finding.severity] || a.index - b.index)
    .map(({ finding }) => finding);
  const counts: Record<Severity, number> = { block: 0, warn: 0, info: 0 };
  for (const finding of ordered) counts[finding.severity] += 1;
  return { cluster, checkedAt: checkedAt.toISOString(), ready: counts.block === 0, counts, findings: ordered };
}

/** The reasons a report blocks, one line per blocking finding (for skipped schedule slots). */
export function blockingReasons(report: ReadinessReport): string[] {
  return report.findings
    .filter((f) => f.severity === 'block')
    .map((f) => `${f.message}: ${f.objects.join(', ')}`);
}
