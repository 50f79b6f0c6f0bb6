import { parseArgs } from 'node:util';
import { ValidationError } from '../lib/core/errors';

/**
 * The command line's words and flags. This module stays free of the S3 and Kubernetes
 * clients (and of anything that imports them): it is all `skiff --help` and a usage
 * error load, so they answer at once.
 */

export const USAGE = `usage: skiff backup <command> [flags]   (configuration from SKIFF_CONFIG_FILE)
  create <name> --cluster C [--include-namespaces a,b] [--exclude-namespaces x] [--include-resources r]
                [--exclude-resources r] [--selector k=v,...] [--ttl 72h] [--storage-location L]
                [--snapshot-volumes=false] [--include-cluster-resources=true|false] [--no-wait] [-o json]
  get [name] [--cluster C] [--schedule S] [--phase P] [-o json]
  describe <name> [--details] [-o json]   Velero's layout with every volume's outcome; --details: resource list
  logs <name>
  download <name> [--file FILE]          (default <name>-data.tar.gz)
       skiff cluster <command> [flags]
  readiness <cluster> [--include-namespaces a,b] [-o json]   single-replica volumes, snapshot coverage, handles, access
  rbac                                   the RBAC manifest to apply in a remote cluster
       skiff sync <command> [flags]       rediscovery of stored backups
  run [--location L] [--cluster C] [--dry-run] [-o json]   catalog the location's backups, make their snapshots usable
  report [--location L] [-o json]                          the last runs: found, new, gone, created, repairs, problems
  delete <name> [--confirm [--wait]] [-o json]
                                         without --confirm: what would be deleted, nothing changes
       skiff schedule <command> [flags]   the configured schedules
  get [name] [-o json]                   cron, zone, paused, TTL, last backup and its phase, next run
  describe <name> [-o json]              one schedule with its backup template
       skiff gc [--dry-run] [--location L] [-o json]
                                         an expiry run of each storage location (or of L), here
usage: skiff restore <command> [flags]
  create [name] --from-backup B [--cluster C] [--include-namespaces a,b] [--exclude-namespaces x]
                [--include-resources r] [--exclude-resources r] [--selector k=v,...]
                [--namespace-mappings src:dst,...] [--existing-resource-policy none|update]
                [--restore-volumes=false] [--preserve-nodeports] [--include-cluster-resources=true|false]
                [--resource-modifiers-file FILE] [--accept-rollout-risk] [--no-wait] [-o json]
  get [name] [--from-backup B] [--cluster C] [--phase P] [-o json]
  describe <name> [-o json]
  logs <name>
       skiff --help | -h                  this text`;

