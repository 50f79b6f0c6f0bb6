import type { ReadinessReport } from '../lib/readiness/findings';
import type { CliFlags } from './args';
import { list } from './flag-values';
import type { Mode } from './mode';
import { printAs } from './output';
import { readinessTable } from './readiness-format';

/**
 * `skiff cluster readiness NAME`: GET /clusters/{name}/readiness in client mode, the
 * checks here in local mode (they bring the Kubernetes client). Exits 1 when a finding
 * blocks, so scripts can gate on it.
 */
export async function runReadinessCommand(mode: Mode, cluster: string, flags: CliFlags): Promise<void> {
  const namespaces = list(flags.includeNamespaces);
  let report: ReadinessReport;
  if (mode.kind === 'client') {
    const query = namespaces?.length ? `?namespaces=${encodeURIComponent(namespaces.join(','))}` : '';
    report = await mode.api.json<ReadinessReport>('GET', `/clusters/${encodeURIComponent(cluster)}/readiness${query}`);
  } else {
    const [{ loadConfig }, { checkReadiness, readinessDeps }] = await Promise.all([import('../lib/config'), import('../lib/readiness/service')]);
    report = await checkReadiness(readinessDeps(loadConfig()), cluster, { namespaces: namespaces?.length ? namespaces : undefined });
  }
  await printAs(flags.output, report, () => readinessTable(report));
  if (!report.ready) process.exitCode = 1;
}
