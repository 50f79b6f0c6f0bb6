import { parseCommandLine, USAGE } from '../cli/args';
import { SkiffError } from '../lib/core/errors';

/**
 * The `skiff` command line. Built into dist/cli/ by scripts/build-cli.mjs and started
 * by bin/skiff.mjs. Only the argument parser is loaded up front; each command's code,
 * with the S3 and Kubernetes clients it needs, is a separate chunk imported once the
 * command line is known to name it.
 */
async function main(): Promise<void> {
  const line = parseCommandLine(process.argv.slice(2));
  switch (line.kind) {
    case 'help':
      console.log(USAGE);
      return;
    case 'usage-error':
      if (line.message) console.error(`error: ${line.message}`);
      console.error(USAGE);
      process.exitCode = 2;
      return;
    case 'backup': {
      if (line.command === 'delete') {
        const { runDeleteCommand } = await import('../cli/expiry-commands');
        return runDeleteCommand(line.name!, line.flags);
      }
      const { runBackupCommand } = await import('../cli/backup-commands');
      return runBackupCommand(line.command, line.name, line.flags);
    }
    case 'cluster': {
      if (line.command === 'rbac') {
        const { REMOTE_RBAC_MANIFEST } = await import('../lib/readiness/rbac-text');
        process.stdout.write(REMOTE_RBAC_MANIFEST);
        return;
      }
      const { runReadinessCommand } = await import('../cli/cluster-commands');
      return runReadinessCommand(line.name!, line.flags);
    }
    case 'sync': {
      const { runSyncCommand } = await import('../cli/sync-commands');
      return runSyncCommand(line.command, line.flags);
    }
    case 'gc': {
      const { runGcCommand } = await import('../cli/expiry-commands');
      return runGcCommand(line.flags);
    }
    case 'schedule': {
      const { runScheduleCommand } = await import('../cli/schedule-commands');
      return runScheduleCommand(line.command, line.name, line.flags);
    }
    case 'restore': {
      const { runRestoreCommand } = await import('../cli/restore-commands');
      return runRestoreCommand(line.command, line.name, line.flags);
    }
  }
}

/** An error as one line: a list of field issues joined, so scripts can grep and show it whole. */
function oneLine(message: string): string {
  return message
    .split('\n')
    .map((part) => part.trim())
    .filter(Boolean)
    .join(' ');
}

// Exit codes: 2 for what the caller can fix (usage, bad input, unknown or conflicting
// names: Skiff's 4xx errors), 1 for failures (storage, clusters, configuration).
main().catch((error: unknown) => {
  if (error instanceof SkiffError && error.status < 500) {
    console.error(`error: ${oneLine(error.message)}`);
    process.exitCode = 2;
    return;
  }
  console.error(`error: ${oneLine(error instanceof Error ? error.message : String(error))}`);
  process.exitCode = 1;
});