const OPTIONS = {
  cluster: { type: 'string' },
  'include-namespaces': { type: 'string' },
  'exclude-namespaces': { type: 'string' },
  'include-resources': { type: 'string' },
  'exclude-resources': { type: 'string' },
  'include-cluster-resources': { type: 'string' },
  selector: { type: 'string' },
  ttl: { type: 'string' },
  'storage-location': { type: 'string' },
  'snapshot-volumes': { type: 'string' },
  'no-wait': { type: 'boolean' },
  schedule: { type: 'string' },
  phase: { type: 'string' },
  output: { type: 'string', short: 'o' },
  file: { type: 'string' },
  confirm: { type: 'boolean' },
  wait: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  location: { type: 'string' },
  'from-backup': { type: 'string' },
  'namespace-mappings': { type: 'string' },
  'existing-resource-policy': { type: 'string' },
  'restore-volumes': { type: 'string' },
  'preserve-nodeports': { type: 'boolean' },
  'resource-modifiers-file': { type: 'string' },
  'accept-rollout-risk': { type: 'boolean' },
  details: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type CliFlags = ReturnType<typeof parseArgs<{ allowPositionals: true; options: typeof OPTIONS }>>['values'];

/** The backup commands, checked before their code (and the clients it needs) is loaded. */
export const BACKUP_COMMANDS = ['create', 'get', 'describe', 'logs', 'download', 'delete'] as const;
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

/** What the command line asks for: the usage text, one backup, restore, cluster, sync or schedule command, or an expiry run (`skiff gc`). */
export type CommandLine =
  | { kind: 'help' }
  | { kind: 'usage-error'; message?: string }
  | { kind: 'backup'; command: BackupCommand; name: string | undefined; flags: CliFlags }
  | { kind: 'cluster'; command: ClusterCommand; name: string | undefined; flags: CliFlags }
  | { kind: 'sync'; command: SyncCommand; flags: CliFlags }
  | { kind: 'gc'; flags: CliFlags }
  | { kind: 'schedule'; command: ScheduleCommand; name: string | undefined; flags: CliFlags }
  | { kind: 'restore'; command: RestoreCommand; name: string | undefined; flags: CliFlags };

/** Commands that act on one named backup, and so refuse to run without a name. */
const NEEDS_NAME: ReadonlySet<BackupCommand> = new Set(['describe', 'logs', 'download', 'delete']);

/**
 * Reads the command line (without node and the script). Never throws: an unknown
 * flag, a missing command or a missing backup name is a usage error for the caller to
 * print, not a stack trace.
 */
export function parseCommandLine(args: readonly string[]): CommandLine {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, options: OPTIONS });
  } catch (error) {
    // parseArgs's own errors (unknown flag, missing value) carry ERR_PARSE_ARGS_* codes.
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS_')) throw error;
    return { kind: 'usage-error', message: (error as Error).message };
  }
  const { values: flags, positionals } = parsed;
  if (flags.help) return { kind: 'help' };
  const [group, command, name] = positionals;
  if (group === 'cluster' && command) return clusterCommand(command, name, flags);
  if (group === 'sync' && command) {
    if (!(SYNC_COMMANDS as readonly string[]).includes(command)) return { kind: 'usage-error', message: `unknown command "skiff sync ${command}"` };
    if (name !== undefined) return { kind: 'usage-error', message: `"skiff sync ${command}" takes no name; use --location and --cluster` };
    return { kind: 'sync', command: command as SyncCommand, flags };
  }
  if (group === 'gc') {
    if (command !== undefined) return { kind: 'usage-error', message: `"skiff gc" takes no argument (got "${command}"); name a location with --location` };
    return { kind: 'gc', flags };
  }
  if (group === 'restore' && command) return restoreCommand(command, name, flags);
  if (group === 'schedule' && command) return scheduleCommand(command, name, flags);
  if (group !== 'backup' || !command) return { kind: 'usage-error' };
  if (!(BACKUP_COMMANDS as readonly string[]).includes(command)) {
    return { kind: 'usage-error', message: `unknown command "skiff backup ${command}"` };
  }
  const backupCommand = command as BackupCommand;
  if (!name && NEEDS_NAME.has(backupCommand)) {
    const issue = { path: 'name', message: `"skiff backup ${command}" needs a backup name` };
    return { kind: 'usage-error', message: new ValidationError('command line', [issue]).message };
  }
  if (flags.wait && backupCommand === 'delete' && !flags.confirm) {
    return { kind: 'usage-error', message: '"skiff backup delete --wait" needs --confirm: without it nothing is deleted to wait for' };
  }
  return { kind: 'backup', command: backupCommand, name, flags };
}

function clusterCommand(command: string, name: string | undefined, flags: CliFlags): CommandLine {
  if (!(CLUSTER_COMMANDS as readonly string[]).includes(command)) {
    return { kind: 'usage-error', message: `unknown command "skiff cluster ${command}"` };
  }
  if (command === 'readiness' && !name) {
    const issue = { path: 'name', message: '"skiff cluster readiness" needs a cluster name' };
    return { kind: 'usage-error', message: new ValidationError('command line', [issue]).message };
  }
  return { kind: 'cluster', command: command as ClusterCommand, name, flags };
}

function restoreCommand(command: string, name: string | undefined, flags: CliFlags): CommandLine {
  if (!(RESTORE_COMMANDS as readonly string[]).includes(command)) {
    return { kind: 'usage-error', message: `unknown command "skiff restore ${command}"` };
  }
  const restore = command as RestoreCommand;
  const issues = [];
  if (!name && (restore === 'describe' || restore === 'logs')) issues.push({ path: 'name', message: `"skiff restore ${command}" needs a restore name` });
  if (restore === 'create' && !flags['from-backup']) issues.push({ path: '--from-backup', message: '"skiff restore create" needs the backup to restore' });
  if (issues.length > 0) return { kind: 'usage-error', message: new ValidationError('command line', issues).message };
  return { kind: 'restore', command: restore, name, flags };
}

function scheduleCommand(command: string, name: string | undefined, flags: CliFlags): CommandLine {
  if (!(SCHEDULE_COMMANDS as readonly string[]).includes(command)) {
    return { kind: 'usage-error', message: `unknown command "skiff schedule ${command}"` };
  }
  if (command === 'describe' && !name) {
    const issue = { path: 'name', message: '"skiff schedule describe" needs a schedule name' };
    return { kind: 'usage-error', message: new ValidationError('command line', [issue]).message };
  }
  // The filters of `backup get` would silently do nothing here.
  const unused = Object.keys(flags).filter((flag) => flag !== 'output');
  if (unused.length > 0) {
    return { kind: 'usage-error', message: `"skiff schedule ${command}" takes only -o json (got --${unused.join(', --')})` };
  }
  return { kind: 'schedule', command: command as ScheduleCommand, name, flags };
}
