/**
 * The storage simulator of the test bed: one process that is the CSI driver,
 * external-provisioner and csi-snapshotter of two storage systems (longhorn-like,
 * ontap-like) for every cluster it is given, with one shared storage behind them.
 *
 *   tsx test/bed/simulator/main.ts --port <ledgerPort> --cluster <name>=<kubeconfig> [...]
 *
 * Prints exactly `simulator ready` on stdout once every cluster has its classes and
 * CRDs and the controllers run; logs go to stderr. See README.md.
 */

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ConfigStore } from './config';
import { createHttpServer, listen } from './http';
import { install } from './install';
import { Cluster, errorText } from './kube';
import { Ledger, type LedgerState } from './ledger';
import { log } from './log';
import { LonghornRecords } from './longhorn';
import { type Options, parseOptions } from './options';
import { Provisioner } from './provisioner';
import { Snapshotter } from './snapshotter';

/** Saves the ledger after changes (debounced, atomic), so a restarted simulator keeps its storage. */
function persist(ledger: Ledger, path: string): () => void {
  let timer: NodeJS.Timeout | undefined;
  const save = () => {
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(ledger.toJSON()));
    renameSync(tmp, path);
  };
  ledger.onChange(() => {
    clearTimeout(timer);
    timer = setTimeout(save, 200);
  });
  return () => {
    clearTimeout(timer);
    save();
  };
}

async function main(): Promise<void> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${errorText(err)}\n`);
    process.exit(2);
  }

  log(undefined, `starting for ${options.clusters.map((c) => c.name).join(', ')}`);
  const ledger = new Ledger();
  if (options.statePath && existsSync(options.statePath)) {
    ledger.load(JSON.parse(readFileSync(options.statePath, 'utf8')) as LedgerState);
    log(undefined, `ledger loaded from ${options.statePath}`);
  }
  const saveNow = options.statePath ? persist(ledger, options.statePath) : () => {};
  const config = new ConfigStore(options.config);
  const clusters = options.clusters.map(({ name, kubeconfig }) => new Cluster(name, kubeconfig));

  await Promise.all(
    clusters.map(async (cluster) => {
      await install(cluster);
      log(cluster.name, 'storage classes, snapshot classes and Longhorn CRDs installed');
    }),
  );

  const controllers = clusters.flatMap((cluster) => {
    const deps = { cluster, ledger, config, resyncMs: options.resyncMs };
    return [new Provisioner(deps), new Snapshotter(deps)];
  });
  await Promise.all(controllers.map((c) => c.start()));

  const records = new LonghornRecords(clusters, () => ledger.toJSON());
  ledger.onChange(() => records.kick());
  records.start();

  const server = createHttpServer(ledger, config);
  const port = await listen(server, options.port);
  log(undefined, `ledger on http://127.0.0.1:${port}, clusters ${clusters.map((c) => c.name).join(', ')}`);
  process.stdout.write('simulator ready\n');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(undefined, `${signal}: stopping`);
    for (const c of controllers) c.stop();
    records.stop();
    server.close();
    for (const cluster of clusters) cluster.close();
    saveNow();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  log(undefined, `fatal: ${errorText(err)}`);
  process.exit(1);
});
