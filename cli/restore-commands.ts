import { readFileSync } from 'node:fs';
import { loadConfig, type SkiffConfig } from '../lib/config';
import { ValidationError } from '../lib/core/errors';
import { fieldIssuesFromZod } from '../lib/core/zod-issues';
import { createRestore, getRestore, getRestoreLog, listRestores, restoreListFilterSchema, restoreServiceDeps, type RestoreServiceDeps } from '../lib/restore/service';
import type { CliFlags, RestoreCommand } from './args';
import { describeRestore, progressBar, restoreTable } from './format';
import { bool, list } from './flag-values';

/**
 * `skiff restore <command>`, with Velero's flag names where it has them
 * (`--from-backup`, `--namespace-mappings src:dst`, `--existing-resource-policy`,
 * `--restore-volumes`, `--preserve-nodeports`). Loaded only for a restore command.
 */
export async function runRestoreCommand(command: RestoreCommand, name: string | undefined, flags: CliFlags): Promise<void> {
  const config = loadConfig();
  const cli = new RestoreCli(config, restoreServiceDeps(config), flags);
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
  private readonly json: boolean;

  constructor(
    private readonly config: SkiffConfig,
    private readonly deps: RestoreServiceDeps,
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
        backupName: flags['from-backup'],
        name,
        cluster: flags.cluster,
        includedNamespaces: list(flags['include-namespaces']),
        excludedNamespaces: list(flags['exclude-namespaces']),
        includedResources: list(flags['include-resources']),
        excludedResources: list(flags['exclude-resources']),
        includeClusterResources: bool(flags['include-cluster-resources']),
        labelSelector: selector,
        namespaceMapping: mappings(flags['namespace-mappings']),
        existingResourcePolicy: flags['existing-resource-policy'],
        restorePVs: bool(flags['restore-volumes']),
        preserveNodePorts: flags['preserve-nodeports'],
        resourceModifiers: flags['resource-modifiers-file'] ? readFileSync(flags['resource-modifiers-file'], 'utf8') : undefined,
        acceptRolloutRisk: flags['accept-rollout-risk'],
      }).filter(([, v]) => v !== undefined),
    );
    const created = await createRestore(deps, request);
    if (flags['no-wait']) return this.print(created, () => `restore "${created.name}" created; run it with the restoreRunner function`);
    if (!this.json) console.error(`restore "${created.name}" created; running it here (Ctrl-C stops it)`);
    const [{ runRestore }, { restoreRunnerDeps }] = await Promise.all([import('../lib/restore/run-restore'), import('../lib/restore/runner-deps')]);
    const progress = this.json ? undefined : this.showProgress(created.name);
    let outcome;
    do {
      const sliceEnd = Date.now() + 15 * 60_000;
      outcome = await runRestore(await restoreRunnerDeps(config, () => sliceEnd - Date.now(), created.name), created.name);
    } while (outcome.state === 'paused');
    progress?.stop();
    const restore = await getRestore(deps, created.name);
    this.print(restore, () => describeRestore(restore));
    if (restore.status.phase !== 'Completed') process.exitCode = 1;
  }

  private showProgress(name: string): { stop: () => void } {
    if (!process.stderr.isTTY) return { stop: () => undefined };
    const timer = setInterval(() => {
      getRestore(this.deps, name).then(
        (r) => process.stderr.write(`\r${r.status.phase} ${progressBar(r.status.progress?.itemsRestored ?? 0, r.status.progress?.totalItems ?? 0)}`),
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
    if (name) {
      const restore = await getRestore(this.deps, name);
      return this.print(restore, () => restoreTable([restore]));
    }
    const filter = restoreListFilterSchema.safeParse({ backup: this.flags['from-backup'], cluster: this.flags.cluster, phase: this.flags.phase });
    if (!filter.success) throw new ValidationError('command line', fieldIssuesFromZod(filter.error));
    const found = await listRestores(this.deps, filter.data);
    for (const location of found.unreadable) console.error(`warning: could not read storage location ${location}`);
    this.print(found, () => restoreTable(found.items));
  }

  async describe(name: string): Promise<void> {
    const restore = await getRestore(this.deps, name);
    this.print(restore, () => describeRestore(restore));
  }

  async logs(name: string): Promise<void> {
    process.stdout.write(await getRestoreLog(this.deps, name));
  }

  private print(value: unknown, text: () => string): void {
    console.log(this.json ? JSON.stringify(value, null, 2) : text());
  }
}
