import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { runBackup } from '../lib/backup/run-backup';
import { backupRunnerDeps } from '../lib/backup/runner-deps';
import { createBackup, getBackup, getBackupLog, listBackups, listFilterSchema } from '../lib/backup/service';
import { backupServiceDeps } from '../lib/backup/service';
import { backupTable, describeBackup, progressBar } from '../lib/cli/format';
import { loadConfig } from '../lib/config';
import { SkiffError, ValidationError, NotFoundError } from '../lib/core/errors';
import { fieldIssuesFromZod } from '../lib/core/zod-issues';

const USAGE = `usage: skiff backup <command> [flags]   (configuration from SKIFF_CONFIG_FILE)
  create <name> --cluster C [--include-namespaces a,b] [--exclude-namespaces x] [--include-resources r]
                [--exclude-resources r] [--selector k=v,...] [--ttl 72h] [--storage-location L]
                [--snapshot-volumes=false] [--include-cluster-resources=true|false] [--no-wait] [-o json]
  get [name] [--cluster C] [--schedule S] [--phase P] [-o json]
  describe <name> [-o json]
  logs <name>
  download <name> [--file FILE]          (default <name>-data.tar.gz)`;

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
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
  },
});

const config = loadConfig();
const deps = backupServiceDeps(config);
const json = flags.output === 'json';
const list = (text?: string) => text?.split(',').map((s) => s.trim()).filter(Boolean);
const bool = (text?: string) => (text === undefined ? undefined : text === 'true');

async function create(name: string | undefined): Promise<void> {
  const selector = flags.selector
    ? { matchLabels: Object.fromEntries(list(flags.selector)!.map((pair) => pair.split('=') as [string, string])) }
    : undefined;
  const request = Object.fromEntries(
    Object.entries({
      cluster: flags.cluster,
      name,
      includedNamespaces: list(flags['include-namespaces']),
      excludedNamespaces: list(flags['exclude-namespaces']),
      includedResources: list(flags['include-resources']),
      excludedResources: list(flags['exclude-resources']),
      includeClusterResources: bool(flags['include-cluster-resources']),
      labelSelector: selector,
      ttl: flags.ttl,
      storageLocation: flags['storage-location'],
      snapshotVolumes: bool(flags['snapshot-volumes']),
    }).filter(([, v]) => v !== undefined),
  );
  const created = await createBackup(deps, request);
  if (flags['no-wait']) return print(created, () => `backup "${created.name}" created; run it with the backupRunner function`);
  if (!json) console.error(`backup "${created.name}" created; running it here (Ctrl-C stops it; run again to resume)`);
  const progress = json ? undefined : showProgress(created.name);
  // Runs in the same 15-minute slices as the function (so a crash holds the lease no
  // longer), one after another until done.
  let outcome;
  do {
    const sliceEnd = Date.now() + 15 * 60_000;
    outcome = await runBackup(await backupRunnerDeps(config, () => sliceEnd - Date.now(), created.name), created.name);
  } while (outcome.state === 'paused');
  progress?.stop();
  const backup = await getBackup(deps, created.name);
  print(backup, () => describeBackup(backup));
  if (backup.status.phase !== 'Completed') process.exitCode = 1;
}

function showProgress(name: string): { stop: () => void } {
  if (!process.stderr.isTTY) return { stop: () => undefined };
  const timer = setInterval(() => {
    getBackup(deps, name).then(
      (b) => process.stderr.write(`\r${b.status.phase ?? 'New'} ${progressBar(b.status.progress?.itemsBackedUp ?? 0, b.status.progress?.totalItems ?? 0)}`),
      () => undefined,
    );
  }, 1000);
  return {
    stop: () => {
      clearInterval(timer);
      process.stderr.write('\n');
    },
  };
}

async function get(name: string | undefined): Promise<void> {
  if (name) {
    const backup = await getBackup(deps, name);
    return print(backup, () => backupTable([backup]));
  }
  const filter = listFilterSchema.safeParse({ cluster: flags.cluster, schedule: flags.schedule, phase: flags.phase });
  if (!filter.success) throw new ValidationError('command line', fieldIssuesFromZod(filter.error));
  const list = await listBackups(deps, filter.data);
  for (const place of list.unreadable) {
    console.error(`warning: could not read ${place.backup ? `backup ${place.backup} in ` : ''}storage location ${place.storageLocation}`);
  }
  print(list, () => backupTable(list.items));
}

/** The backup's log in every phase: running, paused, Failed or finished. */
async function logs(name: string): Promise<void> {
  process.stdout.write(await getBackupLog(deps, name));
}

async function download(name: string): Promise<void> {
  const { store } = await finished(name);
  const bytes = await store.getObject(store.layout.backupContentsKey(name));
  if (!bytes) throw new NotFoundError('tarball of backup', name);
  const file = flags.file ?? `${name}-data.tar.gz`;
  await new Promise<void>((resolve, reject) => createWriteStream(file).on('error', reject).end(bytes, resolve));
  console.error(`backup ${name} downloaded to ${file} (${bytes.byteLength} bytes)`);
}

/** A finished backup and the store that holds it. */
async function finished(name: string) {
  const backup = await getBackup(deps, name);
  const location = backup.spec.storageLocation ?? config.storageLocations[0]?.name ?? '';
  return { backup, store: deps.storeFor(location) };
}

function print(value: unknown, text: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text());
}

async function main(): Promise<void> {
  const [group, command, name] = positionals;
  const needName = (what: string) => {
    if (!name) throw new ValidationError('command line', [{ path: 'name', message: `"skiff backup ${what}" needs a backup name` }]);
    return name;
  };
  if (group !== 'backup' || !command) return void console.error(USAGE);
  switch (command) {
    case 'create':
      return create(name);
    case 'get':
      return get(name);
    case 'describe': {
      const backup = await getBackup(deps, needName('describe'));
      return print(backup, () => describeBackup(backup));
    }
    case 'logs':
      return logs(needName('logs'));
    case 'download':
      return download(needName('download'));
    default:
      console.error(USAGE);
      process.exitCode = 2;
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
