import { gunzipSync } from 'node:zlib';
import { readBackupArchive } from '../../lib/archive/tar-reader';
import { volumeSnapshotContentsPath, volumeSnapshotsPath, type VolumeSnapshot, type VolumeSnapshotContent } from '../../lib/csi/snapshot-api';
import type { KubeClient } from '../../lib/kube/client';
import { listAll, type KubeObject } from '../../lib/kube/list-all';
import type { BackupStore } from '../../lib/store/backup-store';
import { BACKUP_NAME_LABEL, RESTORE_NAME_LABEL, TEMPORARY_CONTENT_LABEL, backupLabelValue, restoreLabelValue } from '../../lib/velero/labels';
import type { LedgerState } from '../bed/simulator/ledger';

/**
 * Skiff's data-safety promises as checks over what the bed holds: the bucket (read
 * directly, past any fault proxy), both clusters and the storage simulator's ledger.
 * Each check returns the violations it found as sentences; none is the goal.
 */

/** What the lifecycle knows of one backup it made. */
export interface BackupModel {
  name: string;
  /** Final phase its runner reached; undefined while unknown. */
  phase?: string;
  /** Handles of the storage snapshots its stored CSI list names. */
  handles: string[];
  /** When it expires (ms since the epoch), from its velero-backup.json. */
  expiresAtMs?: number;
  /** Its deletion was requested by hand. */
  deletionRequested: boolean;
}

export interface World {
  store: BackupStore;
  clients: Record<string, KubeClient>;
  ledger: () => Promise<LedgerState>;
}

export interface Model {
  backups: Map<string, BackupModel>;
  restores: string[];
  /** Source namespaces in alpha whose volumes this lifecycle made. */
  sourceNamespaces: string[];
  /** The latest "now" any expiry run of this lifecycle used (ms). */
  expiryNowMs: number;
}

/** The objects next to velero-backup.json that Velero reads (pkg/persistence/object_store.go). */
function companionKeys(store: BackupStore, name: string): string[] {
  const k = store.layout;
  return [
    k.backupContentsKey(name),
    k.backupLogKey(name),
    k.backupResourceListKey(name),
    k.backupResultsKey(name),
    k.backupVolumeInfoKey(name),
    k.backupItemOperationsKey(name),
    k.csiVolumeSnapshotsKey(name),
    k.csiVolumeSnapshotContentsKey(name),
    k.csiVolumeSnapshotClassesKey(name),
  ];
}

/**
 * No backup is visible (velero-backup.json present) unless every object Velero reads
 * with it is there and readable: gzip and JSON parse, the tarball read to its end.
 * Backups being deleted (a deletion marker) are left to the deletion checks.
 */
export async function visibleBackupsComplete(world: World): Promise<string[]> {
  const { store } = world;
  const violations: string[] = [];
  const marked = new Set(await store.listDeletionMarkers());
  for (const name of await store.listBackupNames()) {
    if (marked.has(name)) continue;
    const metadata = await store.getBackupMetadata(name).catch((e: unknown) => e as Error);
    if (metadata === undefined) continue;
    if (metadata instanceof Error) {
      violations.push(`backup ${name}: velero-backup.json unreadable: ${metadata.message}`);
      continue;
    }
    for (const key of companionKeys(store, name)) {
      const bytes = await store.getObject(key);
      if (!bytes) {
        violations.push(`backup ${name} is visible but ${key} is missing`);
        continue;
      }
      if (key === store.layout.backupContentsKey(name) || key === store.layout.backupLogKey(name)) continue;
      try {
        const text = gunzipSync(bytes).toString('utf8');
        if (key.endsWith('.json.gz')) JSON.parse(text);
      } catch (error) {
        violations.push(`backup ${name}: ${key} unreadable: ${(error as Error).message}`);
      }
    }
    try {
      const stream = await store.openBackupContents(name);
      if (stream) {
        let entries = 0;
        for await (const _record of readBackupArchive(stream)) entries += 1;
        if (entries === 0) violations.push(`backup ${name}: tarball has no entries`);
      }
    } catch (error) {
      violations.push(`backup ${name}: tarball unreadable: ${(error as Error).message}`);
    }
  }
  return violations;
}

