import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { startWatchdog } from './bed';
import { log, seconds } from './log';
import { repoRoot } from './paths';
import { freePorts } from './ports';
import { awaitReady, killOnExit, Supervisor, tailLog } from './processes';
import { RunRecord } from './runs';
import type { BedState, ClusterState } from './state';
import { waitFor } from './wait';

/**
 * Velero itself as a test peer, to judge compatibility with the real thing: its CLI,
 * and its server run outside a bed cluster (the bed has no nodes to run pods), pointed
 * at a bucket of the bed's MinIO through the AWS object store plugin.
 *
 * Only loopback: the server's own metrics port is set to 127.0.0.1, its profiler is
 * off, controller-runtime's metrics server is compiled off (build.sh), the plugin
 * talks to the server over a unix socket, and the only peers are the bed's API
 * server and MinIO, both on 127.0.0.1.
 */

export interface VeleroPrograms {
  /** The `velero` binary: server and CLI. */
  velero: string;
  /** velero-plugin-for-aws, to be copied into a plugin dir. */
  awsPlugin: string;
}

/**
 * Where build.sh cached Velero (`build.sh keys`, SKIFF_BED_VELERO). A missing build
 * is an error saying how to build it, never a silent skip: CI builds it.
 */
export async function findVelero(): Promise<VeleroPrograms> {
  const { stdout } = await promisify(execFile)('bash', [join(repoRoot, 'test/bed/build.sh'), 'keys']);
  const dir = /^SKIFF_BED_VELERO=(.+)$/m.exec(stdout)?.[1];
  if (!dir) throw new Error(`test/bed/build.sh keys printed no SKIFF_BED_VELERO folder:\n${stdout}`);
  const programs = { velero: join(dir, 'bin/velero'), awsPlugin: join(dir, 'plugins/velero-plugin-for-aws') };
  const missing = Object.values(programs).filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(
      `Velero is not built yet (missing ${missing.join(', ')}).\n` + 'Build it once with `bash test/bed/build.sh velero` (about 10 minutes cold).',
    );
  }
  return programs;
}

export interface VeleroPeer {
  cluster: string;
  /** The namespace the server works in (its Backup, Restore, BSL objects). */
  namespace: string;
  logFile: string;
  /** Every TCP socket the server and its plugin processes hold now (Linux /proc). */
  tcpSockets(): TcpSocket[];
  /** Runs the velero CLI against this cluster and namespace; answers stdout, throws with stderr on failure. */
  cli(args: string[], timeoutMs?: number): Promise<string>;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its run file; its log stays. */
  stop(): Promise<void>;
}

export interface TcpSocket {
  /** `ip:port`; IPv6 addresses in brackets. */
  local: string;
  remote: string;
  /** LISTEN, ESTABLISHED, TIME_WAIT... */
  state: string;
}

const TCP_STATES: Record<string, string> = { '01': 'ESTABLISHED', '06': 'TIME_WAIT', '08': 'CLOSE_WAIT', '0A': 'LISTEN' };

/** A /proc/net/tcp{,6} address (hex, little-endian words) as `ip:port`. */
export function procAddress(hex: string): string {
  const [ip = '', port = ''] = hex.split(':');
  const portNumber = parseInt(port, 16);
  if (ip.length === 8) {
    return `${[6, 4, 2, 0].map((i) => parseInt(ip.slice(i, i + 2), 16)).join('.')}:${portNumber}`;
  }
  // IPv6: four 32-bit words, each little-endian.
  const bytes = [0, 8, 16, 24].flatMap((w) => [6, 4, 2, 0].map((i) => ip.slice(w + i, w + i + 2)));
  const groups = Array.from({ length: 8 }, (_, g) => (bytes[2 * g]! + bytes[2 * g + 1]!).toLowerCase());
  const text = groups.join(':');
  const mapped = /^0000:0000:0000:0000:0000:ffff:(..)(..):(..)(..)$/.exec(text);
  if (mapped) return `${mapped.slice(1).map((b) => parseInt(b, 16)).join('.')}:${portNumber}`;
  return `[${text}]:${portNumber}`;
}

/** Pids of the members of process group `pgid`. */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 5 (pgrp), counted after the command name, which may contain spaces.
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2] === String(pgid) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

