import { loadConfig } from '../lib/config';
import { checkReadiness, readinessDeps } from '../lib/readiness/service';
import type { CliFlags } from './args';
import { readinessTable } from './readiness-format';

/**
 * `skiff cluster readiness NAME`: loaded only for that command (it brings the
 * Kubernetes client). Exits 1 when a finding blocks, so scripts can gate on it.
 */
export async function runReadinessCommand(cluster: string, flags: CliFlags): Promise<void> {
  const config = loadConfig();
  const namespaces = flags['include-namespaces']?.split(',').map((s) => s.trim()).filter(Boolean);
  const report = await checkReadiness(readinessDeps(config), cluster, { namespaces: namespaces?.length ? namespaces : undefined });
  console.log(flags.output === 'json' ? JSON.stringify(report, null, 2) : readinessTable(report));
  if (!report.ready) process.exitCode = 1;
}
