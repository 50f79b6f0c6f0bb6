import { Command, CommanderError, Option } from 'commander';
import { ValidationError } from '../lib/core/errors';
import { OPTIONAL_BOOL_FLAGS, optionalBoolArgs } from './optional-bool';

/**
 * The command line's words and flags, as a commander tree. This module stays free of the
 * S3 and Kubernetes clients (and of anything that imports them): it is all `skiff
 * --help`, `skiff completion` and a usage error load, so they answer at once. It only
 * says which command was asked for with which flags; bin/skiff.ts loads and runs it.
 */

/** Every flag any command takes, in commander's camelCase; each command declares its own. */
export interface CliFlags {
  output?: string;
  verbose?: boolean;
  local?: boolean;
  config?: string;
  server?: string;
  context?: string;
  cluster?: string;
  includeNamespaces?: string;
  excludeNamespaces?: string;
  includeResources?: string;
  excludeResources?: string;
  includeClusterScopedResources?: string;
  excludeClusterScopedResources?: string;
  includeNamespaceScopedResources?: string;
  excludeNamespaceScopedResources?: string;
  includeClusterResources?: boolean;
  selector?: string;
  orSelector?: string;
  labels?: string;
  annotations?: string;
  ttl?: string;
  storageLocation?: string;
  snapshotVolumes?: boolean;
  csiSnapshotTimeout?: string;
  itemOperationTimeout?: string;
  orderedResources?: string;
  fromSchedule?: string;
  wait?: boolean;
  showLabels?: boolean;
  labelColumns?: string[];
  schedule?: string;
  phase?: string;
  force?: boolean;
  confirm?: boolean;
  dryRun?: boolean;
  location?: string;
  fromBackup?: string;
  namespaceMappings?: string;
  existingResourcePolicy?: string;
  restoreVolumes?: boolean;
  preserveNodeports?: boolean;
  resourceModifiersFile?: string;
  acceptRolloutRisk?: boolean;
  noWait?: boolean;
  token?: string;
  tokenEnv?: string;
  tokenCommand?: string;
  details?: boolean;
}

/** The backup commands. */
export const BACKUP_COMMANDS = ['create', 'get', 'describe', 'logs', 'download', 'delete', 'resume'] as const;
export type BackupCommand = (typeof BACKUP_COMMANDS)[number];
/** The cluster commands. */
export const CLUSTER_COMMANDS = ['readiness', 'rbac'] as const;
export type ClusterCommand = (typeof CLUSTER_COMMANDS)[number];
/** The sync commands. */
export const SYNC_COMMANDS = ['run', 'report'] as const;
export type SyncCommand = (typeof SYNC_COMMANDS)[number];
/** The restore commands. */
export const RESTORE_COMMANDS = ['create', 'get', 'describe', 'logs'] as const;
export type RestoreCommand = (typeof RESTORE_COMMANDS)[number];
/** The schedule commands. */
export const SCHEDULE_COMMANDS = ['get', 'describe'] as const;
export type ScheduleCommand = (typeof SCHEDULE_COMMANDS)[number];
/** The context commands (where a client of a deployed Skiff connects). */
export const CONTEXT_COMMANDS = ['add', 'use', 'list'] as const;
export type ContextCommand = (typeof CONTEXT_COMMANDS)[number];

/**
 * What the command line asks for: help or a usage error (text to print), or one command
 * with its names and flags (global flags such as --verbose and --server included).
 */
export type CommandLine =
  | { kind: 'help'; text: string }
  | { kind: 'usage-error'; message: string }
  | { kind: 'backup'; command: BackupCommand; name: string | undefined; names: string[]; flags: CliFlags }
  | { kind: 'cluster'; command: ClusterCommand; name: string | undefined; flags: CliFlags }
  | { kind: 'sync'; command: SyncCommand; flags: CliFlags }
  | { kind: 'gc'; flags: CliFlags }
  | { kind: 'restore'; command: RestoreCommand; name: string | undefined; flags: CliFlags }
  | { kind: 'schedule'; command: ScheduleCommand; name: string | undefined; flags: CliFlags }
  | { kind: 'context'; command: ContextCommand; name: string | undefined; flags: CliFlags }
  | { kind: 'version'; flags: CliFlags }
  | { kind: 'completion'; shell: string; program: Command };

