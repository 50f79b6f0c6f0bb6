import type { Readable } from 'node:stream';
import type { BackupDetails, DescribedBackup } from '../lib/backup/describe';
import type { BackupList, CreatedBackup, ListFilter } from '../lib/backup/service';
import { ConflictError, ValidationError } from '../lib/core/errors';
import { fieldIssuesFromZod } from '../lib/core/zod-issues';
import type { Backup, BackupPhase } from '../lib/velero/backup';
import { ApiClient } from './client/api-client';
import type { Mode } from './mode';

/** Phases after which a backup changes no more (by itself). */
export const TERMINAL_PHASES: readonly BackupPhase[] = ['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation'];

/**
 * Where the backup commands get and put backups: the same calls in both modes, so the
 * commands print the same. `finish` runs a created backup to its end here (local mode),
 * or waits for the deployed Skiff to (client mode, --wait).
 */
export interface BackupSource {
  /** True when a created backup runs in this process (local mode). */
  readonly runsHere: boolean;
  /** From now until `finish` returns, Ctrl-C stops the local run at its next checkpoint (no-op in client mode). */
  catchInterrupt(): void;
  create(request: Record<string, unknown>): Promise<CreatedBackup>;
  finish(name: string): Promise<Backup>;
  get(name: string): Promise<Backup>;
  /** The backup with its volumes and result texts (and with `details` its resource list): lib/backup/describe.ts. */
  describe(name: string, details: boolean): Promise<DescribedBackup>;
  list(filter: { cluster?: string; schedule?: string; phase?: string }): Promise<BackupList>;
  log(name: string): Promise<string>;
  /** The tarball as a stream; 409 naming the phase when there is none. */
  contents(name: string): Promise<Readable>;
}

/** What GET /backups/{name} adds to a Backup (lib/backup/describe.ts); typed here so the client loads none of that module. */
const DETAIL_FIELDS = ['volumes', 'volumesNote', 'results', 'resultsNote', 'resourceList', 'resourceListNote'] as const satisfies readonly (keyof BackupDetails)[];

/** The Backup object alone, without what describe adds (what `get -o json` prints, as velero does). */
function backupOfDescribed(described: DescribedBackup): Backup {
  const backup: Record<string, unknown> = { ...described };
  for (const field of DETAIL_FIELDS) delete backup[field];
  return backup as unknown as Backup;
}

/** The source of a mode; local mode loads the configuration and the S3 client here. */
export async function backupSourceFor(mode: Mode): Promise<BackupSource> {
  return mode.kind === 'client' ? apiBackupSource(mode.api) : localBackupSource();
}

/** The deployed Skiff's routes: POST/GET /backups, GET /backups/{name}[/logs|/download]. */
function apiBackupSource(api: ApiClient): BackupSource {
  const path = (name: string) => `/backups/${encodeURIComponent(name)}`;
  // GET /backups/{name} answers the described backup; get and the wait loop want the Backup alone.
  const get = async (name: string) => backupOfDescribed(await api.json<DescribedBackup>('GET', path(name)));
  return {
    runsHere: false,
    catchInterrupt: () => undefined,
    create: (request) => api.json<CreatedBackup>('POST', '/backups', request),
    get,
    describe: (name, details) => api.json<DescribedBackup>('GET', `${path(name)}${details ? '?details=true' : ''}`),
    async finish(name) {
      for (;;) {
        const backup = await get(name);
        if (TERMINAL_PHASES.includes(backup.status.phase ?? 'New')) return backup;
        await new Promise((r) => setTimeout(r, 1000));
      }
    },
    list: (filter) => {
      const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined));
      return api.json<BackupList>('GET', `/backups${query.size > 0 ? `?${query}` : ''}`);
    },
    log: (name) => api.text(`${path(name)}/logs`),
    async contents(name) {
      const { url } = await api.json<{ url: string }>('GET', `${path(name)}/download`);
      return ApiClient.download(url);
    },
  };
}

/** The library, here, with the configuration's credentials. */
async function localBackupSource(): Promise<BackupSource> {
  const [{ loadConfig }, service] = await Promise.all([import('../lib/config'), import('../lib/backup/service')]);
  const config = loadConfig();
  const deps = service.backupServiceDeps(config);
  // Ctrl-C ends the slice: the runner pauses at its next checkpoint and gives the lease
  // back, so `skiff backup resume` can go on; a second Ctrl-C quits at once.
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write('\nstopping at the next checkpoint (Ctrl-C again quits at once)\n');
  };
  return {
    runsHere: true,
    catchInterrupt: () => void process.on('SIGINT', stop),
    create: (request) => service.createBackup(deps, request),
    get: (name) => service.getBackup(deps, name),
    describe: (name, details) => service.describeBackup(deps, name, { details }),
    async finish(name) {
      try {
        // The runner and the Kubernetes client are loaded here, by the one command that talks to clusters.
        const [{ runBackup }, { backupRunnerDeps }] = await Promise.all([import('../lib/backup/run-backup'), import('../lib/backup/runner-deps')]);
        // Runs in the same 15-minute slices as the function (so a crash holds the lease no
        // longer), one after another until done or stopped.
        let outcome;
        do {
          const sliceEnd = Date.now() + 15 * 60_000;
          outcome = await runBackup(await backupRunnerDeps(config, () => (stopping ? 0 : sliceEnd - Date.now()), name), name);
        } while (outcome.state === 'paused' && !stopping);
        if (outcome.state === 'busy') {
          throw new ConflictError(`backup "${name}" is being run by ${outcome.owner}, whose hold lasts until its slice ends (at most 15 minutes); try again then`);
        }
      } finally {
        process.off('SIGINT', stop);
      }
      return service.getBackup(deps, name);
    },
    list: (filter) => {
      const parsed = service.listFilterSchema.safeParse(filter);
      if (!parsed.success) throw new ValidationError('command line', fieldIssuesFromZod(parsed.error));
      return service.listBackups(deps, parsed.data as ListFilter);
    },
    log: (name) => service.getBackupLog(deps, name),
    async contents(name) {
      const { store } = await service.downloadableBackup(deps, name);
      const stream = await store.openBackupContents(name);
      if (!stream) throw new (await import('../lib/core/errors')).NotFoundError('tarball of backup', name, `storage location "${store.location}" has none`);
      return stream;
    },
  };
}
