import { parseCommandLine, USAGE } from '../lib/cli/args';
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
      const { runBackupCommand } = await import('../lib/cli/backup-commands');
      return runBackupCommand(line.command, line.name, line.flags);
    }
    case 'restore': {
      const { runRestoreCommand } = await import('../lib/cli/restore-commands');
      return runRestoreCommand(line.command, line.name, line.flags);
    }
  }
}

main().catch((error: unknown) => {
  if (error instanceof SkiffError && error.status < 500) {
    console.error(`error: ${error.message}`);
    process.exitCode = 2;
    return;
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