/** Thrown by a command's action to report a usage mistake commander cannot see. */
class UsageError extends Error {}

const output = (formats: string[]) => new Option('-o, --output <format>', 'output format').choices(formats);
/**
 * Velero's optional bools (pflag's NoOptDefVal): declared as a switch and a hidden
 * `--no-` twin; `--flag=false` is rewritten to `--no-flag` before commander reads the
 * line (optional-bool.ts), so `--flag false` stays a switch followed by a word, as in velero.
 */
const optionalBool = (flag: string, description: string) =>
  new Option(`--${flag}`, `${description} (optional bool: bare means true, or --${flag}=true|false)`);
const negation = (flag: string) => new Option(`--no-${flag}`).hideHelp();

/**
 * Builds the command tree. `found` receives the command a parse selects; commander's own
 * answers (help, errors) go through `write`.
 */
export function buildProgram(found: (line: CommandLine) => void, write: { out: (s: string) => void; err: (s: string) => void }): Command {
  const program = new Command('skiff')
    .description(
      'Kubernetes backups in Velero\'s formats, run by a deployed Skiff (client mode) or here (local mode).\n' +
        'Client mode: a context (skiff context add), or --server / SKIFF_SERVER with SKIFF_TOKEN.\n' +
        'Local mode: --local, or a configuration file (--config / SKIFF_CONFIG_FILE).',
    )
    .exitOverride()
    .configureOutput({ writeOut: write.out, writeErr: write.err, outputError: () => undefined })
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .option('--verbose', 'write logs to stderr')
    .option('--local', 'run here with the configuration of SKIFF_CONFIG_FILE (or --config)')
    .option('--config <file>', 'the configuration file of a local run (implies --local)')
    .option('--server <url>', 'a deployed Skiff API (with SKIFF_TOKEN); default SKIFF_SERVER or the current context')
    .option('--context <name>', 'the context to use instead of the current one');
  const flagsOf = (cmd: Command) => cmd.optsWithGlobals() as CliFlags;

  const backup = program.command('backup').description('create, list, describe, download and delete backups');
  backupCreate(backup.command('create'), flagsOf, found);
  backup
    .command('get')
    .description('list backups (or the named ones)')
    .argument('[names...]')
    .option('--cluster <name>', 'only backups of this cluster')
    .option('--schedule <name>', 'only backups of this schedule')
    .option('--phase <phase>', 'only backups in this phase')
    .option('-l, --selector <selector>', 'only backups whose labels match this label selector')
    .option('--show-labels', 'show the labels in the last column')
    .option('-L, --label-columns <keys...>', 'a column for each of these label keys')
    .addOption(output(['json', 'yaml', 'wide']))
    .action((names: string[], _o, cmd: Command) => found({ kind: 'backup', command: 'get', name: names[0], names, flags: flagsOf(cmd) }));
  backup
    .command('describe')
    .description('describe backups')
    .argument('[names...]')
    .option('-l, --selector <selector>', 'describe the backups whose labels match this label selector')
    .option('--details', 'also the resource list (volumes, warnings and errors are always shown)')
    .addOption(output(['json', 'yaml']))
    .action((names: string[], _o, cmd: Command) => {
      const flags = flagsOf(cmd);
      if (names.length === 0 && !flags.selector) throw new UsageError('"skiff backup describe" needs backup names or -l/--selector');
      found({ kind: 'backup', command: 'describe', name: names[0], names, flags });
    });
  backup
    .command('logs')
    .description("a backup's log, in every phase (also while it runs)")
    .argument('<name>')
    .action((name: string, _o, cmd: Command) => found({ kind: 'backup', command: 'logs', name, names: [name], flags: flagsOf(cmd) }));
  backup
    .command('download')
    .description("stream a backup's tarball to a file")
    .argument('<name>')
    .option('-o, --output <file>', 'the file to write (default <name>-data.tar.gz)')
    .option('--force', 'overwrite the file if it exists')
    .action((name: string, _o, cmd: Command) => found({ kind: 'backup', command: 'download', name, names: [name], flags: flagsOf(cmd) }));
  backup
    .command('resume')
    .description('go on with a backup whose local run was stopped with Ctrl-C (local mode)')
    .argument('<name>')
    .action((name: string, _o, cmd: Command) => found({ kind: 'backup', command: 'resume', name, names: [name], flags: flagsOf(cmd) }));
  backup
    .command('delete')
    .description('delete a backup: without --confirm, what would be deleted')
    .argument('<name>')
    .option('--confirm', 'delete it (phase Deleting; the next expiry run of its location does the rest)')
    .option('--wait', 'with --confirm: run the deletion to the end here')
    .addOption(output(['json', 'yaml']))
    .action((name: string, _o, cmd: Command) => {
      const flags = flagsOf(cmd);
      if (flags.wait && !flags.confirm) throw new UsageError('"skiff backup delete --wait" needs --confirm: without it nothing is deleted to wait for');
      found({ kind: 'backup', command: 'delete', name, names: [name], flags });
    });

  restoreCommands(program.command('restore').description('create, list and describe restores'), flagsOf, found);

  const schedule = program.command('schedule').description('the configured schedules: cron, zone, paused, TTL, last backup and its phase, next run');
  schedule
    .command('get')
    .description('list the schedules (or the named one)')
    .argument('[name]')
    .addOption(output(['json', 'yaml']))
    .action((name: string | undefined, _o, cmd: Command) => found({ kind: 'schedule', command: 'get', name, flags: flagsOf(cmd) }));
  schedule
    .command('describe')
    .description('one schedule with its backup template')
    .argument('<name>')
    .addOption(output(['json', 'yaml']))
    .action((name: string, _o, cmd: Command) => found({ kind: 'schedule', command: 'describe', name, flags: flagsOf(cmd) }));

  const cluster = program.command('cluster').description("a cluster's readiness, and the RBAC a remote cluster needs");
  cluster
    .command('readiness')
    .description('single-replica volumes, snapshot coverage, handles, access; exits 1 when a finding blocks')
    .argument('<cluster>')
    .option('--include-namespaces <list>', 'only these namespaces (comma-separated)')
    .addOption(output(['json', 'yaml']))
    .action((name: string, _o, cmd: Command) => found({ kind: 'cluster', command: 'readiness', name, flags: flagsOf(cmd) }));
  cluster
    .command('rbac')
    .description('the RBAC manifest to apply in a remote cluster')
    .action((_o, cmd: Command) => found({ kind: 'cluster', command: 'rbac', name: undefined, flags: flagsOf(cmd) }));

  const sync = program.command('sync').description('rediscovery of stored backups');
  sync
    .command('run')
    .description("catalog a location's backups and make their snapshots usable in clusters")
    .option('--location <name>', 'only this storage location')
    .option('--cluster <name>', 'only this cluster')
    .option('--dry-run', 'say what would change; change nothing')
    .addOption(output(['json', 'yaml']))
    .action((_o, cmd: Command) => found({ kind: 'sync', command: 'run', flags: flagsOf(cmd) }));
  sync
    .command('report')
    .description('the last runs: found, new, gone, created, repairs, problems')
    .option('--location <name>', 'only this storage location')
    .addOption(output(['json', 'yaml']))
    .action((_o, cmd: Command) => found({ kind: 'sync', command: 'report', flags: flagsOf(cmd) }));

  program
    .command('gc')
    .description('an expiry run of each storage location (or of --location): here in local mode, by the deployed Skiff in client mode')
    .option('--location <name>', 'only this storage location')
    .option('--dry-run', 'print the plan; change nothing')
    .addOption(output(['json', 'yaml']))
    .action((_o, cmd: Command) => found({ kind: 'gc', flags: flagsOf(cmd) }));

  const context = program.command('context').description('where the client connects: contexts in ~/.config/skiff/config');
  context
    .command('add')
    .description('add (or replace) a context and make it current: skiff context add NAME --server URL (--token | --token-env | --token-command)')
    .argument('<name>')
    .option('--token <token>', 'the bearer token, kept in the file (written with mode 0600)')
    .option('--token-env <variable>', 'read the token from this environment variable')
    .option('--token-command <command>', 'run this command; its output is the token')
    .action((name: string, _o, cmd: Command) => {
      // --server is the global flag: here it names the context's server.
      const flags = flagsOf(cmd);
      if (!flags.server) throw new UsageError('"skiff context add" needs --server URL, the Skiff API of the context');
      found({ kind: 'context', command: 'add', name, flags });
    });
  context
    .command('use')
    .description('make a context the current one')
    .argument('<name>')
    .action((name: string, _o, cmd: Command) => found({ kind: 'context', command: 'use', name, flags: flagsOf(cmd) }));
  context
    .command('list')
    .description('the contexts, the current one marked')
    .action((_o, cmd: Command) => found({ kind: 'context', command: 'list', name: undefined, flags: flagsOf(cmd) }));

  program
    .command('version')
    .description("the client's version and, in client mode, the server's")
    .addOption(output(['json', 'yaml']))
    .action((_o, cmd: Command) => found({ kind: 'version', flags: flagsOf(cmd) }));
  program
    .command('completion')
    .description('a completion script: source <(skiff completion bash), or zsh, fish')
    .argument('<shell>', 'bash, zsh or fish')
    .action((shell: string) => {
      if (!['bash', 'zsh', 'fish'].includes(shell)) throw new UsageError(`"skiff completion" knows bash, zsh and fish, not "${shell}"`);
      found({ kind: 'completion', shell, program });
    });
  return program;
}

