import type { CliFlags, SyncCommand } from './args';
import type { Mode } from './mode';
import { printAs } from './output';
import { syncReportText, syncRunText } from './sync-format';

/**
 * `skiff sync run|report`. Local mode: a run happens here, in this process, like a
 * direct invocation of the sync function. Client mode: POST /sync (a dry run answers its
 * result; a real one is started there, one run per location and cluster) and
 * GET /sync/report.
 */
export async function runSyncCommand(mode: Mode, command: SyncCommand, flags: CliFlags): Promise<void> {
  const request = Object.fromEntries(
    Object.entries({ location: flags.location, cluster: flags.cluster, dryRun: flags.dryRun ?? false }).filter(([, v]) => v !== undefined),
  );
  if (mode.kind === 'client') {
    if (command === 'report') {
      const report = await mode.api.json<Parameters<typeof syncReportText>[0]>('GET', `/sync/report${flags.location ? `?location=${encodeURIComponent(flags.location)}` : ''}`);
      return printAs(flags.output, report, () => syncReportText(report));
    }
    const answer = await mode.api.json<Parameters<typeof syncRunText>[0] | { started: { location: string; cluster?: string }[] }>('POST', '/sync', request);
    if ('started' in answer) {
      return printAs(flags.output, answer, () =>
        answer.started.map((s) => `sync run started: storage location "${s.location}"${s.cluster ? `, cluster "${s.cluster}"` : ''}`).join('\n') +
          '\nRun `skiff sync report` for its outcome.',
      );
    }
    return printRun(answer, flags);
  }
  const [{ loadConfig }, { getSyncReport, runSync, syncDeps }] = await Promise.all([import('../lib/config'), import('../lib/sync/service')]);
  const deps = syncDeps(loadConfig());
  if (command === 'run') return printRun(await runSync(deps, request), flags);
  const report = await getSyncReport(deps, flags.location);
  await printAs(flags.output, report, () => syncReportText(report));
}

async function printRun(result: Parameters<typeof syncRunText>[0], flags: CliFlags): Promise<void> {
  await printAs(flags.output, result, () => syncRunText(result));
  const failed = result.locations.some((l) => l.report.failed || l.clusters.some((c) => c.failed));
  if (failed) process.exitCode = 1;
}
