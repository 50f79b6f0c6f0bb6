import { isNotFound } from '../../lib/kube/errors';
import type { KubeClient } from '../../lib/kube/client';
import { listAll } from '../../lib/kube/list-all';
import { volumeSnapshotsPath } from '../../lib/csi/snapshot-api';
import { readRestoreRecord } from '../../lib/restore/record';
import type { BackupStore } from '../../lib/store/backup-store';
import { backupLabelSelector } from '../../lib/velero/labels';
import type { LedgerState } from '../bed/simulator/ledger';
import type { BackupModel } from './invariants';
import { progressOf, type KillPoint } from './jobs';
import type { Prng } from './prng';

/** What the kill points look at: the bucket (directly), both clusters, the storage's ledger. */
export interface KillPointContext {
  store: BackupStore;
  clients: Record<string, KubeClient>;
  rng: Prng;
  ledger: () => Promise<LedgerState>;
  /** The lifecycle's source namespace. */
  namespace: string;
  /** The names of the lifecycle's backups so far. */
  backupNames: () => string[];
}

/**
 * The points of each job at which the harness kills its process, seen from outside:
 * one is drawn per killed invocation (with the lifecycle's generator, so a seed replays
 * the same point), each a step of the job's own, or a random delay.
 */
export class KillPoints {
  constructor(private readonly ctx: KillPointContext) {}

  private pick(points: KillPoint[]): KillPoint {
    const point = this.ctx.rng.pick(points);
    return point;
  }

  backup(name: string): KillPoint {
    const record = () => progressOf(this.ctx.store, name);
    return this.pick([
      { name: 'backup:claimed', reached: async () => ((await record())?.attempts ?? 0) >= 1 },
      {
        name: 'backup:snapshot-created',
        reached: async () => (await listAll(this.ctx.clients.alpha!, volumeSnapshotsPath(this.ctx.namespace), { labelSelector: backupLabelSelector(name) })).length > 0,
      },
      { name: 'backup:resources-stage', reached: async () => (await record())?.stage === 'Resources' },
      { name: 'backup:part-uploaded', reached: async () => ((await record())?.tarball?.parts.length ?? 0) > 0 },
      { name: 'backup:finalizing', reached: async () => (await record())?.stage === 'Finalizing' },
      { name: 'backup:metadata-written', reached: async () => !!(await this.ctx.store.headObject(this.ctx.store.layout.backupMetadataKey(name))) },
      { name: 'backup:random', afterMs: this.ctx.rng.int(100, 4_000) },
    ]);
  }

  sync(cluster: string): KillPoint {
    const labels = () => this.ctx.backupNames();
    const client = this.ctx.clients[cluster]!;
    return this.pick([
      { name: 'sync:catalog-written', reached: async () => !!(await this.ctx.store.headObject(this.ctx.store.layout.catalogKey())) },
      {
        name: 'sync:content-created',
        reached: async () => {
          for (const b of labels()) if ((await listAll(client, '/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents', { labelSelector: backupLabelSelector(b) })).some((c) => !c.metadata.labels?.['velero.io/restore-name'] && (c.spec as { source?: { snapshotHandle?: string } }).source?.snapshotHandle)) return true;
          return false;
        },
      },
      { name: 'sync:random', afterMs: this.ctx.rng.int(100, 3_000) },
    ]);
  }

  restore(name: string, cluster: string, target: string): KillPoint {
    const client = this.ctx.clients[cluster]!;
    const exists = async (path: string) => client.get(path).then(() => true, (e: unknown) => (isNotFound(e) ? false : Promise.reject(e)));
    return this.pick([
      { name: 'restore:claimed', reached: async () => ((await readRestoreRecord(this.ctx.store, name))?.record.attempts ?? 0) >= 1 },
      { name: 'restore:namespace-created', reached: () => exists(`/api/v1/namespaces/${target}`) },
      { name: 'restore:volume-snapshot-created', reached: async () => (await listAll(client, volumeSnapshotsPath(target)).catch(() => [])).length > 0 },
      { name: 'restore:pvc-created', reached: async () => (await listAll(client, `/api/v1/namespaces/${target}/persistentvolumeclaims`).catch(() => [])).length > 0 },
      { name: 'restore:cursor-moved', reached: async () => ((await readRestoreRecord(this.ctx.store, name))?.record.cursor.step ?? 0) > 0 },
      { name: 'restore:random', afterMs: this.ctx.rng.int(100, 4_000) },
    ]);
  }

  expiry(backup: BackupModel): KillPoint {
    const label = backupLabelSelector(backup.name);
    return this.pick([
      { name: 'expiry:marker-present', reached: async () => !!(await this.ctx.store.headObject(this.ctx.store.layout.deletionMarkerKey(backup.name))) },
      {
        name: 'expiry:policy-flipped',
        reached: async () => {
          for (const client of Object.values(this.ctx.clients)) {
            const contents = await listAll(client, '/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents', { labelSelector: label });
            if (contents.some((c) => (c.spec as { deletionPolicy?: string }).deletionPolicy === 'Delete')) return true;
          }
          return false;
        },
      },
      { name: 'expiry:snapshot-deleted', reached: async () => (await this.ctx.ledger()).snapshots.some((s) => backup.handles.includes(s.handle) && s.deleted) },
      { name: 'expiry:objects-deleting', reached: async () => !(await this.ctx.store.headObject(this.ctx.store.layout.backupContentsKey(backup.name))) },
      { name: 'expiry:random', afterMs: this.ctx.rng.int(100, 3_000) },
    ]);
  }
}
