import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { backupServiceDeps, createBackup } from '../../lib/backup/service';
import { validateConfig, type SkiffConfig } from '../../lib/config';
import { expiryServiceDeps, requestDeletion } from '../../lib/expiry/service';
import type { KubeClient } from '../../lib/kube/client';
import { connectCluster } from '../../lib/kube/connect';
import { isNotFound } from '../../lib/kube/errors';
import { listAll } from '../../lib/kube/list-all';
import { readRestoreRecord } from '../../lib/restore/record';
import { createRestore, restoreServiceDeps } from '../../lib/restore/service';
import type { BackupStore } from '../../lib/store/backup-store';
import { storeResolver } from '../../lib/store/resolver';
import { volumeSnapshotsPath } from '../../lib/csi/snapshot-api';
import { backupLabelSelector } from '../../lib/velero/labels';
import type { RestartableComponent } from '../bed/bed';
import { minioClient } from '../bed/minio-client';
import type { LedgerState } from '../bed/simulator/ledger';
import type { BedState } from '../bed/state';
import { skiffConfigForBed } from '../bed/skiff-config';
import { waitFor } from '../bed/wait';
import type { FaultProxy } from '../support/fault-proxy';
import * as inv from './invariants';
import { invoke, offsetPastLease, progressOf, type InvocationResult, type Job, type KillPoint } from './jobs';
import type { Prng } from './prng';

/**
 * One randomized lifecycle on the bed: a namespace in alpha with volumes of one or both
 * storage personalities, then a seeded sequence of steps (back up, sync, restore into
 * another namespace or cluster, delete a backup by hand, let backups expire, delete a
 * restored namespace), each possibly under a fault, each followed by the invariant
 * checks; at the end everything is deleted and nothing may be left.
 */

export type FaultKind =
  | 'kill-job'
  | 's3-500'
  | 's3-503'
  | 's3-delay'
  | 's3-drop'
  | 'minio-restart'
  | 'apiserver-restart'
  | 'kube-429'
  | 'kube-500'
  | 'kube-503'
  | 'storage-slow'
  | 'storage-fail-snapshots';

export const FAULT_KINDS: FaultKind[] = [
  'kill-job',
  's3-500',
  's3-503',
  's3-delay',
  's3-drop',
  'minio-restart',
  'apiserver-restart',
  'kube-429',
  'kube-500',
  'kube-503',
  'storage-slow',
  'storage-fail-snapshots',
];

export interface ChaosEnv {
  state: BedState;
  /** Restarts a bed component (Bed.restart); absent when the bed belongs to another process (then those faults are skipped). */
  restart?: (component: RestartableComponent, downMs?: number) => Promise<void>;
  s3Proxy: FaultProxy;
  /** A TLS fault proxy in front of each cluster's API server, by cluster name. */
  kubeProxies: Record<string, FaultProxy>;
  /** Where each lifecycle's job output goes (kept after the run). */
  logDir: string;
  /** Where the job configurations go (they hold the bed's credentials: the bed's work dir). */
  configDir: string;
  /** Probability that a step runs under a fault. */
  faultRate: number;
  log: (line: string) => void;
}

export interface Violation {
  seed: number;
  step: string;
  detail: string;
}

export interface LifecycleReport {
  seed: number;
  steps: string[];
  faults: Partial<Record<FaultKind, number>>;
  killPoints: Record<string, number>;
  /** Kill points the job ended before reaching. */
  missedKills: number;
  invocations: number;
  violations: Violation[];
  durationMs: number;
  error?: string;
}

const CLASSES = {
  'sim-longhorn': 'sim-longhorn-retain',
  'sim-ontap': 'sim-ontap-retain',
};
const CLASS_ANNOTATIONS = {
  'velero.io/csi-volumesnapshot-class_driver.longhorn.io': CLASSES['sim-longhorn'],
  'velero.io/csi-volumesnapshot-class_csi.trident.netapp.io': CLASSES['sim-ontap'],
};
const BUDGET_MS = 40_000;
const DAY = 86_400_000;

type Op = 'backup' | 'sync' | 'restore' | 'deleteByHand' | 'expire' | 'deleteRestored';

