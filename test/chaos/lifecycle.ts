import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
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
import { PVC_SOURCE_FINALIZER, volumeSnapshotsPath, type VolumeSnapshot } from '../../lib/csi/snapshot-api';
import type { RestartableComponent } from '../bed/bed';
import { minioClient } from '../bed/minio-client';
import type { LedgerState } from '../bed/simulator/ledger';
import type { BedState } from '../bed/state';
import { skiffConfigForBed } from '../bed/skiff-config';
import { waitFor } from '../bed/wait';
import type { FaultProxy } from '../support/fault-proxy';
import type { Gate } from './gate';
import { underFault } from './faults';
import * as inv from './invariants';
import { KillPoints } from './kill-points';
import { invoke, offsetPastLease, progressOf, type InvocationResult, type Job, type KillPoint } from './jobs';
import type { Prng } from './prng';
import type { SimulatorFaults } from './simulator-faults';
import { removeFinalizerPatch, staleSourceFinalizers } from './stale-finalizers';

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
  | 'storage-fail-snapshots'
  | 'storage-fail-deletes';

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
  'storage-fail-deletes',
];

/** Faults for the steps that make snapshots (backups) and those that delete them (deletions, expiry). */
const NOT_FOR_DELETING: FaultKind[] = ['storage-fail-snapshots'];
const NOT_FOR_SNAPSHOTTING: FaultKind[] = ['storage-fail-deletes'];

export interface ChaosEnv {
  state: BedState;
  /** Restarts a bed component (Bed.restart); absent when the bed belongs to another process (then those faults are skipped). */
  restart?: (component: RestartableComponent, downMs?: number) => Promise<void>;
  /** This lane's fault proxy in front of MinIO. */
  s3Proxy: FaultProxy;
  /** This lane's TLS fault proxy in front of each cluster's API server, by cluster name. */
  kubeProxies: Record<string, FaultProxy>;
  /** Shared by the lanes: restarts run alone. */
  gate: Gate;
  /** Shared by the lanes: the storage simulator's fault knobs. */
  simulator: SimulatorFaults;
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
  /**
   * What the harness did by hand, as an operator would, for a fault of the bed's own
   * components that no Skiff invocation can mend (stale-finalizers.ts).
   */
  interventions?: string[];
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
  private kills!: KillPoints;
  private namespace = '';
  private readonly restored: { cluster: string; namespace: string }[] = [];
  private readonly logDir: string;
  private step = 'setup';
  private bucket = '';
  private readonly id: string;

  constructor(
    private readonly env: ChaosEnv,
    private readonly rng: Prng,
    index = 0,
  ) {
    this.report = { seed: rng.seed, steps: [], faults: {}, killPoints: {}, missedKills: 0, invocations: 0, violations: [], durationMs: 0 };
    this.logDir = join(env.logDir, `${String(index + 1).padStart(4, '0')}-lifecycle-${rng.seed}`);
    // In every name the lifecycle makes: the same seed may run in two lanes at once (a replay).
    this.id = `${rng.seed.toString(16)}-${index.toString(36)}`;
    // A replay of the same seed starts with empty job logs.
    rmSync(this.logDir, { recursive: true, force: true });
    mkdirSync(this.logDir, { recursive: true });
    mkdirSync(env.configDir, { recursive: true, mode: 0o700 });
  }