/** A backup's runner ended in a final phase, a failure with its reason. */
export function finalPhase(name: string, phase: string | undefined, failureReason: string | undefined): string[] {
  if (phase === 'Completed' || phase === 'PartiallyFailed') return [];
  if (phase === 'Failed') return failureReason ? [] : [`backup ${name} Failed without a reason`];
  return [`backup ${name} is stuck in phase ${phase ?? '(none)'} after the runner was started again and again`];
}

async function snapshotObjects(world: World): Promise<{ cluster: string; contents: VolumeSnapshotContent[]; snapshots: VolumeSnapshot[] }[]> {
  return Promise.all(
    Object.entries(world.clients).map(async ([cluster, client]) => ({
      cluster,
      contents: await listAll<VolumeSnapshotContent>(client, volumeSnapshotContentsPath()),
      snapshots: await listAll<VolumeSnapshot>(client, volumeSnapshotsPath()),
    })),
  );
}

const handleOf = (c: VolumeSnapshotContent) => c.status?.snapshotHandle ?? c.spec.source.snapshotHandle;

/** Backup names the store knows in any form: visible, being written or failed (record), being deleted. */
async function knownBackups(store: BackupStore): Promise<Set<string>> {
  return new Set([...(await store.listBackupNames()), ...(await store.listProgressNames()), ...(await store.listDeletionMarkers())]);
}

/** Handles of storage snapshots cut from this lifecycle's volumes, and which of them still exist. */
function lifecycleSnapshots(ledger: LedgerState, model: Model) {
  const volumes = new Set(ledger.volumes.filter((v) => v.claim && model.sourceNamespaces.includes(v.claim.namespace)).map((v) => v.handle));
  return ledger.snapshots.filter((s) => volumes.has(s.sourceVolume));
}

/**
 * Nothing orphaned: every VolumeSnapshot and VolumeSnapshotContent labelled for one of
 * this lifecycle's backups belongs to a backup the store still knows (or is being
 * deleted), and every storage snapshot cut from its volumes is named by a known backup's
 * stored list or by such a content. With `settled` (everything deleted), nothing of it
 * may be left at all, not even being deleted.
 */
export async function nothingOrphaned(world: World, model: Model, settled = false): Promise<string[]> {
  const violations: string[] = [];
  const known = settled ? new Set<string>() : await knownBackups(world.store);
  const labels = new Map([...model.backups.keys()].map((name) => [backupLabelValue(name), name]));
  const owned = new Set<string>();
  for (const name of known) {
    if (!model.backups.has(name)) continue;
    for (const c of await world.store.getCsiVolumeSnapshotContents(name).catch(() => [])) {
      const h = handleOf(c);
      if (h) owned.add(h);
    }
  }
  for (const { cluster, contents, snapshots } of await snapshotObjects(world)) {
    for (const object of [...contents, ...snapshots] as (KubeObject & { kind?: string })[]) {
      const backup = labels.get(object.metadata.labels?.[BACKUP_NAME_LABEL] ?? '');
      if (!backup) continue;
      // One being deleted is on its way (its controller removes the finalizer when it gets
      // to it, a minute late after an API server restart); once settled it must be gone.
      if (!settled && object.metadata.deletionTimestamp) continue;
      if (!known.has(backup)) {
        const where = object.metadata.namespace ? `${object.metadata.namespace}/` : '';
        const why = settled ? 'and is left after every backup was deleted' : 'which the store no longer knows';
        const state = object.metadata.deletionTimestamp ? ` (being deleted since ${object.metadata.deletionTimestamp})` : '';
        violations.push(`${object.kind ?? 'object'} ${where}${object.metadata.name}${state} in ${cluster} is labelled for backup ${backup}, ${why}`);
      }
    }
    for (const c of contents) {
      const backup = labels.get(c.metadata.labels?.[BACKUP_NAME_LABEL] ?? '');
      const h = handleOf(c);
      if (backup && known.has(backup) && h) owned.add(h);
    }
  }
  for (const snapshot of lifecycleSnapshots(await world.ledger(), model)) {
    if (snapshot.deleted || owned.has(snapshot.handle)) continue;
    violations.push(`storage snapshot ${snapshot.handle} (of volume ${snapshot.sourceVolume}) is kept by no backup${settled ? ' after everything was deleted' : ''}`);
  }
  return violations;
}

