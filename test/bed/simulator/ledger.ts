/**
 * The simulated storage system's own books: every physical volume and snapshot it
 * ever held, across all clusters (they share one storage system), and an event log
 * tests read to prove what the storage had to do. Pure and synchronous, so each
 * transition is atomic with respect to the controllers that drive it.
 *
 * The rule tests care most about: a snapshot that a live FlexClone depends on is
 * busy; deleting it anyway makes the storage split the clone into a full copy
 * (a `CloneSplit` event, the clone's physicalBytes become its full size).
 */

export interface ClaimRef {
  namespace: string;
  name: string;
  uid?: string;
}

export interface VolumeRecord {
  /** The CSI volume id; equal to `handle` (the PV's `spec.csi.volumeHandle`). */
  id: string;
  handle: string;
  driver: string;
  /** The cluster whose provisioner created it. */
  cluster: string;
  pvName: string;
  claim?: ClaimRef;
  storageClass?: string;
  /** Provisioned size. */
  sizeBytes: number;
  /** Space the volume takes on the storage: 0 for an unsplit clone, else its size. */
  physicalBytes: number;
  /** Ledger key of the snapshot the volume was restored from. */
  clonedFromSnapshot?: string;
  /** True while the volume shares blocks with `clonedFromSnapshot` (the snapshot is busy). */
  dependsOnSnapshot?: boolean;
  split?: boolean;
  splitAt?: string;
  /** The volume context the driver returned (e.g. Longhorn's numberOfReplicas). */
  attributes: Record<string, string>;
  createdAt: string;
  deleted?: boolean;
  deletedAt?: string;
}

export interface SnapshotRecord {
  /** The handle the driver returned; also the ledger key. */
  handle: string;
  driver: string;
  /** The CSI snapshot name of the request (`snapshot-<VolumeSnapshot uid>`): CreateSnapshot is idempotent by it. */
  name: string;
  sourceVolume: string;
  sizeBytes: number;
  cluster: string;
  createdAt: string;
  /** Handles of live volumes that share blocks with this snapshot. */
  busyBy: string[];
  backupVolume?: string;
  backupName?: string;
  deleted?: boolean;
  deletedAt?: string;
}

export type LedgerEventType =
  | 'VolumeCreated'
  | 'VolumeDeleted'
  | 'VolumeDeleteNotFound'
  | 'SnapshotCreated'
  | 'SnapshotCreateFailed'
  | 'SnapshotDeleted'
  | 'SnapshotDeleteFailed'
  | 'SnapshotDeleteNotFound'
  | 'SnapshotDeleteSkipped'
  | 'SnapshotNotFound'
  | 'CloneSplit'
  | 'ProvisionFailed';

export interface LedgerEvent {
  seq: number;
  type: LedgerEventType;
  at: string;
  cluster?: string;
  volume?: string;
  snapshot?: string;
  /** The Kubernetes object the request came from, e.g. `VolumeSnapshotContent/snapcontent-...`. */
  object?: string;
  message?: string;
}

export interface LedgerState {
  volumes: VolumeRecord[];
  snapshots: SnapshotRecord[];
  events: LedgerEvent[];
}

/** A storage-side refusal; `code` follows the gRPC code a CSI driver would return. */
export class StorageError extends Error {
  constructor(
    readonly code: 'NotFound' | 'AlreadyExists' | 'InvalidArgument' | 'Internal',
    message: string,
  ) {
    super(`rpc error: code = ${code} desc = ${message}`);
    this.name = 'StorageError';
  }
}

/** What a provisioner asks for; the ledger fills in the rest of the VolumeRecord. */
export interface CreateVolumeInput
  extends Pick<VolumeRecord, 'handle' | 'driver' | 'cluster' | 'pvName' | 'claim' | 'storageClass' | 'sizeBytes'> {
  attributes?: Record<string, string>;
  /** Ledger key of a snapshot to restore from. */
  fromSnapshot?: string;
  /** Whether the new volume keeps sharing blocks with that snapshot. */
  dependsOnSnapshot?: boolean;
}

export interface CreateSnapshotInput {
  handle: string;
  name: string;
  driver: string;
  sourceVolume: string;
  cluster: string;
  backupVolume?: string;
  backupName?: string;
}

export interface EventContext {
  cluster?: string;
  object?: string;
}

