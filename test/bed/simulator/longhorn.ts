/**
 * The Longhorn-like storage system's own records, as Longhorn keeps them in the
 * `longhorn-system` namespace: a Backup per backup and a BackupVolume per backed-up
 * volume in every cluster (all clusters share the backup target, so all see all
 * backups), and a Volume per volume in the cluster that owns it. Tools that repair
 * wrong snapshot handles (Harvester #7539) or look for single-replica volumes read
 * these, not the ledger.
 *
 * The records follow the ledger: built from it (pure, below) and reconciled into
 * each cluster on every ledger change and periodically. Only records labelled as
 * managed are ever deleted; status written by a test (say, a volume `attached`) is
 * left alone.
 */

import type { Cluster } from './kube';
import { errorText, resourcePath } from './kube';
import { LONGHORN_GROUP_VERSION, LONGHORN_NAMESPACE, MANAGED_LABEL } from './install';
import type { LedgerState } from './ledger';
import { RepeatLog } from './log';
import { LONGHORN_DRIVER } from './personalities';
import type { KubeObject } from './types';

export interface LonghornRecord extends KubeObject {
  spec: Record<string, unknown>;
  status: Record<string, unknown>;
}

export interface DesiredRecords {
  backups: LonghornRecord[];
  backupvolumes: LonghornRecord[];
  volumes: LonghornRecord[];
}

const BACKUP_TARGET = 'default';
const BACKUP_TARGET_URL = 's3://sim-backupstore@us-east-1/';

function record(kind: string, name: string, labels: Record<string, string>, spec: Record<string, unknown>, status: Record<string, unknown>): LonghornRecord {
  return {
    apiVersion: LONGHORN_GROUP_VERSION,
    kind,
    metadata: { name, namespace: LONGHORN_NAMESPACE, labels: { ...labels, [MANAGED_LABEL]: 'true' } },
    spec,
    status,
  };
}

/** The records cluster `cluster` should hold for the ledger's current state. */
export function desiredRecords(state: LedgerState, cluster: string): DesiredRecords {
  const volumes = new Map(state.volumes.map((v) => [v.handle, v]));
  const backups = state.snapshots.filter((s) => !s.deleted && s.driver === LONGHORN_DRIVER && s.backupName && s.backupVolume);

  const byBackupVolume = new Map<string, typeof backups>();
  for (const backup of backups) {
    const list = byBackupVolume.get(backup.backupVolume!) ?? [];
    list.push(backup);
    byBackupVolume.set(backup.backupVolume!, list);
  }

  return {
    backups: backups.map((b) => {
      const volume = volumes.get(b.sourceVolume);
      return record(
        'Backup',
        b.backupName!,
        { 'backup-volume': b.backupVolume!, 'backup-target': BACKUP_TARGET },
        { snapshotName: b.name, labels: {}, backupTargetName: BACKUP_TARGET },
        {
          state: 'Completed',
          progress: 100,
          url: `${BACKUP_TARGET_URL}?backup=${b.backupName}&volume=${b.backupVolume}`,
          snapshotName: b.name,
          snapshotCreatedAt: b.createdAt,
          backupCreatedAt: b.createdAt,
          size: String(b.sizeBytes),
          volumeName: b.backupVolume,
          volumeSize: String(b.sizeBytes),
          volumeCreated: volume?.createdAt ?? '',
          lastSyncedAt: b.createdAt,
          compressionMethod: 'lz4',
          labels: volume?.claim
            ? { KubernetesStatus: JSON.stringify({ pvName: volume.pvName, namespace: volume.claim.namespace, pvcName: volume.claim.name }) }
            : {},
        },
      );
    }),
    backupvolumes: [...byBackupVolume].map(([name, list]) => {
      const last = list.reduce((a, b) => (a.createdAt > b.createdAt ? a : b));
      const first = list.reduce((a, b) => (a.createdAt <= b.createdAt ? a : b));
      return record(
        'BackupVolume',
        name,
        { 'backup-volume': name, 'backup-target': BACKUP_TARGET },
        { backupTargetName: BACKUP_TARGET, volumeName: name },
        {
          createdAt: first.createdAt,
          lastBackupName: last.backupName,
          lastBackupAt: last.createdAt,
          size: String(last.sizeBytes),
          dataStored: String(list.reduce((sum, b) => sum + b.sizeBytes, 0)),
          lastModificationTime: last.createdAt,
          lastSyncedAt: last.createdAt,
          storageClassName: volumes.get(name)?.storageClass ?? '',
          labels: {},
        },
      );
    }),
    volumes: state.volumes
      .filter((v) => !v.deleted && v.driver === LONGHORN_DRIVER && v.cluster === cluster)
      .map((v) => {
        const restoredFrom = v.clonedFromSnapshot
          ? state.snapshots.find((s) => s.handle === v.clonedFromSnapshot)
          : undefined;
        return record(
          'Volume',
          v.handle,
          {},
          {
            numberOfReplicas: Number.parseInt(v.attributes.numberOfReplicas ?? '3', 10) || 3,
            size: String(v.sizeBytes),
            frontend: 'blockdev',
            dataEngine: 'v1',
            accessMode: 'rwo',
            fromBackup: restoredFrom?.backupName
              ? `${BACKUP_TARGET_URL}?backup=${restoredFrom.backupName}&volume=${restoredFrom.backupVolume}`
              : '',
            staleReplicaTimeout: Number.parseInt(v.attributes.staleReplicaTimeout ?? '30', 10) || 30,
          },
          {
            // Nothing attaches volumes here (no kubelet); tests that need an
            // attached volume patch the status themselves.
            state: 'detached',
            robustness: 'unknown',
            kubernetesStatus: {
              pvName: v.pvName,
              pvStatus: 'Bound',
              namespace: v.claim?.namespace ?? '',
              pvcName: v.claim?.name ?? '',
            },
          },
        );
      }),
  };
}

