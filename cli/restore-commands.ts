import { readFileSync } from 'node:fs';
import { loadConfig } from '../lib/config';
import { ValidationError } from '../lib/core/errors';
import { fieldIssuesFromZod } from '../lib/core/zod-issues';
import { createRestore, getRestore, getRestoreLog, listRestores, restoreListFilterSchema, restoreServiceDeps, type RestoreServiceDeps } from '../lib/restore/service';
import type { CliFlags, RestoreCommand } from './args';
import { showProgress } from './progress';
import { describeRestore, progressBar, restoreTable } from './format';
import { list } from './flag-values';
import type { Mode } from './mode';
import { printAs } from './output';
import { parseLabelSelector } from '../lib/velero/label-selector';
import type { Restore } from '../lib/velero/restore';

/**
 * `skiff restore <command>`, with Velero's flag names where it has them
 * (`--from-backup`, `--namespace-mappings src:dst`, `--existing-resource-policy`,
 * `--restore-volumes`, `--preserve-nodeports`). Loaded only for a restore command.
 */
export async function runRestoreCommand(mode: Mode, command: RestoreCommand, name: string | undefined, flags: CliFlags): Promise<void> {
  const cli = new RestoreCli(await restoreSourceFor(mode), flags);
  switch (command) {
    case 'create':
      return cli.create(name);
    case 'get':
      return cli.get(name);
    case 'describe':
      return cli.describe(name!);
    case 'logs':
      return cli.logs(name!);
  }
}

type RestoreView = Awaited<ReturnType<typeof getRestore>>;

/** Where the restore commands read and write restores: the deployed API or the library here. */
interface RestoreSource {
  readonly runsHere: boolean;
  create(request: Record<string, unknown>): Promise<{ name: string }>;
  finish(name: string): Promise<RestoreView>;
  get(name: string): Promise<RestoreView>;
  list(filter: Record<string, string | undefined>): Promise<{ items: Restore[]; unreadable: string[] }>;
  log(name: string): Promise<string>;
}

const RESTORE_DONE = ['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation'];

async function restoreSourceFor(mode: Mode): Promise<RestoreSource> {
  if (mode.kind === 'client') {
    const api = mode.api;
    const path = (name: string) => `/restores/${encodeURIComponent(name)}`;
    const get = (name: string) => api.json<RestoreView>('GET', path(name));
    return {
      runsHere: false,
      create: (request) => api.json('POST', '/restores', request),
      get,
      async finish(name) {
        for (;;) {
          const restore = await get(name);
          if (RESTORE_DONE.includes(restore.status.phase)) return restore;
          await new Promise((r) => setTimeout(r, 1000));
        }
      },
      list: (filter) => {
        const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined));
        return api.json('GET', `/restores${query.size > 0 ? `?${query}` : ''}`);
      },
      log: (name) => api.text(`${path(name)}/logs`),
    };
  }
  const config = loadConfig();
  const deps = restoreServiceDeps(config);
  return {
    runsHere: true,
    create: (request) => createRestore(deps, request),
    get: (name) => getRestore(deps, name),
    async finish(name) {
      const [{ runRestore }, { restoreRunnerDeps }] = await Promise.all([import('../lib/restore/run-restore'), import('../lib/restore/runner-deps')]);
      let outcome;
      do {
        const sliceEnd = Date.now() + 15 * 60_000;
        outcome = await runRestore(await restoreRunnerDeps(config, () => sliceEnd - Date.now(), name), name);
      } while (outcome.state === 'paused');
      return getRestore(deps, name);
    },
    list: (filter) => {
      const parsed = restoreListFilterSchema.safeParse(filter);
      if (!parsed.success) throw new ValidationError('command line', fieldIssuesFromZod(parsed.error));
      return listRestores(deps, parsed.data);
    },
    log: (name) => getRestoreLog(deps, name),
  };
}

/** `a:b,c:d` → `{a: "b", c: "d"}`, as Velero's --namespace-mappings reads it. */
function mappings(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  const pairs = list(text)!.map((pair) => pair.split(':'));
  const wrong = pairs.filter((p) => p.length !== 2 || !p[0] || !p[1]);
  if (wrong.length > 0) {
    throw new ValidationError('command line', [{ path: '--namespace-mappings', message: `write each mapping as source:target, e.g. shop:shop-copy; got ${wrong.map((p) => p.join(':')).join(', ')}` }]);
  }
  return Object.fromEntries(pairs as [string, string][]);
}

class RestoreCli {
  constructor(
    private readonly source: RestoreSource,
    private readonly flags: CliFlags,
  ) {}

  async create(name: string | undefined): Promise<void> {
    const { flags, source } = this;
    const request = Object.fromEntries(
      Object.entries({
        backupName: flags.fromBackup,
        name,
        cluster: flags.cluster,
        includedNamespaces: list(flags.includeNamespaces),
        excludedNamespaces: list(flags.excludeNamespaces),
        includedResources: list(flags.includeResources),
        excludedResources: list(flags.excludeResources),
        includeClusterResources: flags.includeClusterResources,
        labelSelector: flags.selector !== undefined ? parseLabelSelector(flags.selector) : undefined,
        namespaceMapping: mappings(flags.namespaceMappings),
        existingResourcePolicy: flags.existingResourcePolicy,
        restorePVs: flags.restoreVolumes,
        preserveNodePorts: flags.preserveNodeports,
        resourceModifiers: flags.resourceModifiersFile ? readFileSync(flags.resourceModifiersFile, 'utf8') : undefined,
        acceptRolloutRisk: flags.acceptRolloutRisk,
      }).filter(([, v]) => v !== undefined),
    );
    const created = await source.create(request);
    const structured = flags.output === 'json' || flags.output === 'yaml';
    if (flags.noWait) return printAs(flags.output, created, () => `Restore request "${created.name}" submitted successfully.`);
    if (!structured) console.error(`restore "${created.name}" created; ${source.runsHere ? 'running it here (Ctrl-C stops it)' : 'waiting for it to finish'}`);
    const progress = structured ? undefined : this.showProgress(created.name);
    let restore: RestoreView;
    try {
      restore = await source.finish(created.name);
    } finally {
      progress?.stop();
    }
    await printAs(flags.output, restore, () => describeRestore(restore));
    if (restore.status.phase !== 'Completed') process.exitCode = 1;
  }

  private showProgress(name: string): { stop: () => void } {
    return showProgress(() => this.source.get(name).then((r) => `${r.status.phase} ${progressBar(r.status.progress?.itemsRestored ?? 0, r.status.progress?.totalItems ?? 0)}`));
  }


  async get(name: string | undefined): Promise<void> {
    if (name) {
      const restore = await this.source.get(name);
      return printAs(this.flags.output, restore, () => restoreTable([restore]));
    }
    const found = await this.source.list({ backup: this.flags.fromBackup, cluster: this.flags.cluster, phase: this.flags.phase });
    for (const location of found.unreadable) console.error(`error: could not read storage location ${location}`);
    if (found.unreadable.length > 0) process.exitCode = 1;
    await printAs(this.flags.output, found, () => restoreTable(found.items));
  }

  async describe(name: string): Promise<void> {
    const restore = await this.source.get(name);
    await printAs(this.flags.output, restore, () => describeRestore(restore));
  }

  async logs(name: string): Promise<void> {
    process.stdout.write(await this.source.log(name));
  }
}