/** Keeps memory bounded in long runs; tests look at recent history only. */
const MAX_EVENTS = 20_000;

export class Ledger {
  private readonly volumes = new Map<string, VolumeRecord>();
  private readonly snapshots = new Map<string, SnapshotRecord>();
  private events: LedgerEvent[] = [];
  private seq = 0;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Called after every change (persistence, Longhorn records). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  volume(handle: string): VolumeRecord | undefined {
    const volume = this.volumes.get(handle);
    return volume && !volume.deleted ? volume : undefined;
  }

  snapshot(key: string): SnapshotRecord | undefined {
    const snapshot = this.snapshots.get(key);
    return snapshot && !snapshot.deleted ? snapshot : undefined;
  }

  /**
   * The PVC a live snapshot was cut from. Looks through deleted volumes too: a
   * backup's snapshot often outlives its source, whose namespace went first.
   */
  snapshotSourceClaim(key: string): ClaimRef | undefined {
    const snapshot = this.snapshot(key);
    if (!snapshot) return undefined;
    const claim = this.volumes.get(snapshot.sourceVolume)?.claim;
    return claim ? { ...claim } : undefined;
  }

  liveVolumes(): VolumeRecord[] {
    return [...this.volumes.values()].filter((v) => !v.deleted);
  }

  liveSnapshots(): SnapshotRecord[] {
    return [...this.snapshots.values()].filter((s) => !s.deleted);
  }

  /** CreateVolume; idempotent by handle like the CSI call (same name, same volume). */
  createVolume(input: CreateVolumeInput, ctx: EventContext = {}): VolumeRecord {
    const existing = this.volume(input.handle);
    if (existing) return existing;
    let parent: SnapshotRecord | undefined;
    if (input.fromSnapshot !== undefined) {
      parent = this.snapshot(input.fromSnapshot);
      if (!parent || parent.driver !== input.driver) {
        throw new StorageError('NotFound', `snapshot ${input.fromSnapshot} not found`);
      }
      if (input.sizeBytes < parent.sizeBytes) {
        throw new StorageError(
          'InvalidArgument',
          `requested size ${input.sizeBytes} is smaller than snapshot ${parent.handle} (${parent.sizeBytes})`,
        );
      }
    }
    const dependsOnSnapshot = parent !== undefined && input.dependsOnSnapshot === true;
    const volume: VolumeRecord = {
      id: input.handle,
      handle: input.handle,
      driver: input.driver,
      cluster: input.cluster,
      pvName: input.pvName,
      ...(input.claim ? { claim: { ...input.claim } } : {}),
      ...(input.storageClass !== undefined ? { storageClass: input.storageClass } : {}),
      sizeBytes: input.sizeBytes,
      physicalBytes: dependsOnSnapshot ? 0 : input.sizeBytes,
      ...(parent ? { clonedFromSnapshot: parent.handle, dependsOnSnapshot } : {}),
      attributes: { ...(input.attributes ?? {}) },
      createdAt: this.stamp(),
    };
    this.volumes.set(volume.handle, volume);
    if (parent && dependsOnSnapshot) parent.busyBy.push(volume.handle);
    this.log('VolumeCreated', ctx, { volume: volume.handle, ...(parent ? { snapshot: parent.handle } : {}) });
    return volume;
  }

  /** DeleteVolume; a missing volume is success (CSI idempotency) but is logged. */
  deleteVolume(handle: string, ctx: EventContext = {}): boolean {
    const volume = this.volume(handle);
    if (!volume) {
      this.log('VolumeDeleteNotFound', ctx, { volume: handle });
      return false;
    }
    volume.deleted = true;
    volume.deletedAt = this.stamp();
    if (volume.dependsOnSnapshot && volume.clonedFromSnapshot !== undefined) {
      const parent = this.snapshots.get(volume.clonedFromSnapshot);
      if (parent) parent.busyBy = parent.busyBy.filter((h) => h !== handle);
    }
    this.log('VolumeDeleted', ctx, { volume: handle });
    return true;
  }

