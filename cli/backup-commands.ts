import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ConflictError, ValidationError } from '../lib/core/errors';
import { matchesLabelSelector, parseLabelSelector } from '../lib/velero/label-selector';
import type { Backup } from '../lib/velero/backup';
import type { BackupCommand, CliFlags } from './args';
import { showProgress } from './progress';
import { backupSourceFor, TERMINAL_PHASES, type BackupSource } from './backup-source';
import { backupGetTable } from './backup-table';
import { describeBackupStructured, describeBackupText } from './describe-format';
import { progressLine, skippedSlotsTable } from './format';
import type { Mode } from './mode';
import { printAs } from './output';
import { backupRequestFromFlags } from './backup-request';

/**
 * `skiff backup <command>`, the same output in both modes: the data comes from a
 * BackupSource (the deployed API, or the library here). Loaded by bin/skiff.ts only once
 * the command line is known to name a backup command.
 */
export async function runBackupCommand(mode: Mode, command: BackupCommand, names: string[], flags: CliFlags): Promise<void> {
  const source = await backupSourceFor(mode);
  const cli = new BackupCli(source, flags);
  switch (command) {
    case 'create':
      return cli.create(names[0]);
    case 'get':
      return cli.get(names);
    case 'describe':
      return cli.describe(names);
    case 'logs':
      return cli.logs(names[0]!);
    case 'download':
      return cli.download(names[0]!);
    case 'resume':
      return cli.resume(names[0]!);
  }
}

/** A velero BackupList, or the one backup when there is one, as velero's -o prints them. */
function listObject(items: Backup[]): unknown {
  return items.length === 1 ? items[0] : { apiVersion: 'velero.io/v1', kind: 'BackupList', metadata: {}, items };
}

class BackupCli {
  constructor(
    private readonly source: BackupSource,
    private readonly flags: CliFlags,
  ) {}

  async create(name: string | undefined): Promise<void> {
    const created = await this.source.create(backupRequestFromFlags(name, this.flags));
    console.log(`Backup request "${created.name}" submitted successfully.`);
    const wait = this.source.runsHere || this.flags.wait;
    if (!wait) {
      console.log(`Run \`skiff backup describe ${created.name}\` or \`skiff backup logs ${created.name}\` for more details.`);
      return;
    }
    this.source.catchInterrupt();
    console.log(
      this.source.runsHere
        ? `Running it here; Ctrl-C stops it at the next checkpoint (then \`skiff backup resume ${created.name}\` goes on).`
        : 'Waiting for backup to complete. You may safely press ctrl-c to stop waiting - your backup will continue in the background.',
    );
    return this.followToEnd(created.name);
  }

  /**
   * `skiff backup resume NAME`: a local run stopped with Ctrl-C goes on from its last
   * checkpoint. A deployed Skiff needs no such command: its scheduler restarts a stalled run.
   */
  async resume(name: string): Promise<void> {
    if (!this.source.runsHere) {
      throw new ValidationError('command line', [
        { path: 'resume', message: 'a deployed Skiff goes on with a stopped backup by itself (its scheduler restarts stalled runs); resume is for a local run (--local)' },
      ]);
    }
    const backup = await this.source.get(name);
    if (TERMINAL_PHASES.includes(backup.status.phase ?? 'New')) {
      throw new ConflictError(`backup "${name}" is ${backup.status.phase}: there is nothing to resume`);
    }
    this.source.catchInterrupt();
    console.log(`Resuming backup "${name}" here; Ctrl-C stops it at the next checkpoint.`);
    return this.followToEnd(name);
  }

  private async followToEnd(name: string): Promise<void> {
    const progress = this.showProgress(name);
    let backup: Backup;
    try {
      backup = await this.source.finish(name);
    } finally {
      progress.stop();
    }
    const phase = backup.status.phase ?? 'New';
    if (!TERMINAL_PHASES.includes(phase)) {
      console.log(`Backup "${name}" stopped in phase ${phase}; run \`skiff backup resume ${name}\` to go on.`);
      process.exitCode = 130;
      return;
    }
    console.log(
      `Backup completed with status: ${phase}. You may check for more information using the commands \`skiff backup describe ${name}\` and \`skiff backup logs ${name}\`.`,
    );
    if (phase !== 'Completed') process.exitCode = 1;
  }