/**
 * No storage snapshot of a backup deleted while the backup is unexpired and its deletion
 * was not asked for, and none while a volume made from it lives (ONTAP-like: no clone
 * split). And object data only after snapshots: a backup whose velero-backup.json or
 * tarball is gone has no storage snapshot left.
 */
export async function deletionsInOrder(world: World, model: Model): Promise<string[]> {
  const violations: string[] = [];
  const ledger = await world.ledger();
  const byHandle = new Map(ledger.snapshots.map((s) => [s.handle, s]));
  const ours = new Set(lifecycleSnapshots(ledger, model).map((s) => s.handle));
  for (const event of ledger.events) {
    if (event.type === 'CloneSplit' && event.snapshot && ours.has(event.snapshot)) {
      violations.push(`storage snapshot ${event.snapshot} was deleted while volume ${event.volume} made from it lived (clone split)`);
    }
  }
  for (const backup of model.backups.values()) {
    const maySnapshotsGo = backup.deletionRequested || (backup.expiresAtMs !== undefined && backup.expiresAtMs <= model.expiryNowMs);
    for (const handle of backup.handles) {
      const snapshot = byHandle.get(handle);
      if (snapshot?.deleted && !maySnapshotsGo) {
        violations.push(`storage snapshot ${handle} of backup ${backup.name} was deleted while the backup is unexpired and its deletion was not requested`);
      }
    }
    if (backup.handles.length === 0 || (backup.phase !== 'Completed' && backup.phase !== 'PartiallyFailed')) continue;
    const [metadata, tarball] = await Promise.all([
      world.store.headObject(world.store.layout.backupMetadataKey(backup.name)),
      world.store.headObject(world.store.layout.backupContentsKey(backup.name)),
    ]);
    if (metadata && tarball) continue;
    const live = backup.handles.filter((h) => byHandle.get(h) && !byHandle.get(h)!.deleted);
    if (live.length > 0) {
      violations.push(`backup ${backup.name}: ${metadata ? 'its tarball' : 'velero-backup.json'} was deleted while storage snapshot(s) ${live.join(', ')} still exist`);
    }
  }
  return violations;
}

/**
 * Storage snapshots ever cut from volumes of this lifecycle's namespaces: its source
 * namespaces and the namespaces its restores made (`<source>-r<n>`). Other lanes of a
 * chaos run cut theirs meanwhile; only these count.
 */
export function snapshotsCutInLifecycle(ledger: LedgerState, model: Model): number {
  const ours = (namespace: string) => model.sourceNamespaces.some((n) => namespace === n || namespace.startsWith(`${n}-r`));
  const volumes = new Set(ledger.volumes.filter((v) => v.claim && ours(v.claim.namespace)).map((v) => v.handle));
  return ledger.snapshots.filter((s) => volumes.has(s.sourceVolume)).length;
}

/** Sync cut no snapshot (this lifecycle's count in the ledger is as before) and made no content twice. */
export async function syncSafe(world: World, model: Model, snapshotsBefore: number): Promise<string[]> {
  const violations: string[] = [];
  const after = snapshotsCutInLifecycle(await world.ledger(), model);
  if (after !== snapshotsBefore) violations.push(`sync: the storage cut ${after - snapshotsBefore} snapshot(s) during a sync run`);
  const labels = new Set([...model.backups.keys()].map(backupLabelValue));
  for (const { cluster, contents } of await snapshotObjects(world)) violations.push(...contentsTwice(cluster, contents, labels));
  return violations;
}