  /**
   * CreateSnapshot; idempotent by CSI name: a retry for the same source returns the
   * snapshot already cut instead of cutting another one.
   */
  createSnapshot(input: CreateSnapshotInput, ctx: EventContext = {}): SnapshotRecord {
    for (const existing of this.snapshots.values()) {
      if (existing.deleted || existing.driver !== input.driver || existing.name !== input.name) continue;
      if (existing.sourceVolume === input.sourceVolume) return existing;
      throw new StorageError('AlreadyExists', `snapshot ${input.name} already exists for another volume`);
    }
    const source = this.volume(input.sourceVolume);
    if (!source || source.driver !== input.driver) {
      throw new StorageError('NotFound', `volume ${input.sourceVolume} not found`);
    }
    if (this.snapshot(input.handle)) throw new StorageError('AlreadyExists', `snapshot ${input.handle} already exists`);
    const snapshot: SnapshotRecord = {
      handle: input.handle,
      driver: input.driver,
      name: input.name,
      sourceVolume: input.sourceVolume,
      sizeBytes: source.sizeBytes,
      cluster: input.cluster,
      createdAt: this.stamp(),
      busyBy: [],
      ...(input.backupVolume !== undefined ? { backupVolume: input.backupVolume } : {}),
      ...(input.backupName !== undefined ? { backupName: input.backupName } : {}),
    };
    this.snapshots.set(snapshot.handle, snapshot);
    this.log('SnapshotCreated', ctx, { snapshot: snapshot.handle, volume: source.handle });
    return snapshot;
  }

  /**
   * DeleteSnapshot. A busy snapshot cannot simply go: the storage first splits each
   * clone that shares its blocks into an independent full copy (slow and space
   * hungry on real systems), then deletes the snapshot. A missing snapshot is
   * success (CSI idempotency) but is logged.
   */
  deleteSnapshot(key: string, ctx: EventContext = {}): { deleted: boolean; split: string[] } {
    const snapshot = this.snapshot(key);
    if (!snapshot) {
      this.log('SnapshotDeleteNotFound', ctx, { snapshot: key });
      return { deleted: false, split: [] };
    }
    const split: string[] = [];
    for (const handle of snapshot.busyBy) {
      const clone = this.volumes.get(handle);
      if (!clone || clone.deleted) continue;
      clone.split = true;
      clone.splitAt = this.stamp();
      clone.dependsOnSnapshot = false;
      clone.physicalBytes = clone.sizeBytes;
      split.push(handle);
      this.log('CloneSplit', ctx, {
        snapshot: snapshot.handle,
        volume: handle,
        message: `snapshot deleted while clone ${handle} depended on it: clone split into a full copy of ${clone.sizeBytes} bytes`,
      });
    }
    snapshot.busyBy = [];
    snapshot.deleted = true;
    snapshot.deletedAt = this.stamp();
    this.log('SnapshotDeleted', ctx, { snapshot: snapshot.handle });
    return { deleted: true, split };
  }

  /** Records an event that changes no record (failures, skipped deletions). */
  note(
    type: LedgerEventType,
    ctx: EventContext,
    fields: { volume?: string; snapshot?: string; message?: string },
  ): void {
    this.log(type, ctx, fields);
  }

  toJSON(): LedgerState {
    return {
      volumes: [...this.volumes.values()].map((v) => structuredClone(v)),
      snapshots: [...this.snapshots.values()].map((s) => structuredClone(s)),
      events: this.events.map((e) => ({ ...e })),
    };
  }

  /** Restores a state saved by toJSON (simulator restarts with --state). */
  load(state: LedgerState): void {
    this.volumes.clear();
    this.snapshots.clear();
    for (const v of state.volumes) this.volumes.set(v.handle, structuredClone(v));
    for (const s of state.snapshots) this.snapshots.set(s.handle, structuredClone(s));
    this.events = state.events.map((e) => ({ ...e }));
    this.seq = this.events.reduce((max, e) => Math.max(max, e.seq), 0);
    this.changed();
  }

  private log(
    type: LedgerEventType,
    ctx: EventContext,
    fields: { volume?: string; snapshot?: string; message?: string },
  ): void {
    this.events.push({
      seq: ++this.seq,
      type,
      at: this.stamp(),
      ...(ctx.cluster !== undefined ? { cluster: ctx.cluster } : {}),
      ...(ctx.object !== undefined ? { object: ctx.object } : {}),
      ...fields,
    });
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  private stamp(): string {
    return this.now().toISOString();
  }
}
