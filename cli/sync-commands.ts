import { loadConfig } from '../lib/config';
import { getSyncReport, runSync, syncDeps } from '../lib/sync/service';
import type { CliFlags, SyncCommand } from './args';
import { syncReportText, syncRunText } from './sync-format';

/**
 * `skiff sync run|report`: loaded by bin/skiff.ts only for these commands. A run
 * happens here, in this process, like a direct invocation of the sync function.
 */
export async function runSyncCommand(command: SyncCommand, flags: CliFlags): Promise<void> {
  const config = loadConfig();
  const deps = syncDeps(config);
  const json = flags.output === 'json';
  if (command === 'run') {
    const request = { location: flags.location, cluster: flags.cluster, dryRun: flags['dry-run'] ?? false };
    const result = await runSync(deps, Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)));
    console.log(json ? JSON.stringify(result, null, 2) : syncRunText(result));
    const failed = result.locations.some((l) => l.report.failed || l.clusters.some((c) => c.failed));
    if (failed) process.exitCode = 1;
    return;
  }
  const report = await getSyncReport(deps, flags.location);
  console.log(json ? JSON.stringify(report, null, 2) : syncReportText(report));
}