/**
 * One sentence per storage snapshot that two of the backups' contents in a cluster stand
 * for (`backupLabels`: the label values of this lifecycle's backups). Restores' contents
 * and expiry's temporary ones are not counted: a restore makes its own, and expiry frees
 * a dynamically provisioned content's snapshot through a temporary content beside it (one
 * per backup and snapshot, by its name), which an expiry run that ran out of time leaves
 * until the next run.
 */
export function contentsTwice(cluster: string, contents: readonly VolumeSnapshotContent[], backupLabels: ReadonlySet<string>): string[] {
  const violations: string[] = [];
  const seen = new Map<string, string>();
  for (const c of contents) {
    const labels = c.metadata.labels ?? {};
    if (!backupLabels.has(labels[BACKUP_NAME_LABEL] ?? '') || labels[RESTORE_NAME_LABEL] || labels[TEMPORARY_CONTENT_LABEL]) continue;
    const h = handleOf(c);
    if (!h) continue;
    const other = seen.get(h);
    if (other) violations.push(`cluster ${cluster} has two contents for snapshot ${h}: ${other} and ${c.metadata.name}`);
    seen.set(h, c.metadata.name);
  }
  return violations;
}

/** A namespace's objects as they were: kind/name → uid and content, to prove a restore left it alone. */
export async function fingerprint(client: KubeClient, namespace: string): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  const kinds: [string, string][] = [
    ['ConfigMap', `/api/v1/namespaces/${namespace}/configmaps`],
    ['Secret', `/api/v1/namespaces/${namespace}/secrets`],
    ['PersistentVolumeClaim', `/api/v1/namespaces/${namespace}/persistentvolumeclaims`],
    ['Deployment', `/apis/apps/v1/namespaces/${namespace}/deployments`],
  ];
  for (const [kind, path] of kinds) {
    for (const item of await listAll(client, path)) {
      const { spec, data, metadata } = item as KubeObject & { spec?: unknown; data?: unknown };
      // The controller manager publishes it into every namespace, late after an API server restart.
      if (kind === 'ConfigMap' && metadata.name === 'kube-root-ca.crt') continue;
      // Controllers may add finalizers or annotations; a restore must not change what the owner wrote.
      const { volumeName: _v, ...claimSpec } = (spec ?? {}) as Record<string, unknown>;
      result.set(`${kind}/${metadata.name}`, JSON.stringify({ uid: metadata.uid, spec: kind === 'PersistentVolumeClaim' ? claimSpec : spec, data, labels: metadata.labels }));
    }
  }
  return result;
}

export function sameFingerprint(namespace: string, before: Map<string, string>, after: Map<string, string>): string[] {
  const violations: string[] = [];
  for (const [key, value] of before) {
    if (!after.has(key)) violations.push(`restore: ${key} of source namespace ${namespace} disappeared`);
    else if (after.get(key) !== value) violations.push(`restore: ${key} of source namespace ${namespace} was modified`);
  }
  for (const key of after.keys()) if (!before.has(key)) violations.push(`restore: ${key} was created in source namespace ${namespace}`);
  return violations;
}

/** A restore made each of its VolumeSnapshotContents once (one per snapshot handle) and ended in a final phase. */
export async function restoreSafe(world: World, cluster: string, restore: string, phase: string | undefined, failureReason: string | undefined): Promise<string[]> {
  const violations: string[] = [];
  if (!['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation'].includes(phase ?? '')) violations.push(`restore ${restore} is stuck in phase ${phase ?? '(none)'}`);
  if (phase === 'Failed' && !failureReason) violations.push(`restore ${restore} Failed without a reason`);
  const client = world.clients[cluster]!;
  const contents = await listAll<VolumeSnapshotContent>(client, volumeSnapshotContentsPath(), { labelSelector: `${RESTORE_NAME_LABEL}=${restoreLabelValue(restore)}` });
  const seen = new Set<string>();
  for (const c of contents) {
    const h = handleOf(c);
    if (!h) continue;
    if (seen.has(h)) violations.push(`restore ${restore} created two contents for snapshot ${h} in ${cluster}`);
    seen.add(h);
  }
  return violations;
}