/** Deep equality of JSON values regardless of key order (the API server sorts keys). */
export function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .filter(([, v]) => v !== undefined)
          .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
          .map(([k, v]) => [k, canonical(v)]),
      );
    }
    return value;
  };
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

export class LonghornRecords {
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly failures = new Map<string, RepeatLog>();

  constructor(
    private readonly clusters: Cluster[],
    private readonly state: () => LedgerState,
    private readonly periodMs = 10_000,
  ) {}

  start(): void {
    this.kick(0);
    this.timer = setInterval(() => this.kick(0), this.periodMs);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
  }

  /** Schedules a reconcile (ledger changes come in bursts). */
  kick(delayMs = 100): void {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reconcileAll(), delayMs);
  }

  /** Reconciles every cluster now; overlapping calls coalesce into one more pass. */
  async reconcileAll(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const state = this.state();
        await Promise.all(this.clusters.map((cluster) => this.reconcile(cluster, desiredRecords(state, cluster.name))));
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async reconcile(cluster: Cluster, desired: DesiredRecords): Promise<void> {
    for (const plural of ['backupvolumes', 'backups', 'volumes'] as const) {
      try {
        await this.reconcileKind(cluster, plural, desired[plural]);
      } catch (err) {
        let failures = this.failures.get(cluster.name);
        if (!failures) this.failures.set(cluster.name, (failures = new RepeatLog(cluster.name)));
        failures.failed(`longhorn ${plural}`, errorText(err));
      }
    }
  }

  private async reconcileKind(cluster: Cluster, plural: string, desired: LonghornRecord[]): Promise<void> {
    const collection = resourcePath(LONGHORN_GROUP_VERSION, plural, { namespace: LONGHORN_NAMESPACE });
    const { items } = await cluster.listAll<LonghornRecord>(collection, { labelSelector: MANAGED_LABEL });
    const existing = new Map(items.map((item) => [item.metadata.name, item]));
    const wanted = new Set(desired.map((d) => d.metadata.name));
    for (const record of desired) {
      const current = existing.get(record.metadata.name);
      const path = resourcePath(LONGHORN_GROUP_VERSION, plural, { namespace: LONGHORN_NAMESPACE, name: record.metadata.name });
      if (!current) {
        const { status, ...body } = record;
        const created = await cluster.create<LonghornRecord>(collection, body);
        // Status is a subresource: written separately, as Longhorn's controllers do.
        await cluster.put(`${path}/status`, { ...created, status });
      } else if (plural !== 'volumes' && !sameJson(current.status ?? {}, record.status)) {
        await cluster.put(`${path}/status`, { ...current, status: record.status });
      } else if (plural === 'volumes' && !current.status?.state) {
        await cluster.put(`${path}/status`, { ...current, status: record.status });
      }
    }
    for (const [name] of existing) {
      if (!wanted.has(name)) {
        await cluster.remove(resourcePath(LONGHORN_GROUP_VERSION, plural, { namespace: LONGHORN_NAMESPACE, name }));
      }
    }
  }
}