/** The TCP sockets the processes of group `pgid` hold, from their fds and /proc/net/tcp{,6}. */
export function tcpSocketsOfGroup(pgid: number): TcpSocket[] {
  const inodes = new Set<string>();
  for (const pid of groupMembers(pgid)) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode) inodes.add(inode);
      } catch {
        // Closed in the meantime.
      }
    }
  }
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => inodes.has(fields[9] ?? ''))
      .map((fields) => ({ local: procAddress(fields[1]!), remote: procAddress(fields[2]!), state: TCP_STATES[fields[3]!] ?? fields[3]! })),
  );
}

export interface VeleroOptions {
  state: BedState;
  cluster: string;
  /** MinIO bucket of the default BackupStorageLocation. */
  bucket: string;
  namespace?: string;
  /** How often the server syncs backups from the bucket into the cluster. */
  syncPeriod?: string;
}

const VELERO_IMAGE = 'velero/velero:v1.18.3';

function kubeConfigOf(cluster: ClusterState): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(cluster.adminKubeconfigPath);
  return config;
}

/**
 * Creates an object. One that already exists (an earlier peer on this cluster) is
 * left as it is, except the BackupStorageLocation, which is created anew: it names
 * this peer's bucket and must start with the status setupObjects gives it.
 */
async function ensure(api: KubernetesObjectApi, body: KubernetesObject): Promise<void> {
  if (body.kind === 'BackupStorageLocation') {
    const header = { apiVersion: body.apiVersion, kind: body.kind, metadata: { name: body.metadata!.name!, namespace: body.metadata!.namespace } };
    await api.delete(header).catch((error: { code?: number }) => {
      if (error.code !== 404) throw error;
    });
    await waitFor(async () => api.read(header).then(() => false, (error: { code?: number }) => error.code === 404), {
      what: `BackupStorageLocation ${header.metadata.namespace}/${header.metadata.name} to be gone`,
      timeoutMs: 10_000,
    });
  }
  try {
    await api.create(body);
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
}

/**
 * The objects Velero needs besides its CRDs: its namespace, the default
 * BackupStorageLocation on the MinIO bucket (s3Url and path-style addressing for
 * MinIO; an empty checksumAlgorithm turns off the plugin's default CRC32 upload
 * checksums, which S3-compatible stores do not all handle), and a `velero` Deployment that never runs: a restore reads
 * its image to pick the restore-helper image (velero pkg/util/velero GetVeleroServerImage).
 *
 * The location is created already marked Available. Velero's backup-sync controller
 * runs at start and then once a minute, whatever --backup-sync-period says
 * (backup_sync_controller.go, backupSyncReconcilePeriod), and skips a location that
 * is not Available; the server validates the location only after that first run, so
 * a backup already in the bucket would show up a minute late. The BSL CRD has no
 * status subresource, so the status is part of the create. The server validates the
 * location again at once (--store-validation-frequency) and startVelero waits for that.
 */
function setupObjects(namespace: string, bucket: string, minio: BedState['minio']): KubernetesObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    {
      apiVersion: 'velero.io/v1',
      kind: 'BackupStorageLocation',
      metadata: { name: 'default', namespace },
      spec: {
        provider: 'aws',
        default: true,
        objectStorage: { bucket },
        config: { region: minio.region, s3Url: minio.endpoint, s3ForcePathStyle: 'true', checksumAlgorithm: '' },
      },
      status: { phase: 'Available' },
    } as KubernetesObject,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'velero', namespace, labels: { component: 'velero' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { deploy: 'velero' } },
        template: {
          metadata: { labels: { deploy: 'velero' } },
          spec: { containers: [{ name: 'velero', image: VELERO_IMAGE, command: ['/velero'], args: ['server'] }] },
        },
      },
    } as KubernetesObject,
  ];
}

/**
 * Installs Velero's CRDs into the cluster (`velero install --crds-only`), sets up its
 * namespace and the BackupStorageLocation on `bucket`, and starts `velero server`
 * with the CSI feature, waiting until the location is Available. The server and its
 * plugin run in a process group of their own, listed in a run file next to the
 * bed's, so a crashed test run leaves nothing behind.
 */
