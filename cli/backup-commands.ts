import { createWriteStream } from 'node:fs';
import { backupServiceDeps, createBackup, describeBackup, getBackup, getBackupLog, listBackups, listFilterSchema, type BackupServiceDeps } from '../lib/backup/service';
import { backupTable, progressLine, skippedSlotsTable } from './format';
import { describeBackupStructured, describeBackupText } from './describe-format';
import { loadConfig, type SkiffConfig } from '../lib/config';
import { NotFoundError, ValidationError } from '../lib/core/errors';
import { fieldIssuesFromZod } from '../lib/core/zod-issues';
import type { BackupCommand, CliFlags } from './args';
import { bool, list } from './flag-values';

/**
 * `skiff backup <command>`: loaded by bin/skiff.ts only once the command line is known
 * to be a command, so `--help` and usage errors never load this module, the S3 client
 * it brings, or the Kubernetes client `create` loads on its own.
 */
export async function runBackupCommand(command: BackupCommand, name: string | undefined, flags: CliFlags): Promise<void> {
  const config = loadConfig();
  const cli = new BackupCli(config, backupServiceDeps(config), flags);
  switch (command) {
    case 'create':
      return cli.create(name);
    case 'get':
      return cli.get(name);
    case 'describe':
      return cli.describe(name!);
    case 'logs':
      return cli.logs(name!);
    case 'download':
      return cli.download(name!);
  }
}


class BackupCli {
  private readonly json: boolean;

  constructor(
    private readonly config: SkiffConfig,
    private readonly deps: BackupServiceDeps,
    private readonly flags: CliFlags,
  ) {
    this.json = flags.output === 'json';
  }

  async create(name: string | undefined): Promise<void> {
    const { flags, deps, config } = this;
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
    if (flags['no-wait']) return this.print(created, () => `backup "${created.name}" created; run it with the backupRunner function`);
    if (!this.json) console.error(`backup "${created.name}" created; running it here (Ctrl-C stops it; run again to resume)`);
    // The runner and the Kubernetes client are loaded here, by the one command that
    // talks to clusters.
    const [{ runBackup }, { backupRunnerDeps }] = await Promise.all([import('../lib/backup/run-backup'), import('../lib/backup/runner-deps')]);
    const progress = this.json ? undefined : this.showProgress(created.name);
    // Runs in the same 15-minute slices as the function (so a crash holds the lease no
    // longer), one after another until done.
    let outcome;
    do {
      const sliceEnd = Date.now() + 15 * 60_000;
      outcome = await runBackup(await backupRunnerDeps(config, () => sliceEnd - Date.now(), created.name), created.name);
    } while (outcome.state === 'paused');
    progress?.stop();
    const backup = await describeBackup(deps, created.name);
    this.print(backup, () => describeBackupText(backup, false));
    if (backup.status.phase !== 'Completed') process.exitCode = 1;
  }

  private showProgress(name: string): { stop: () => void } {
    if (!process.stderr.isTTY) return { stop: () => undefined };
    const timer = setInterval(() => {
      getBackup(this.deps, name).then(
        // The line is cleared first: the stage's message changes length as it goes.
        (b) => process.stderr.write(`\r\x1b[2K${progressLine(b)}`),
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

  async get(name: string | undefined): Promise<void> {
    const { flags, deps } = this;
    if (name) {
      const backup = await getBackup(deps, name);
      return this.print(backup, () => backupTable([backup]));
    }
    const filter = listFilterSchema.safeParse({ cluster: flags.cluster, schedule: flags.schedule, phase: flags.phase });
    if (!filter.success) throw new ValidationError('command line', fieldIssuesFromZod(filter.error));
    const found = await listBackups(deps, filter.data);
    for (const place of found.unreadable) {
      console.error(`warning: could not read ${place.backup ? `backup ${place.backup} in ` : ''}storage location ${place.storageLocation}`);
    }
    this.print(found, () =>
      found.skippedSlots?.length ? `${backupTable(found.items)}\n\n${skippedSlotsTable(found.skippedSlots)}` : backupTable(found.items),
    );
  }

  /** Velero's layout, with the Backup Volumes section; `--details` adds the resource list. */
  async describe(name: string): Promise<void> {
    const details = this.flags.details === true;
    const backup = await describeBackup(this.deps, name, { details });
    console.log(this.json ? describeBackupStructured(backup, details).trimEnd() : describeBackupText(backup, details));
  }

  /** The backup's log in every phase: running, paused, Failed or finished. */
  async logs(name: string): Promise<void> {
    process.stdout.write(await getBackupLog(this.deps, name));
  }

  async download(name: string): Promise<void> {
    const store = await this.storeOf(name);
    const bytes = await store.getObject(store.layout.backupContentsKey(name));
    if (!bytes) throw new NotFoundError('tarball of backup', name);
    const file = this.flags.file ?? `${name}-data.tar.gz`;
    await new Promise<void>((resolve, reject) => createWriteStream(file).on('error', reject).end(bytes, resolve));
    console.error(`backup ${name} downloaded to ${file} (${bytes.byteLength} bytes)`);
  }

  /** The store that holds a finished backup. */
  private async storeOf(name: string) {
    const backup = await getBackup(this.deps, name);
    const location = backup.spec.storageLocation ?? this.config.storageLocations[0]?.name ?? '';
    return this.deps.storeFor(location);
  }

  private print(value: unknown, text: () => string): void {
    console.log(this.json ? JSON.stringify(value, null, 2) : text());
  }
}