  async run(): Promise<LifecycleReport> {
    const started = Date.now();
    try {
      await this.calm(() => this.setup());
      const ops = this.plan();
      this.timeLastStep(started);
      for (const [i, op] of ops.entries()) {
        this.step = `${i + 1}:${op}`;
        const stepStarted = Date.now();
        await this.runStep(op);
        this.timeLastStep(stepStarted);
      }
      this.step = 'teardown';
      const teardownStarted = Date.now();
      await this.teardown();
      this.timeLastStep(teardownStarted);
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
    const bucket = `chaos-${this.id}-${Date.now().toString(36)}`;
    this.bucket = bucket;
    await minioClient(state.minio).send(new CreateBucketCommand({ Bucket: bucket }));
    const raw = skiffConfigForBed(state, { bucket, apiToken: 'chaos-api-token' });
    this.config = validateConfig(raw, 'chaos');
    // The jobs reach MinIO through the fault proxy; the harness reads it directly.
    const jobRaw = {
      ...raw,
      clusters: raw.clusters.map((c) => ({ ...c, server: this.env.kubeProxies[c.name]?.url ?? c.server })),
      storageLocations: raw.storageLocations.map((l) => ({ ...l, endpoint: this.env.s3Proxy.url })),
    };
    this.jobConfigPath = join(this.env.configDir, `config-${this.id}.json`);
    writeFileSync(this.jobConfigPath, JSON.stringify(jobRaw), { mode: 0o600 });
    this.store = storeResolver(this.config)('default');
    this.clients = {};
    for (const cluster of this.config.clusters) this.clients[cluster.name] = await connectCluster({ ...cluster, qps: 200, burst: 400 });
    this.world = { store: this.store, clients: this.clients, ledger: () => this.ledger() };

    const alpha = this.clients.alpha!;
    this.namespace = `chaos-${this.id}-${Date.now().toString(36)}`.slice(0, 63);
    this.kills = new KillPoints({ store: this.store, clients: this.clients, rng: this.rng, ledger: () => this.ledger(), namespace: this.namespace, backupNames: () => [...this.model.backups.keys()] });
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
    // Four minutes, as for a namespace's deletion: the storage simulator provisions the
    // volumes and the controller manager binds them, and after an API server restart
    // either one's informers may see nothing for a minute or more (chaos seed 20261207:
    // lifecycle 413 bound after about 3 min, 674 provisioned after 60 s).
    await waitFor(
      async () => (await listAll(alpha, `/api/v1/namespaces/${this.namespace}/persistentvolumeclaims`)).every((c) => (c.status as { phase?: string })?.phase === 'Bound'),
      { what: `PVCs of ${this.namespace} bound`, timeoutMs: 240_000 },
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
    // Killing the job at one of its own steps is the fault most worth covering: a quarter of all.
    if (available.includes('kill-job') && this.rng.chance(1 / 4)) return 'kill-job';
    return this.rng.pick(available);
  }

  private async runStep(op: Op): Promise<void> {
    // Failing snapshots fits backup steps only (a few per lifecycle): twice the weight there.
    const creating = [...FAULT_KINDS.filter((k) => !NOT_FOR_SNAPSHOTTING.includes(k)), 'storage-fail-snapshots' as const];
    const other = FAULT_KINDS.filter((k) => !NOT_FOR_SNAPSHOTTING.includes(k) && !NOT_FOR_DELETING.includes(k));
    const deleting = FAULT_KINDS.filter((k) => !NOT_FOR_DELETING.includes(k));
    switch (op) {
      case 'backup':
        return this.backupStep(this.chooseFault(creating));
      case 'sync':
        return this.syncStep(this.chooseFault(other));
      case 'restore':
        return this.restoreStep(this.chooseFault(other));
      case 'deleteByHand':
        return this.deleteByHandStep(this.chooseFault(deleting));
      case 'expire':
        return this.expireStep(this.chooseFault(deleting));
      case 'deleteRestored':
        return this.deleteRestoredStep();
    }
  }

  // --- steps -------------------------------------------------------------------------

  private async backupStep(fault: FaultKind | undefined): Promise<void> {
    const ttl = this.rng.pick(['1h', '720h']);
    const name = `b-${this.id}-${this.model.backups.size}-${Date.now().toString(36)}`;
    await this.calm(() => createBackup(backupServiceDeps(this.config), { cluster: 'alpha', name, includedNamespaces: [this.namespace], ttl, annotations: CLASS_ANNOTATIONS }));
    this.note(`backup ${name} ttl ${ttl}`, fault);
    const kill = fault === 'kill-job' ? this.kills.backup(name) : undefined;
    await this.withFault(fault, 'alpha', async () => {
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
    const { metadata, backup, handles } = await this.calm(async () => {
      const metadata = await this.store.getBackupMetadata(name);
      const record = metadata ? undefined : await progressOf(this.store, name);
      const handles = metadata ? (await this.store.getCsiVolumeSnapshotContents(name)).map((c) => c.status?.snapshotHandle).filter((h): h is string => !!h) : [];
      return { metadata, backup: metadata ?? record?.backup, handles };
    });
    const phase = backup?.status.phase;
    this.check(inv.finalPhase(name, phase, backup?.status.failureReason));
    const expiration = backup?.status.expiration ? Date.parse(backup.status.expiration) : undefined;
    this.model.backups.set(name, { name, phase, handles, deletionRequested: false, ...(expiration ? { expiresAtMs: expiration } : {}) });
    this.report.steps[this.report.steps.length - 1] += ` → ${phase}`;
    await this.checkAll();
  }

  private async syncStep(fault: FaultKind | undefined): Promise<void> {
    const cluster = this.rng.pick(['beta', 'beta', 'alpha']);
    this.note(`sync ${cluster}`, fault);
    const before = inv.snapshotsCutInLifecycle(await this.ledger(), this.model);
    const request = JSON.stringify({ cluster });
    await this.withFault(fault, cluster, async () => {
      const kill = fault === 'kill-job' ? this.kills.sync(cluster) : undefined;
      await this.invoke('sync', request, kill ? { kill } : {});
    });
    // The next scheduled sync, without a fault.
    await this.invoke('sync', request, {});
    this.check(await this.calm(() => inv.syncSafe(this.world, this.model, before)));
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
    const name = `r-${this.id}-${this.model.restores.length}-${Date.now().toString(36)}`;
    try {
      await this.calm(() => createRestore(restoreServiceDeps(this.config), { backupName: backup.name, name, cluster, namespaceMapping: { [this.namespace]: target } }));
    } catch (error) {
      return this.note(`restore of ${backup.name} refused: ${(error as Error).message}`, undefined);
    }
    this.model.restores.push(name);
    this.restored.push({ cluster, namespace: target });
    this.note(`restore ${backup.name} → ${cluster}/${target}`, fault);
    const before = await this.calm(() => inv.fingerprint(this.clients.alpha!, this.namespace));
    const kill = fault === 'kill-job' ? this.kills.restore(name, cluster, target) : undefined;
    await this.withFault(fault, cluster, async () => {
      for (let attempt = 1; attempt <= 8; attempt++) {
        const result = await this.invoke('restore', name, attempt === 1 && kill ? { kill } : {});
        if ((result.outcome as { state?: string } | undefined)?.state === 'done') break;
        if (!result.killedAt && !result.outcome) await new Promise((r) => setTimeout(r, 1_000));
      }
    });
    await this.calm(async () => {
      const record = (await readRestoreRecord(this.store, name))?.record;
      this.report.steps[this.report.steps.length - 1] += ` → ${record?.restore.status.phase}`;
      this.check(await inv.restoreSafe(this.world, cluster, name, record?.restore.status.phase, record?.restore.status.failureReason));
      this.check(inv.sameFingerprint(this.namespace, before, await inv.fingerprint(this.clients.alpha!, this.namespace)));
    });
    await this.checkAll();
  }

  private async deleteByHandStep(fault: FaultKind | undefined): Promise<void> {
    const candidates = this.visibleBackups();
    if (candidates.length === 0) return this.note('delete skipped: no backup', undefined);
    const backup = this.rng.pick(candidates);
    backup.deletionRequested = true;
    await this.calm(() => requestDeletion(expiryServiceDeps(this.config), backup.name));
    this.note(`delete ${backup.name} by hand`, fault);
    const kill = fault === 'kill-job' ? this.kills.expiry(backup) : undefined;
    await this.withFault(fault, 'alpha', () => this.invoke('expiry', JSON.stringify({ location: 'default', backup: backup.name }), kill ? { kill } : {}));
    // The next scheduled run finishes what the first left.
    await this.invoke('expiry', JSON.stringify({ location: 'default' }), {});
    await this.checkAll();
  }

  private async expireStep(fault: FaultKind | undefined): Promise<void> {
    const offsetMs = 2 * DAY;
    this.model.expiryNowMs = Math.max(this.model.expiryNowMs, Date.now() + offsetMs);
    const expiring = [...this.model.backups.values()].find((b) => b.expiresAtMs !== undefined && b.expiresAtMs <= this.model.expiryNowMs && b.handles.length > 0);
    this.note('expiry run, two days on', fault);
    const kill = fault === 'kill-job' && expiring ? this.kills.expiry(expiring) : fault === 'kill-job' ? { name: 'expiry:random', afterMs: this.rng.int(200, 3_000) } : undefined;
    await this.withFault(fault, 'alpha', () => this.invoke('expiry', JSON.stringify({ location: 'default' }), { offsetMs, ...(kill ? { kill } : {}) }));
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
    const namespaces = [...this.restored.splice(0), { cluster: 'alpha', namespace: this.namespace }];
    await Promise.all(namespaces.map((n) => this.deleteNamespace(n.cluster, n.namespace)));
    // Everything expires 60 days on (TTLs are at most 30 days); runs go on until nothing is left.
    const offsetMs = 60 * DAY;
    this.model.expiryNowMs = Date.now() + offsetMs;
    // The first run deletes every snapshot at once: the place for the storage to refuse
    // deletions, or for the run to die midway and leave the rest to the next.
    const fault = this.rng.chance(this.env.faultRate) ? this.rng.pick<FaultKind>(['storage-fail-deletes', 'storage-fail-deletes', 'kill-job', 'storage-slow']) : undefined;
    this.note('teardown', fault);
    const withHandles = [...this.model.backups.values()].find((b) => b.handles.length > 0);
    const kill = fault === 'kill-job' ? (withHandles ? this.kills.expiry(withHandles) : { name: 'expiry:random', afterMs: this.rng.int(200, 3_000) }) : undefined;
    const request = JSON.stringify({ location: 'default' });
    await this.withFault(fault, 'alpha', () => this.invoke('expiry', request, { offsetMs, ...(kill ? { kill } : {}) }));
    // As the schedule runs it: again until a run finishes everything, for up to five
    // minutes. A run may rightly wait (on volumes other lanes are deleting, which may have
    // been made from a snapshot); what is left after that is reported.
    const until = Date.now() + 5 * 60_000;
    for (let run = 0; run === 0 || Date.now() < until; run++) {
      const result = await this.invoke('expiry', request, { offsetMs });
      const unfinished = (result.outcome as { unfinished?: string[] } | undefined)?.unfinished ?? [];
      if (!result.error && unfinished.length === 0) break;
      await new Promise((r) => setTimeout(r, 5_000));
    }
    // Objects being deleted go when their controllers get to them: give them two minutes.
    await waitFor(async () => (await inv.nothingOrphaned(this.world, this.model, true)).length === 0, { what: 'everything of the lifecycle gone', timeoutMs: 120_000 }).catch(() => undefined);
    await this.calm(async () => {
      this.check(await inv.deletionsInOrder(this.world, this.model));
      this.check(await inv.nothingOrphaned(this.world, this.model, true));
    });
  }

  // --- plumbing ----------------------------------------------------------------------------

  /** Runs `work` under the fault (faults.ts), counted in the report. */
  private async withFault(fault: FaultKind | undefined, cluster: string, work: () => Promise<unknown>): Promise<void> {
    if (fault) this.report.faults[fault] = (this.report.faults[fault] ?? 0) + 1;
    await underFault({ env: this.env, rng: this.rng, namespace: this.namespace }, fault, cluster, work);
  }

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

  /** What the bucket held when a violation was found (keys and sizes), next to the job logs. */
  private async dumpBucket(step: string): Promise<void> {
    const s3 = minioClient(this.env.state.minio);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: this.bucket, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) keys.push(`${o.LastModified?.toISOString()} ${o.Size} ${o.Key}`);
      token = page.NextContinuationToken;
    } while (token);
    writeFileSync(join(this.logDir, `bucket-at-${step.replace(':', '-')}.txt`), `${keys.join('\n')}\n`);
  }

  /** Appends the time since `startedMs` to the last step's line: where a lifecycle's time goes. */
  private timeLastStep(startedMs: number): void {
    const last = this.report.steps.length - 1;
    if (last >= 0) this.report.steps[last] += ` (${((Date.now() - startedMs) / 1000).toFixed(1)} s)`;
  }

  private note(step: string, fault: FaultKind | undefined): void {
    this.report.steps.push(fault ? `${step} [${fault}]` : step);
  }

  private check(violations: string[]): void {
    if (violations.length > 0) void this.dumpBucket(this.step).catch(() => undefined);
    for (const detail of violations) {
      this.report.violations.push({ seed: this.rng.seed, step: this.step, detail });
      this.env.log(`VIOLATION seed ${this.rng.seed} at ${this.step}: ${detail}`);
    }
  }

  private async checkAll(): Promise<void> {
    await this.calm(async () => {
      this.check(await inv.visibleBackupsComplete(this.world));
      this.check(await inv.deletionsInOrder(this.world, this.model));
      this.check(await inv.nothingOrphaned(this.world, this.model));
    });
  }

  /**
   * The harness's own calls and reads (not the jobs'): they run while no lane restarts
   * MinIO or an API server, so a restart injected by one lane never fails another
   * lane's checks. Not nested: a restart queued between an outer and an inner section
   * would wait for the outer one forever.
   */
  private calm<T>(work: () => Promise<T>): Promise<T> {
    return this.env.gate.withShared(work);
  }

  private async ledger(): Promise<LedgerState> {
    const url = this.env.state.simulator!.ledgerUrl;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
    return (await res.json()) as LedgerState;
  }

  /** Why a namespace is not gone: its conditions and what is left in it with finalizers. */
  private async whatHoldsNamespace(client: KubeClient, namespace: string): Promise<string> {
    const ns = (await client.get(`/api/v1/namespaces/${namespace}`).catch(() => undefined)) as { status?: { phase?: string; conditions?: { type: string; status: string; message?: string }[] } } | undefined;
    const conditions = (ns?.status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => `${c.type}: ${c.message ?? ''}`);
    const left: string[] = [];
    for (const path of [`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, volumeSnapshotsPath(namespace)]) {
      for (const item of await listAll(client, path).catch(() => [])) left.push(`${item.metadata.name} [${((item.metadata as { finalizers?: string[] }).finalizers ?? []).join(', ')}]`);
    }
    return `namespace ${ns?.status?.phase ?? 'unreadable'}; conditions: ${conditions.join('; ') || 'none'}; left: ${left.join(', ') || 'nothing'}`;
  }

  /**
   * Removes the pvc-as-source-protection finalizers the snapshot-controller left on
   * claims no VolumeSnapshot is cut from (stale-finalizers.ts), as an operator would,
   * and records each in the report; answers whether there were any.
   */
  private async removeStaleSourceFinalizers(cluster: string, namespace: string): Promise<boolean> {
    const client = this.clients[cluster]!;
    const claims = await listAll(client, `/api/v1/namespaces/${namespace}/persistentvolumeclaims`);
    const stale = staleSourceFinalizers(claims, await listAll<VolumeSnapshot>(client, volumeSnapshotsPath(namespace)));
    for (const name of stale) {
      await client.patch(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/${name}`, removeFinalizerPatch(claims.find((c) => c.metadata.name === name)!, PVC_SOURCE_FINALIZER), 'json');
      (this.report.interventions ??= []).push(`${this.step}: removed the snapshot-controller's stale ${PVC_SOURCE_FINALIZER} from PVC ${cluster}/${namespace}/${name}`);
    }
    return stale.length > 0;
  }

  private async deleteNamespace(cluster: string, namespace: string): Promise<void> {
    const client = this.clients[cluster]!;
    const path = `/api/v1/namespaces/${namespace}`;
    await this.calm(() => client.delete(path).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e))));
    // Four minutes: after an API server restart the controller manager's informers back
    // off for up to a minute each time (client-go's reflector: 0.8–30 s, doubled by
    // jitter), and the namespace controller sees nothing meanwhile.
    const gone = () => client.get(path).then(() => false, (e: unknown) => (isNotFound(e) ? true : Promise.reject(e)));
    const wait = (timeoutMs: number) =>
      waitFor(gone, { what: `namespace ${cluster}/${namespace} gone`, timeoutMs }).catch(async (error: unknown) => {
        throw new Error(`${(error as Error).message}; ${await this.whatHoldsNamespace(client, namespace)}`);
      });
    await wait(240_000).catch(async (error: unknown) => {
      if (!(await this.calm(() => this.removeStaleSourceFinalizers(cluster, namespace)))) throw error;
      await wait(120_000);
    });
    // Its volumes go after the namespace (reclaim Delete); wait for the PVs too.
    await waitFor(
      async () => (await listAll(client, '/api/v1/persistentvolumes')).every((pv) => (pv.spec as { claimRef?: { namespace?: string } }).claimRef?.namespace !== namespace),
      { what: `PVs of ${cluster}/${namespace} gone`, timeoutMs: 120_000 },
    );
  }
}