export class Lifecycle {
  private readonly report: LifecycleReport;
  private readonly model: inv.Model = { backups: new Map(), restores: [], sourceNamespaces: [], expiryNowMs: 0 };
  private config!: SkiffConfig;
  private jobConfigPath!: string;
  private store!: BackupStore;
  private clients!: Record<string, KubeClient>;
  private world!: inv.World;
  private namespace = '';
  private readonly restored: { cluster: string; namespace: string }[] = [];
  private readonly logDir: string;
  private step = 'setup';

  constructor(
    private readonly env: ChaosEnv,
    private readonly rng: Prng,
  ) {
    this.report = { seed: rng.seed, steps: [], faults: {}, killPoints: {}, missedKills: 0, invocations: 0, violations: [], durationMs: 0 };
    this.logDir = join(env.logDir, `lifecycle-${rng.seed}`);
    // A replay of the same seed starts with empty job logs.
    rmSync(this.logDir, { recursive: true, force: true });
    mkdirSync(this.logDir, { recursive: true });
    mkdirSync(env.configDir, { recursive: true, mode: 0o700 });
  }

  async run(): Promise<LifecycleReport> {
    const started = Date.now();
    try {
      await this.setup();
      const ops = this.plan();
      for (const [i, op] of ops.entries()) {
        this.step = `${i + 1}:${op}`;
        await this.runStep(op);
      }
      this.step = 'teardown';
      await this.teardown();
    } catch (error) {
      this.report.error = `${this.step}: ${(error as Error).stack ?? String(error)}`;
      this.env.log(`lifecycle ${this.rng.seed} stopped at ${this.step}: ${(error as Error).message}`);
    } finally {
      for (const client of Object.values(this.clients ?? {})) client.close();
      this.report.durationMs = Date.now() - started;
    }
    return this.report;
  }