export async function startVelero(options: VeleroOptions): Promise<VeleroPeer> {
  const start = performance.now();
  const programs = await findVelero();
  const cluster = options.state.clusters[options.cluster];
  if (!cluster) throw new Error(`the test bed has no cluster "${options.cluster}"`);
  const namespace = options.namespace ?? 'velero';
  const dir = join(options.state.workDir, `velero-${options.cluster}-${randomBytes(3).toString('hex')}`);
  const pluginDir = join(dir, 'plugins');
  const logDir = join(options.state.workDir, 'logs');
  mkdirSync(pluginDir, { recursive: true, mode: 0o700 });
  mkdirSync(logDir, { recursive: true });
  copyFileSync(programs.awsPlugin, join(pluginDir, 'velero-plugin-for-aws'));
  chmodSync(join(pluginDir, 'velero-plugin-for-aws'), 0o755);

  // The keys go to the plugin through the AWS SDK's shared credentials file, as in
  // Velero's own install (its cloud-credentials secret); never on a command line.
  const credentials = join(dir, 'credentials');
  writeFileSync(credentials, `[default]\naws_access_key_id=${options.state.minio.accessKey}\naws_secret_access_key=${options.state.minio.secretKey}\n`, {
    mode: 0o600,
  });
  const env = {
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    // The CLI keeps its config in $HOME/.config/velero: keep it inside the run.
    HOME: dir,
    VELERO_NAMESPACE: namespace,
  };
  const kubeconfig = cluster.adminKubeconfigPath;
  const cli = async (args: string[], timeoutMs = 60_000): Promise<string> => {
    try {
      const { stdout } = await promisify(execFile)(programs.velero, [...args, '--kubeconfig', kubeconfig, '--namespace', namespace], {
        env: { ...process.env, ...env },
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout;
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`velero ${args.join(' ')} failed: ${(error as Error).message}\n${stdout ?? ''}\n${stderr ?? ''}`);
    }
  };

  await cli(['install', '--crds-only']);
  const kubeConfig = kubeConfigOf(cluster);
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  // `install` does not wait: the objects below need the CRDs served.
  await waitFor(() => api.list('velero.io/v1', 'BackupStorageLocation', namespace), { what: 'Velero CRDs to be served', timeoutMs: 30_000 });
  for (const body of setupObjects(namespace, options.bucket, options.state.minio)) await ensure(api, body);

  const run = new RunRecord(options.state.workDir, `velero-${options.cluster}`);
  const supervisor = new Supervisor(run, logDir);
  const removeExitHooks = killOnExit(supervisor);
  // A test worker killed outright runs no exit hooks: the watchdog stops the server then.
  startWatchdog(run.path);
  const stop = async () => {
    await supervisor.stop();
    removeExitHooks();
    run.remove();
  };
  const ports = await freePorts('metrics');
  const server = supervisor.start(
    `${options.cluster}-velero`,
    programs.velero,
    [
      'server',
      '--kubeconfig',
      kubeconfig,
      '--namespace',
      namespace,
      '--plugin-dir',
      pluginDir,
      '--features=EnableCSI',
      `--metrics-address=127.0.0.1:${ports.metrics}`,
      '--profiler-address=',
      `--backup-sync-period=${options.syncPeriod ?? '5s'}`,
      '--store-validation-frequency=5s',
    ],
    { env, cwd: dir },
  );
  try {
    // Validated by this server (lastValidationTime is only set by a validation), and found reachable.
    const status = await awaitReady(
      server,
      `BackupStorageLocation ${namespace}/default of ${options.cluster} to be validated`,
      async () => {
        const bsl = (await api.read({ apiVersion: 'velero.io/v1', kind: 'BackupStorageLocation', metadata: { name: 'default', namespace } })) as {
          status?: { phase?: string; lastValidationTime?: string; message?: string };
        };
        return bsl.status?.lastValidationTime ? bsl.status : undefined;
      },
      60_000,
    );
    if (status.phase !== 'Available') {
      throw new Error(`Velero on ${options.cluster} finds BackupStorageLocation ${namespace}/default ${status.phase}: ${status.message ?? 'no message'} (log: ${server.logFile})`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  log(`velero server on ${options.cluster} ready in ${seconds(start)}; log ${server.logFile}`);
  return { cluster: options.cluster, namespace, logFile: server.logFile, tcpSockets: () => tcpSocketsOfGroup(server.pid), cli, stop };
}

/** The end of a Velero server's log, for assertion messages. */
export function veleroLogTail(peer: VeleroPeer, lines = 60): string {
  return tailLog(peer.logFile, lines);
}