function backupCreate(cmd: Command, flagsOf: (cmd: Command) => CliFlags, found: (line: CommandLine) => void): void {
  cmd
    .description('create a backup (client mode: the deployed Skiff runs it; local mode: it runs here)')
    .argument('[name]', 'the backup name (default <cluster>-<timestamp>)')
    .option('--cluster <name>', 'the cluster to back up (Skiff)')
    .option('--include-namespaces <list>', 'namespaces to include (comma-separated; * for all)')
    .option('--exclude-namespaces <list>', 'namespaces to exclude')
    .option('--include-resources <list>', 'resources to include (e.g. deployments.apps)')
    .option('--exclude-resources <list>', 'resources to exclude')
    .option('--include-cluster-scoped-resources <list>', 'cluster-scoped resources to include')
    .option('--exclude-cluster-scoped-resources <list>', 'cluster-scoped resources to exclude')
    .option('--include-namespace-scoped-resources <list>', 'namespace-scoped resources to include')
    .option('--exclude-namespace-scoped-resources <list>', 'namespace-scoped resources to exclude')
    .addOption(optionalBool('include-cluster-resources', 'include cluster-scoped resources'))
    .addOption(negation('include-cluster-resources'))
    .option('-l, --selector <selector>', 'back up only objects matching this label selector (k=v, k!=v, k in (a,b), k notin (a), k, !k)')
    .option('--or-selector <selectors>', 'objects matching any of these selectors, separated by " or "')
    .option('--labels <pairs>', "the backup's own labels (k=v,...)")
    .option('--annotations <pairs>', "the backup's own annotations (k=v,...)")
    .option('--ttl <duration>', 'how long to keep the backup (e.g. 72h0m0s)')
    .option('--storage-location <name>', 'where to store it')
    .addOption(optionalBool('snapshot-volumes', 'take CSI snapshots of the volumes'))
    .addOption(negation('snapshot-volumes'))
    .option('--csi-snapshot-timeout <duration>', 'how long to wait for each CSI snapshot (e.g. 10m)')
    .option('--item-operation-timeout <duration>', 'how long to wait for asynchronous item operations (e.g. 4h)')
    .option('--ordered-resources <mapping>', 'resource=ns/name,ns/name;resource2=... backed up in that order')
    .option('--from-schedule <schedule>', "create it from a schedule's template")
    .option('-w, --wait', 'wait for the backup to finish (local mode always does)')
    .addOption(output(['json', 'yaml']))
    .action((name: string | undefined, _o, c: Command) => found({ kind: 'backup', command: 'create', name, names: name ? [name] : [], flags: flagsOf(c) }));
}

