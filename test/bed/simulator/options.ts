/**
 * The simulator's command line. Delays and the failure patterns given here are
 * only starting values: tests change them over HTTP (POST /config).
 */

import { parseArgs } from 'node:util';
import { ConfigStore, defaultConfig, parseConfigPatch, type SimConfig } from './config';

export interface Options {
  port: number;
  clusters: { name: string; kubeconfig: string }[];
  config: SimConfig;
  resyncMs: number;
  statePath?: string;
}

const USAGE =
  'usage: main.ts --port <port> --cluster <name>=<kubeconfig> [--cluster ...]\n' +
  '       [--provision-delay-ms N] [--snapshot-delay-ms N] [--delete-delay-ms N]\n' +
  '       [--fail-snapshots-for <regexp>] [--fail-deletes-for <regexp>] [--resync-ms N] [--state <file>]';

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`--${flag} must be a non-negative integer, got ${value}`);
  return Number(value);
}

/** Parses the command line; throws with a usage hint on anything wrong. */
export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      cluster: { type: 'string', multiple: true },
      'provision-delay-ms': { type: 'string' },
      'snapshot-delay-ms': { type: 'string' },
      'delete-delay-ms': { type: 'string' },
      'fail-snapshots-for': { type: 'string' },
      'fail-deletes-for': { type: 'string' },
      'resync-ms': { type: 'string' },
      state: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const port = integer('port', values.port);
  if (port === undefined || port > 65535) throw new Error(`--port is required (0-65535)\n${USAGE}`);
  const clusters = (values.cluster ?? []).map((spec) => {
    const at = spec.indexOf('=');
    if (at <= 0 || at === spec.length - 1) throw new Error(`--cluster wants <name>=<kubeconfig>, got ${spec}`);
    return { name: spec.slice(0, at), kubeconfig: spec.slice(at + 1) };
  });
  if (clusters.length === 0) throw new Error(`at least one --cluster is required\n${USAGE}`);
  const names = clusters.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new Error(`cluster names must be distinct: ${names.join(', ')}`);
  const patch = parseConfigPatch({
    provisionDelayMs: integer('provision-delay-ms', values['provision-delay-ms']),
    snapshotDelayMs: integer('snapshot-delay-ms', values['snapshot-delay-ms']),
    deleteDelayMs: integer('delete-delay-ms', values['delete-delay-ms']),
    failSnapshotsFor: values['fail-snapshots-for'],
    failDeletesFor: values['fail-deletes-for'],
  });
  if (!patch.ok) throw new Error(`invalid flags: ${patch.issues.join('; ')}`);
  const config = new ConfigStore(defaultConfig).update(patch.patch);
  const resyncMs = integer('resync-ms', values['resync-ms']) ?? 2000;
  if (resyncMs < 100) throw new Error('--resync-ms must be at least 100');
  return { port, clusters, config, resyncMs, ...(values.state ? { statePath: values.state } : {}) };
}
