import { oneLine, parseCommandLine, type CommandLine } from '../cli/args';
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
      process.stdout.write(line.text);
      return;
    case 'usage-error':
      console.error(`error: ${line.message}`);
      process.exitCode = 2;
      return;
    case 'completion': {
      const { completionScript } = await import('../cli/completion');
      process.stdout.write(completionScript(line.program, line.shell as 'bash' | 'zsh' | 'fish'));
      return;
    }
    case 'cluster':
      if (line.command === 'rbac') {
        const { REMOTE_RBAC_MANIFEST } = await import('../lib/readiness/rbac-text');
        process.stdout.write(REMOTE_RBAC_MANIFEST);
        return;
      }
      break;
    case 'context': {
      const { runContextCommand } = await import('../cli/context-commands');
      return runContextCommand(line.command, line.name, line.flags);
    }
  }
  quietUnlessVerbose(line.flags.verbose === true);
  const { resolveMode, NoModeError } = await import('../cli/mode');
  if (line.kind === 'version') {
    // The client's version needs no Skiff to talk to.
    const { runVersionCommand } = await import('../cli/version-command');
    let mode: Mode | undefined;
    try {
      mode = await resolveMode(line.flags);
    } catch (error) {
      if (!(error instanceof NoModeError)) throw error;
    }
    return runVersionCommand(mode, line.flags);
  }
  if (line.kind === 'backup' && line.command === 'create' && line.flags.output) {
    // velero backup create -o json|yaml prints the Backup and creates nothing: no Skiff is asked.
    const [{ backupObjectOf, backupRequestFromFlags }, { printAs }] = await Promise.all([import('../cli/backup-request'), import('../cli/output')]);
    return printAs(line.flags.output, backupObjectOf(backupRequestFromFlags(line.name, line.flags)), () => '');
  }
  return runCommand(line, await resolveMode(line.flags));
}

type Mode = import('../cli/mode').Mode;

async function runCommand(line: Exclude<CommandLine, { kind: 'help' | 'usage-error' | 'completion' | 'context' | 'version' }>, mode: Mode): Promise<void> {
  switch (line.kind) {
    case 'backup': {
      if (line.command === 'delete') {
        const { runDeleteCommand } = await import('../cli/expiry-commands');
        return runDeleteCommand(mode, line.name!, line.flags);
      }
      const { runBackupCommand } = await import('../cli/backup-commands');
      return runBackupCommand(mode, line.command, line.names, line.flags);
    }
    case 'cluster': {
      const { runReadinessCommand } = await import('../cli/cluster-commands');
      return runReadinessCommand(mode, line.name!, line.flags);
    }
    case 'sync': {
      const { runSyncCommand } = await import('../cli/sync-commands');
      return runSyncCommand(mode, line.command, line.flags);
    }
    case 'gc': {
      const { runGcCommand } = await import('../cli/expiry-commands');
      return runGcCommand(mode, line.flags);
    }
    case 'schedule': {
      const { runScheduleCommand } = await import('../cli/schedule-commands');
      return runScheduleCommand(mode, line.command, line.name, line.flags);
    }
    case 'restore': {
      const { runRestoreCommand } = await import('../cli/restore-commands');
      return runRestoreCommand(mode, line.command, line.name, line.flags);
    }
  }
}

/**
 * People read stdout; the JSON log lines the library writes, and Node's runtime
 * warnings (the AWS SDK's, deprecations), go to stderr only with --verbose. Set before
 * any command's chunk is loaded: the logger reads SKIFF_LOG_LEVEL when it is created.
 */
function quietUnlessVerbose(verbose: boolean): void {
  if (verbose) {
    process.env.SKIFF_LOG_LEVEL ??= 'info';
    return;
  }
  process.env.SKIFF_LOG_LEVEL = 'silent';
  process.removeAllListeners('warning');
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