function restoreCommands(restore: Command, flagsOf: (cmd: Command) => CliFlags, found: (line: CommandLine) => void): void {
  restore
    .command('create')
    .description('create a restore and run it')
    .argument('[name]')
    .requiredOption('--from-backup <backup>', 'the backup to restore')
    .option('--cluster <name>', 'the cluster to restore into')
    .option('--include-namespaces <list>', 'namespaces to include')
    .option('--exclude-namespaces <list>', 'namespaces to exclude')
    .option('--include-resources <list>', 'resources to include')
    .option('--exclude-resources <list>', 'resources to exclude')
    .option('-l, --selector <selector>', 'only objects matching this label selector')
    .option('--namespace-mappings <pairs>', 'src:dst,... restore namespace src into dst')
    .addOption(new Option('--existing-resource-policy <policy>', 'what to do with objects that exist').choices(['none', 'update']))
    .addOption(optionalBool('restore-volumes', 'restore volumes from their snapshots'))
    .addOption(negation('restore-volumes'))
    .option('--preserve-nodeports', "keep Services' node ports")
    .addOption(optionalBool('include-cluster-resources', 'include cluster-scoped resources'))
    .addOption(negation('include-cluster-resources'))
    .option('--resource-modifiers-file <file>', 'resource modifier rules (YAML)')
    .option('--accept-rollout-risk', 'restore although a modifier changes the pod template of a workload with restored volumes')
    .option('--no-wait', 'record the restore and return')
    .addOption(output(['json', 'yaml']))
    .action((name: string | undefined, _o, cmd: Command) => found({ kind: 'restore', command: 'create', name, flags: withNoWait(flagsOf(cmd)) }));
  restore
    .command('get')
    .description('list restores (or the named one)')
    .argument('[name]')
    .option('--from-backup <backup>', 'only restores of this backup')
    .option('--cluster <name>', 'only restores into this cluster')
    .option('--phase <phase>', 'only restores in this phase')
    .addOption(output(['json', 'yaml']))
    .action((name: string | undefined, _o, cmd: Command) => found({ kind: 'restore', command: 'get', name, flags: flagsOf(cmd) }));
  restore
    .command('describe')
    .description('describe a restore')
    .argument('<name>')
    .addOption(output(['json', 'yaml']))
    .action((name: string, _o, cmd: Command) => found({ kind: 'restore', command: 'describe', name, flags: flagsOf(cmd) }));
  restore
    .command('logs')
    .description("a restore's log")
    .argument('<name>')
    .action((name: string, _o, cmd: Command) => found({ kind: 'restore', command: 'logs', name, flags: flagsOf(cmd) }));
}