  private async setup(): Promise<void> {
    const { state } = this.env;
    const bucket = `chaos-${this.rng.seed.toString(16)}-${Date.now().toString(36)}`;
    await minioClient(state.minio).send(new CreateBucketCommand({ Bucket: bucket }));
    const raw = skiffConfigForBed(state, { bucket, apiToken: 'chaos-api-token' });
    this.config = validateConfig(raw, 'chaos');
    // The jobs reach MinIO through the fault proxy; the harness reads it directly.
    const jobRaw = {
      ...raw,
      clusters: raw.clusters.map((c) => ({ ...c, server: this.env.kubeProxies[c.name]?.url ?? c.server })),
      storageLocations: raw.storageLocations.map((l) => ({ ...l, endpoint: this.env.s3Proxy.url })),
    };
    this.jobConfigPath = join(this.env.configDir, `config-${this.rng.seed}.json`);
    writeFileSync(this.jobConfigPath, JSON.stringify(jobRaw), { mode: 0o600 });
    this.store = storeResolver(this.config)('default');
    this.clients = {};
    for (const cluster of this.config.clusters) this.clients[cluster.name] = await connectCluster({ ...cluster, qps: 200, burst: 400 });
    this.world = { store: this.store, clients: this.clients, ledger: () => this.ledger() };

    const alpha = this.clients.alpha!;
    this.namespace = `chaos-${this.rng.seed.toString(16)}-${Date.now().toString(36)}`.slice(0, 63);
    this.model.sourceNamespaces.push(this.namespace);
    await alpha.create('/api/v1/namespaces', { metadata: { name: this.namespace } });
    const personality = this.rng.pick(['sim-longhorn', 'sim-ontap', 'mixed'] as const);
    const classes = personality === 'mixed' ? ['sim-longhorn', 'sim-ontap'] : Array.from({ length: this.rng.int(1, 2) }, () => personality);
    this.report.steps.push(`setup ${personality} ${classes.length} volume(s)`);
    await alpha.create(`/api/v1/namespaces/${this.namespace}/configmaps`, { metadata: { name: 'settings', labels: { app: 'chaos' } }, data: { seed: String(this.rng.seed) } });
    await alpha.create(`/api/v1/namespaces/${this.namespace}/secrets`, { metadata: { name: 'db' }, stringData: { password: 'hunter2' } });
    for (const [i, storageClassName] of classes.entries()) {
      await alpha.create(`/api/v1/namespaces/${this.namespace}/persistentvolumeclaims`, {
        metadata: { name: `data-${i}`, labels: { app: 'chaos' } },
        spec: { storageClassName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      });
    }
    await waitFor(
      async () => (await listAll(alpha, `/api/v1/namespaces/${this.namespace}/persistentvolumeclaims`)).every((c) => (c.status as { phase?: string })?.phase === 'Bound'),
      { what: `PVCs of ${this.namespace} bound`, timeoutMs: 60_000 },
    );
  }

  /** The steps: a backup first, then a seeded mix. */
  private plan(): Op[] {
    const weighted: [Op, number][] = [
      ['backup', 3],
      ['sync', 2],
      ['restore', 2],
      ['deleteByHand', 1],
      ['expire', 1],
      ['deleteRestored', 1],
    ];
    const total = weighted.reduce((s, [, w]) => s + w, 0);
    const ops: Op[] = ['backup'];
    const count = this.rng.int(3, 6);
    while (ops.length < count) {
      let r = this.rng.next() * total;
      for (const [op, w] of weighted) {
        if ((r -= w) < 0) {
          ops.push(op);
          break;
        }
      }
    }
    return ops;
  }

  private chooseFault(kinds: FaultKind[]): FaultKind | undefined {
    const available = kinds.filter((k) => this.env.restart || (k !== 'minio-restart' && k !== 'apiserver-restart'));
    if (available.length === 0 || !this.rng.chance(this.env.faultRate)) return undefined;
    // Killing the job at one of its own steps is the fault most worth covering: a third of all.
    if (available.includes('kill-job') && this.rng.chance(1 / 3)) return 'kill-job';
    return this.rng.pick(available);
  }

  private async runStep(op: Op): Promise<void> {
    const all: FaultKind[] = FAULT_KINDS;
    switch (op) {
      case 'backup':
        return this.backupStep(this.chooseFault(all));
      case 'sync':
        return this.syncStep(this.chooseFault(all.filter((k) => k !== 'storage-fail-snapshots')));
      case 'restore':
        return this.restoreStep(this.chooseFault(all.filter((k) => k !== 'storage-fail-snapshots')));
      case 'deleteByHand':
        return this.deleteByHandStep(this.chooseFault(all.filter((k) => k !== 'storage-fail-snapshots')));
      case 'expire':
        return this.expireStep(this.chooseFault(all.filter((k) => k !== 'storage-fail-snapshots')));
      case 'deleteRestored':
        return this.deleteRestoredStep();
    }
  }

  // --- steps -------------------------------------------------------------------------

  private async backupStep(fault: FaultKind | undefined): Promise<void> {
    const ttl = this.rng.pick(['1h', '720h']);
    const name = `b-${this.rng.seed.toString(16)}-${this.model.backups.size}-${Date.now().toString(36)}`;
    await createBackup(backupServiceDeps(this.config), { cluster: 'alpha', name, includedNamespaces: [this.namespace], ttl, annotations: CLASS_ANNOTATIONS });
    this.note(`backup ${name} ttl ${ttl}`, fault);
    const kill = fault === 'kill-job' ? this.backupKillPoint(name) : undefined;
    await this.underFault(fault, 'alpha', async () => {
      let offset = 0;
      for (let attempt = 1; attempt <= 8; attempt++) {
        // Read while the fault may still go on (MinIO restarting): the harness waits it out.
        const record = await this.patiently(() => progressOf(this.store, name));
        if (!record || record.stage === 'Done' || record.stage === 'Failed') break;
        offset = offsetPastLease(record, offset);
        const result = await this.invoke('backup', name, { offsetMs: offset, ...(attempt === 1 && kill ? { kill } : {}) });
        // The record, not the invocation's answer, says whether the backup is finished: a run
        // that failed but could not record it (the store unreachable) leaves the record
        // InProgress, and the reconcile schedule starts it again once its lease is over.
        if (result.error || (result.outcome as { state?: string } | undefined)?.state === 'failed') await new Promise((r) => setTimeout(r, 1_000));
      }
    });
    const metadata = await this.store.getBackupMetadata(name);
    const record = metadata ? undefined : await progressOf(this.store, name);
    const backup = metadata ?? record?.backup;
    const phase = backup?.status.phase;
    this.check(inv.finalPhase(name, phase, backup?.status.failureReason));
    const handles = metadata ? (await this.store.getCsiVolumeSnapshotContents(name)).map((c) => c.status?.snapshotHandle).filter((h): h is string => !!h) : [];
    const expiration = backup?.status.expiration ? Date.parse(backup.status.expiration) : undefined;
    this.model.backups.set(name, { name, phase, handles, deletionRequested: false, ...(expiration ? { expiresAtMs: expiration } : {}) });
    this.report.steps[this.report.steps.length - 1] += ` → ${phase}`;
    await this.checkAll();
  }

  private async syncStep(fault: FaultKind | undefined): Promise<void> {
    const cluster = this.rng.pick(['beta', 'beta', 'alpha']);
    this.note(`sync ${cluster}`, fault);
    const before = (await this.ledger()).snapshots.length;
    const request = JSON.stringify({ cluster });
    await this.underFault(fault, cluster, async () => {
      const kill = fault === 'kill-job' ? this.syncKillPoint(cluster) : undefined;
      await this.invoke('sync', request, kill ? { kill } : {});
    });
    // The next scheduled sync, without a fault.
    await this.invoke('sync', request, {});
    this.check(await inv.syncSafe(this.world, this.model, before));
    await this.checkAll();
  }

  private visibleBackups(): inv.BackupModel[] {
    return [...this.model.backups.values()].filter((b) => (b.phase === 'Completed' || b.phase === 'PartiallyFailed') && !b.deletionRequested && !(b.expiresAtMs !== undefined && b.expiresAtMs <= this.model.expiryNowMs));
  }

  private async restoreStep(fault: FaultKind | undefined): Promise<void> {
    const candidates = this.visibleBackups();
    if (candidates.length === 0) return this.note('restore skipped: no restorable backup', undefined);
    const backup = this.rng.pick(candidates);
    const cluster = this.rng.pick(['alpha', 'beta']);
    const target = `${this.namespace.slice(0, 40)}-r${this.model.restores.length}`;
    const name = `r-${this.rng.seed.toString(16)}-${this.model.restores.length}-${Date.now().toString(36)}`;
    try {
      await createRestore(restoreServiceDeps(this.config), { backupName: backup.name, name, cluster, namespaceMapping: { [this.namespace]: target } });
    } catch (error) {
      return this.note(`restore of ${backup.name} refused: ${(error as Error).message}`, undefined);
    }
    this.model.restores.push(name);
    this.restored.push({ cluster, namespace: target });
    this.note(`restore ${backup.name} → ${cluster}/${target}`, fault);
    const before = await inv.fingerprint(this.clients.alpha!, this.namespace);
    const kill = fault === 'kill-job' ? this.restoreKillPoint(name, cluster, target) : undefined;
    await this.underFault(fault, cluster, async () => {
      for (let attempt = 1; attempt <= 8; attempt++) {
        const result = await this.invoke('restore', name, attempt === 1 && kill ? { kill } : {});
        if ((result.outcome as { state?: string } | undefined)?.state === 'done') break;
        if (!result.killedAt && !result.outcome) await new Promise((r) => setTimeout(r, 1_000));
      }
    });
    const record = (await readRestoreRecord(this.store, name))?.record;
    this.report.steps[this.report.steps.length - 1] += ` → ${record?.restore.status.phase}`;
    this.check(await inv.restoreSafe(this.world, cluster, name, record?.restore.status.phase, record?.restore.status.failureReason));
    this.check(inv.sameFingerprint(this.namespace, before, await inv.fingerprint(this.clients.alpha!, this.namespace)));
    await this.checkAll();
  }

  private async deleteByHandStep(fault: FaultKind | undefined): Promise<void> {
    const candidates = this.visibleBackups();
    if (candidates.length === 0) return this.note('delete skipped: no backup', undefined);
    const backup = this.rng.pick(candidates);
    backup.deletionRequested = true;
    await requestDeletion(expiryServiceDeps(this.config), backup.name);
    this.note(`delete ${backup.name} by hand`, fault);
    const kill = fault === 'kill-job' ? this.expiryKillPoint(backup) : undefined;
    await this.underFault(fault, 'alpha', () => this.invoke('expiry', JSON.stringify({ location: 'default', backup: backup.name }), kill ? { kill } : {}));
    // The next scheduled run finishes what the first left.
    await this.invoke('expiry', JSON.stringify({ location: 'default' }), {});
    await this.checkAll();
  }

  private async expireStep(fault: FaultKind | undefined): Promise<void> {
    const offsetMs = 2 * DAY;
    this.model.expiryNowMs = Math.max(this.model.expiryNowMs, Date.now() + offsetMs);
    const expiring = [...this.model.backups.values()].find((b) => b.expiresAtMs !== undefined && b.expiresAtMs <= this.model.expiryNowMs && b.handles.length > 0);
    this.note('expiry run, two days on', fault);
    const kill = fault === 'kill-job' && expiring ? this.expiryKillPoint(expiring) : fault === 'kill-job' ? { name: 'expiry:random', afterMs: this.rng.int(200, 3_000) } : undefined;
    await this.underFault(fault, 'alpha', () => this.invoke('expiry', JSON.stringify({ location: 'default' }), { offsetMs, ...(kill ? { kill } : {}) }));
    await this.invoke('expiry', JSON.stringify({ location: 'default' }), { offsetMs });
    await this.checkAll();
  }

  private async deleteRestoredStep(): Promise<void> {
    const target = this.restored.shift();
    if (!target) return this.note('delete restored namespace skipped: none', undefined);
    this.note(`delete namespace ${target.cluster}/${target.namespace}`, undefined);
    await this.deleteNamespace(target.cluster, target.namespace);
    await this.checkAll();
  }

  private async teardown(): Promise<void> {
    for (const target of this.restored.splice(0)) await this.deleteNamespace(target.cluster, target.namespace);
    await this.deleteNamespace('alpha', this.namespace);
    // Everything expires 60 days on (TTLs are at most 30 days); runs go on until nothing is left.
    const offsetMs = 60 * DAY;
    this.model.expiryNowMs = Date.now() + offsetMs;
    for (let run = 0; run < 4; run++) {
      const result = await this.invoke('expiry', JSON.stringify({ location: 'default' }), { offsetMs });
      const unfinished = (result.outcome as { unfinished?: string[] } | undefined)?.unfinished ?? [];
      if (!result.error && unfinished.length === 0) break;
    }
    this.report.steps.push('teardown');
    this.check(await inv.deletionsInOrder(this.world, this.model));
    this.check(await inv.nothingOrphaned(this.world, this.model, true));
  }

  // --- kill points ----------------------------------------------------------------------

  private pickPoint(points: KillPoint[]): KillPoint {
    const point = this.rng.pick(points);
    return point;
  }

  private backupKillPoint(name: string): KillPoint {
    const record = () => progressOf(this.store, name);
    return this.pickPoint([
      { name: 'backup:claimed', reached: async () => ((await record())?.attempts ?? 0) >= 1 },
      {
        name: 'backup:snapshot-created',
        reached: async () => (await listAll(this.clients.alpha!, volumeSnapshotsPath(this.namespace), { labelSelector: backupLabelSelector(name) })).length > 0,
      },
      { name: 'backup:resources-stage', reached: async () => (await record())?.stage === 'Resources' },
      { name: 'backup:part-uploaded', reached: async () => ((await record())?.tarball?.parts.length ?? 0) > 0 },
      { name: 'backup:finalizing', reached: async () => (await record())?.stage === 'Finalizing' },
      { name: 'backup:metadata-written', reached: async () => !!(await this.store.headObject(this.store.layout.backupMetadataKey(name))) },
      { name: 'backup:random', afterMs: this.rng.int(100, 4_000) },
    ]);
  }

  private syncKillPoint(cluster: string): KillPoint {
    const labels = () => [...this.model.backups.keys()];
    const client = this.clients[cluster]!;
    return this.pickPoint([
      { name: 'sync:catalog-written', reached: async () => !!(await this.store.headObject(this.store.layout.catalogKey())) },
      {
        name: 'sync:content-created',
        reached: async () => {
          for (const b of labels()) if ((await listAll(client, '/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents', { labelSelector: backupLabelSelector(b) })).some((c) => !c.metadata.labels?.['velero.io/restore-name'] && (c.spec as { source?: { snapshotHandle?: string } }).source?.snapshotHandle)) return true;
          return false;
        },
      },
      { name: 'sync:random', afterMs: this.rng.int(100, 3_000) },
    ]);
  }

  private restoreKillPoint(name: string, cluster: string, target: string): KillPoint {
    const client = this.clients[cluster]!;
    const exists = async (path: string) => client.get(path).then(() => true, (e: unknown) => (isNotFound(e) ? false : Promise.reject(e)));
    return this.pickPoint([
      { name: 'restore:claimed', reached: async () => ((await readRestoreRecord(this.store, name))?.record.attempts ?? 0) >= 1 },
      { name: 'restore:namespace-created', reached: () => exists(`/api/v1/namespaces/${target}`) },
      { name: 'restore:volume-snapshot-created', reached: async () => (await listAll(client, volumeSnapshotsPath(target)).catch(() => [])).length > 0 },
      { name: 'restore:pvc-created', reached: async () => (await listAll(client, `/api/v1/namespaces/${target}/persistentvolumeclaims`).catch(() => [])).length > 0 },
      { name: 'restore:cursor-moved', reached: async () => ((await readRestoreRecord(this.store, name))?.record.cursor.step ?? 0) > 0 },
      { name: 'restore:random', afterMs: this.rng.int(100, 4_000) },
    ]);
  }

  private expiryKillPoint(backup: inv.BackupModel): KillPoint {
    const label = backupLabelSelector(backup.name);
    return this.pickPoint([
      { name: 'expiry:marker-present', reached: async () => !!(await this.store.headObject(this.store.layout.deletionMarkerKey(backup.name))) },
      {
        name: 'expiry:policy-flipped',
        reached: async () => {
          for (const client of Object.values(this.clients)) {
            const contents = await listAll(client, '/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents', { labelSelector: label });
            if (contents.some((c) => (c.spec as { deletionPolicy?: string }).deletionPolicy === 'Delete')) return true;
          }
          return false;
        },
      },
      { name: 'expiry:snapshot-deleted', reached: async () => (await this.ledger()).snapshots.some((s) => backup.handles.includes(s.handle) && s.deleted) },
      { name: 'expiry:objects-deleting', reached: async () => !(await this.store.headObject(this.store.layout.backupContentsKey(backup.name))) },
      { name: 'expiry:random', afterMs: this.rng.int(100, 3_000) },
    ]);
  }

  // --- faults ---------------------------------------------------------------------------

  /**
   * Runs `work` (the step's job invocations) with the fault going on part of the time:
   * proxy faults and restarts start after a short random delay and last a few seconds;
   * storage faults last for the whole step. A job kill is the caller's kill point.
   */
  private async underFault(fault: FaultKind | undefined, cluster: string, work: () => Promise<unknown>): Promise<void> {
    if (fault) this.report.faults[fault] = (this.report.faults[fault] ?? 0) + 1;
    const startAfter = this.rng.int(0, 1_500);
    const windowMs = this.rng.int(1_000, 4_000);
    let side: Promise<unknown> = Promise.resolve();
    let restoreSim: Record<string, unknown> | undefined;
    const proxy = this.env.s3Proxy;
    const later = (f: () => unknown) => new Promise((r) => setTimeout(r, startAfter)).then(f);
    switch (fault) {
      case 's3-500':
      case 's3-503':
        side = later(() => proxy.inject({ kind: 'status', status: fault === 's3-500' ? 500 : 503, retryAfterSeconds: 1 }, windowMs));
        break;
      case 's3-delay':
        side = later(() => proxy.inject({ kind: 'delay', delayMs: this.rng.int(2_000, 8_000) }, windowMs));
        break;
      case 's3-drop':
        side = later(() => proxy.inject({ kind: 'drop' }, windowMs));
        break;
      case 'kube-429':
      case 'kube-500':
      case 'kube-503': {
        const status = Number(fault.slice(5));
        const kube = this.env.kubeProxies[cluster]!;
        side = later(() => kube.inject({ kind: 'status', status, ...(status === 500 ? {} : { retryAfterSeconds: 1 }) }, windowMs));
        break;
      }
      case 'minio-restart':
        side = later(() => this.env.restart!('minio', this.rng.int(200, 3_000)));
        break;
      case 'apiserver-restart':
        side = later(() => this.env.restart!(`${cluster}/kube-apiserver`, this.rng.int(200, 3_000)));
        break;
      case 'storage-slow':
        restoreSim = await this.simulatorConfig({ snapshotDelayMs: this.rng.int(1_000, 4_000), deleteDelayMs: this.rng.int(1_000, 4_000) });
        break;
      case 'storage-fail-snapshots':
        restoreSim = await this.simulatorConfig({ failSnapshotsFor: `^${this.namespace}/` });
        side = new Promise((r) => setTimeout(r, windowMs)).then(async () => {
          await this.simulatorConfig({ failSnapshotsFor: null });
          restoreSim = undefined;
        });
        break;
      default:
        break;
    }
    try {
      await work();
    } finally {
      await side.catch((error: unknown) => this.env.log(`fault ${fault} could not be applied: ${(error as Error).message}`));
      proxy.clear();
      for (const kube of Object.values(this.env.kubeProxies)) kube.clear();
      if (restoreSim) await this.simulatorConfig(restoreSim);
    }
  }

  // --- plumbing ----------------------------------------------------------------------------

  private async invoke(job: Job, arg: string, options: { offsetMs?: number; kill?: KillPoint }): Promise<InvocationResult> {
    this.report.invocations += 1;
    const result = await invoke(job, this.jobConfigPath, arg, { budgetMs: BUDGET_MS, logDir: this.logDir, ...options });
    if (options.kill) {
      if (result.killedAt) this.report.killPoints[result.killedAt] = (this.report.killPoints[result.killedAt] ?? 0) + 1;
      else this.report.missedKills += 1;
    }
    if (result.hung) this.check([`${job} invocation ran a minute past its time limit and was killed`]);
    return result;
  }

  /** The harness's own reads during a fault: retried for up to a minute, as the fault ends in seconds. */
  private async patiently<T>(read: () => Promise<T>): Promise<T> {
    const until = Date.now() + 60_000;
    for (;;) {
      try {
        return await read();
      } catch (error) {
        if (Date.now() > until) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private note(step: string, fault: FaultKind | undefined): void {
    this.report.steps.push(fault ? `${step} [${fault}]` : step);
  }

  private check(violations: string[]): void {
    for (const detail of violations) {
      this.report.violations.push({ seed: this.rng.seed, step: this.step, detail });
      this.env.log(`VIOLATION seed ${this.rng.seed} at ${this.step}: ${detail}`);
    }
  }

  private async checkAll(): Promise<void> {
    this.check(await inv.visibleBackupsComplete(this.world));
    this.check(await inv.deletionsInOrder(this.world, this.model));
    this.check(await inv.nothingOrphaned(this.world, this.model));
  }

  private async ledger(): Promise<LedgerState> {
    const url = this.env.state.simulator!.ledgerUrl;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
    return (await res.json()) as LedgerState;
  }

  private async simulatorConfig(fields: Record<string, unknown>): Promise<Record<string, unknown>> {
    const url = this.env.state.simulator!.ledgerUrl.replace(/\/ledger$/, '/config');
    const before = (await (await fetch(url)).json()) as Record<string, unknown>;
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fields) });
    if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
    const restore: Record<string, unknown> = {};
    for (const key of Object.keys(fields)) restore[key] = before[key];
    return restore;
  }

  private async deleteNamespace(cluster: string, namespace: string): Promise<void> {
    const client = this.clients[cluster]!;
    const path = `/api/v1/namespaces/${namespace}`;
    await client.delete(path).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)));
    await waitFor(async () => client.get(path).then(() => false, (e: unknown) => (isNotFound(e) ? true : Promise.reject(e))), { what: `namespace ${cluster}/${namespace} gone`, timeoutMs: 120_000 });
    // Its volumes go after the namespace (reclaim Delete); wait for the PVs too.
    await waitFor(
      async () => (await listAll(client, '/api/v1/persistentvolumes')).every((pv) => (pv.spec as { claimRef?: { namespace?: string } }).claimRef?.namespace !== namespace),
      { what: `PVs of ${cluster}/${namespace} gone`, timeoutMs: 120_000 },
    );
  }
}