  /** A one-line progress bar on stderr, when it is a terminal; never mixed with log lines (they are off without --verbose). */
  private showProgress(name: string): { stop: () => void } {
    return showProgress(() => this.source.get(name).then((b) => progressLine(b)));
  }


  /** The backups to show: the named ones, else the list filtered by --cluster, --schedule, --phase and -l. */
  private async select(names: string[]): Promise<{ items: Backup[]; extra?: string }> {
    const { flags, source } = this;
    const selector = flags.selector !== undefined ? parseLabelSelector(flags.selector) : undefined;
    if (names.length > 0) {
      const items = await Promise.all(names.map((n) => source.get(n)));
      return { items: selector ? items.filter((b) => matchesLabelSelector(selector, b.metadata.labels)) : items };
    }
    const found = await source.list({ cluster: flags.cluster, schedule: flags.schedule, phase: flags.phase });
    for (const place of found.unreadable) {
      console.error(`error: could not read ${place.backup ? `backup ${place.backup} in ` : ''}storage location ${place.storageLocation}`);
    }
    // What is shown is incomplete: a script must not take it for the whole list.
    if (found.unreadable.length > 0) process.exitCode = 1;
    const items = selector ? found.items.filter((b) => matchesLabelSelector(selector, b.metadata.labels)) : found.items;
    return { items, extra: found.skippedSlots?.length ? skippedSlotsTable(found.skippedSlots) : undefined };
  }

  async get(names: string[]): Promise<void> {
    const { items, extra } = await this.select(names);
    const flags = this.flags;
    const wide = flags.output === 'wide';
    await printAs(wide ? undefined : flags.output, listObject(items), () => {
      if (items.length === 0) return 'No backups found.';
      const table = backupGetTable(items, { now: new Date(), wide, showLabels: flags.showLabels, labelColumns: flags.labelColumns });
      return extra ? `${table}\n\n${extra}` : table;
    });
  }

  /**
   * Velero's layout with the Backup Volumes section (each PVC snapshotted, skipped or
   * failed) and the warning and error texts; `--details` adds the resource list.
   * `-o json` is Velero's structured describe; `-o yaml` the described objects.
   */
  async describe(names: string[]): Promise<void> {
    const { items } = await this.select(names);
    const details = this.flags.details === true;
    const described = await Promise.all(items.map((b) => this.source.describe(b.metadata.name, details)));
    if (this.flags.output === 'json') return void console.log(described.map((b) => describeBackupStructured(b, details).trimEnd()).join('\n'));
    await printAs(this.flags.output, listObject(described), () => described.map((b) => describeBackupText(b, details)).join('\n\n\n'));
  }

  /** The backup's log in every phase: running, paused, Failed or finished. */
  async logs(name: string): Promise<void> {
    process.stdout.write(await this.source.log(name));
  }

  /**
   * Streams the tarball to the file (never whole in memory); refuses an existing file
   * without --force, checked when the file is opened so nothing is overwritten by a race.
   */
  async download(name: string): Promise<void> {
    const file = resolve(this.flags.output ?? `${name}-data.tar.gz`);
    const out = createWriteStream(file, { flags: this.flags.force ? 'w' : 'wx' });
    const opened = new Promise<void>((ok, fail) => out.once('open', () => ok()).once('error', fail));
    try {
      await opened;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError(`file ${file} already exists; remove it first or use --force`);
      throw new ValidationError('command line', [{ path: '--output', message: `cannot write ${file}: ${(error as Error).message}` }]);
    }
    try {
      await pipeline(await this.source.contents(name), out);
    } catch (error) {
      out.destroy();
      const { rmSync } = await import('node:fs');
      rmSync(file, { force: true });
      throw error;
    }
    console.log(`Backup ${name} has been successfully downloaded to ${file}`);
  }
}

export { TERMINAL_PHASES };