/** commander stores `--no-wait` as `wait: false`; the restore command reads `noWait`. */
function withNoWait(flags: CliFlags): CliFlags {
  return { ...flags, noWait: flags.wait === false };
}

/**
 * Reads the command line (without node and the script). Never throws: an unknown flag
 * or command, a missing name or a bad flag value is a usage error for the caller to print
 * on one line, not a stack trace; `--help` (on any command) is the help text.
 */
export function parseCommandLine(args: readonly string[]): CommandLine {
  let line: CommandLine | undefined;
  let out = '';
  const program = buildProgram(
    (l) => (line = l),
    // Errors are returned as one line below; commander's own rendering of them is dropped.
    { out: (s) => (out += s), err: () => undefined },
  );
  try {
    program.parse(optionalBoolArgs(args, OPTIONAL_BOOL_FLAGS), { from: 'user' });
  } catch (error) {
    if (error instanceof UsageError) return { kind: 'usage-error', message: error.message };
    if (error instanceof ValidationError) return { kind: 'usage-error', message: oneLine(error.message) };
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return { kind: 'help', text: out };
    const command = commandOf(program, args);
    if (error.code === 'commander.help') {
      // A group named without one of its commands (`skiff backup`), or nothing at all.
      const names = command.commands.map((c) => c.name()).join(', ');
      return { kind: 'usage-error', message: `"${commandPath(command)}" needs a command: ${names} (see '${commandPath(command)} --help')` };
    }
    return { kind: 'usage-error', message: `${oneLine(error.message.replace(/^error: /, ''))} (see '${commandPath(command)} --help')` };
  }
  return line ?? { kind: 'usage-error', message: 'no command given (see \'skiff --help\')' };
}

/** The deepest command the words of the line name (`skiff backup get --bogus` → backup get). */
function commandOf(program: Command, args: readonly string[]): Command {
  let command = program;
  for (const arg of args) {
    const sub = command.commands.find((c) => c.name() === arg);
    if (sub) command = sub;
  }
  return command;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** A message of several lines (a list of field issues) as one line, so scripts can grep and show it whole. */
export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((part) => part.trim())
    .filter(Boolean)
    .join(' ');
}
