/**
 * The external-provisioner sidecar of both drivers, for one cluster: it creates a
 * volume and its PV for each PVC the KCM PV controller hands to one of our drivers
 * (annotation `volume.kubernetes.io/storage-provisioner`), and deletes the volume
 * and the PV once the PV is Released with reclaim policy Delete. Binding is left to
 * the real PV controller, as in a real cluster.
 *
 * Restores (`dataSource` a VolumeSnapshot) are checked like getSnapshotSource does:
 * the VolumeSnapshot must be bound both ways to a content of the same driver, be
 * ready, have a handle, and not be larger than the request; then the storage must
 * still hold the snapshot. Every failure is a ProvisioningFailed event on the PVC
 * and a retry with backoff.
 */

import { randomBytes } from 'node:crypto';
import type { ControllerDeps } from './deps';
import { EventRecorder } from './events';
import type { Cluster } from './kube';
import { errorText, isConflict, resourcePath } from './kube';
import { StorageError } from './ledger';
import { log, RepeatLog } from './log';
import type { Personality } from './personalities';
import { personalityFor } from './personalities';
import { formatBytes, parseQuantity } from './quantity';
import { Reflector } from './reflector';
import { sleep } from './time';
import type {
  PersistentVolume,
  PersistentVolumeClaim,
  StorageClass,
  VolumeSnapshot,
  VolumeSnapshotContent,
} from './types';
import { WorkQueue } from './workqueue';

export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export const PV_FINALIZER = 'external-provisioner.volume.kubernetes.io/finalizer';
const ANN_DELETION_SECRET_NAME = 'volume.kubernetes.io/provisioner-deletion-secret-name';
const ANN_DELETION_SECRET_NAMESPACE = 'volume.kubernetes.io/provisioner-deletion-secret-namespace';
const PROVISIONER_ID_KEY = 'storage.kubernetes.io/csiProvisionerIdentity';
const CSI_PARAMETER_PREFIX = 'csi.storage.k8s.io/';
const SNAPSHOT_GROUP = 'snapshot.storage.k8s.io';


/** A reason not to provision yet, reported on the PVC; the claim is retried. */
class ProvisionError extends Error {}

/** The driver a claim was handed to, if it is one of ours and still needs a volume. */
export function claimDriver(claim: PersistentVolumeClaim): Personality | undefined {
  if (claim.metadata.deletionTimestamp || claim.spec.volumeName) return undefined;
  const phase = claim.status?.phase;
  if (phase && phase !== 'Pending') return undefined;
  const annotations = claim.metadata.annotations ?? {};
  return personalityFor(annotations[ANN_STORAGE_PROVISIONER] ?? annotations[ANN_BETA_STORAGE_PROVISIONER]);
}

/** The provisioner library's shouldDelete for a PV of `driver`. */
export function volumeShouldBeDeleted(pv: PersistentVolume, driver: string): boolean {
  if (pv.spec.csi?.driver !== driver) return false;
  const hasFinalizer = pv.metadata.finalizers?.includes(PV_FINALIZER) ?? false;
  // Finalizer gone while being deleted: the volume was deleted already.
  if (pv.metadata.deletionTimestamp && !hasFinalizer) return false;
  if (pv.status?.phase !== 'Released') return false;
  if (pv.spec.persistentVolumeReclaimPolicy !== 'Delete') return false;
  const provisionedBy = pv.metadata.annotations?.[ANN_PROVISIONED_BY];
  return provisionedBy === undefined || provisionedBy === driver;
}

function withoutPrefixed(parameters: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(parameters).filter(([key]) => !key.startsWith(CSI_PARAMETER_PREFIX)));
}

export class Provisioner {
  private readonly claims: Reflector<PersistentVolumeClaim>;
  private readonly volumes: Reflector<PersistentVolume>;
  private readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;
  /** Identity written into volumeAttributes, like the real sidecar's `<start>-<random>-<driver>`. */
  private readonly identity = `${Date.now()}-${randomBytes(2).readUInt16BE() % 10000}`;
  private readonly noted = new Map<string, string>();
  /** PVs written moments ago, which the PV cache may not show yet: no second attempt (and event) for them. */
  private readonly justCreated = new Map<string, number>();

  constructor(private readonly deps: ControllerDeps) {
    const { cluster, resyncMs } = deps;
    this.recorder = new EventRecorder(cluster, 'external-provisioner');
    const failures = new RepeatLog(cluster.name);
    this.queue = new WorkQueue((key) => this.sync(key), {
      isTransient: isConflict,
      onError: (key, err) => failures.failed(key, errorText(err)),
    });
    this.claims = new Reflector<PersistentVolumeClaim>({
      cluster,
      path: resourcePath('v1', 'persistentvolumeclaims'),
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      resyncMs,
      onKey: (key) => this.queue.add(`pvc:${key}`),
    });
    this.volumes = new Reflector<PersistentVolume>({
      cluster,
      path: resourcePath('v1', 'persistentvolumes'),
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      resyncMs,
      onKey: (key) => this.queue.add(`pv:${key}`),
    });
  }

  async start(): Promise<void> {
    // PVs first: a claim whose PV exists already must not be provisioned twice.
    await this.volumes.start();
    await this.claims.start();
  }

  stop(): void {
    this.queue.stop();
    this.claims.stop();
    this.volumes.stop();
  }

  private get cluster(): Cluster {
    return this.deps.cluster;
  }

  private async sync(key: string): Promise<void> {
    if (key.startsWith('pvc:')) await this.syncClaim(key.slice(4));
    else if (key.startsWith('pv:')) await this.syncVolume(key.slice(3));
  }

  // ----- provisioning -------------------------------------------------------------

  private async syncClaim(key: string): Promise<void> {
    const claim = this.claims.get(key);
    const personality = claim && claimDriver(claim);
    if (!claim || !personality) {
      this.noted.delete(key);
      if (claim) this.justCreated.delete(`pvc-${claim.metadata.uid}`);
      return;
    }
    const pvName = `pvc-${claim.metadata.uid}`;
    if (this.volumes.get(pvName)) {
      this.justCreated.delete(pvName);
      return;
    }
    if ((this.justCreated.get(pvName) ?? 0) > Date.now()) return;
    try {
      await this.provision(claim, personality, pvName);
      this.noted.delete(key);
    } catch (err) {
      const message = errorText(err);
      this.recorder.warning(claim, 'ProvisioningFailed', message);
      if (err instanceof StorageError && this.noted.get(key) !== message) {
        this.noted.set(key, message);
        this.deps.ledger.note(
          'ProvisionFailed',
          { cluster: this.cluster.name, object: `PersistentVolumeClaim/${key}` },
          { volume: pvName, message },
        );
      }
      throw err;
    }
  }

  private async provision(claim: PersistentVolumeClaim, personality: Personality, pvName: string): Promise<void> {
    const { namespace = '', name, uid } = claim.metadata;
    const className = claim.spec.storageClassName;
    if (!className) return;
    const sc = await this.cluster.find<StorageClass>(resourcePath('storage.k8s.io/v1', 'storageclasses', { name: className }));
    if (!sc) throw new ProvisionError(`storageclass.storage.k8s.io "${className}" not found`);
    if (sc.provisioner !== personality.driver) return;
    const requested = parseQuantity(claim.spec.resources?.requests?.storage);
    if (requested === undefined || requested <= 0) {
      throw new ProvisionError(`claim ${namespace}/${name} has no valid storage request`);
    }
    const source = await this.snapshotSource(claim, sc, requested);
    if (source === 'not-ours') return;

    this.recorder.normal(claim, 'Provisioning', `External provisioner is provisioning volume for claim "${namespace}/${name}"`);
    await sleep(this.deps.config.current.provisionDelayMs);

    // The claim may have been bound, deleted or re-created while the storage worked.
    const fresh = await this.cluster.find<PersistentVolumeClaim>(
      resourcePath('v1', 'persistentvolumeclaims', { namespace, name }),
    );
    if (!fresh || fresh.metadata.uid !== uid || !claimDriver(fresh)) return;
    if (await this.cluster.find(resourcePath('v1', 'persistentvolumes', { name: pvName }))) return;

    let snapshotKey: string | undefined;
    if (source) {
      const lookup = personality.resolveSnapshotHandle(source.handle);
      if (!lookup.ok) throw new StorageError('NotFound', lookup.reason);
      snapshotKey = lookup.key;
    }
    const parameters = withoutPrefixed(sc.parameters);
    // CreateVolume: idempotent by name, so a retry after a failed PV write reuses it.
    const volume = this.deps.ledger.createVolume(
      {
        handle: pvName,
        driver: personality.driver,
        cluster: this.cluster.name,
        pvName,
        claim: { namespace, name, ...(uid ? { uid } : {}) },
        storageClass: className,
        sizeBytes: requested,
        attributes: personality.volumeContext(pvName, parameters),
        ...(snapshotKey !== undefined
          ? { fromSnapshot: snapshotKey, dependsOnSnapshot: personality.restoreDependsOnSnapshot }
          : {}),
      },
      { cluster: this.cluster.name, object: `PersistentVolumeClaim/${namespace}/${name}` },
    );

    const block = fresh.spec.volumeMode === 'Block';
    const pv: PersistentVolume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: pvName,
        annotations: {
          [ANN_PROVISIONED_BY]: personality.driver,
          [ANN_DELETION_SECRET_NAME]: '',
          [ANN_DELETION_SECRET_NAMESPACE]: '',
        },
        finalizers: [PV_FINALIZER],
      },
      spec: {
        accessModes: fresh.spec.accessModes ?? ['ReadWriteOnce'],
        capacity: { storage: formatBytes(volume.sizeBytes) },
        claimRef: {
          kind: 'PersistentVolumeClaim',
          apiVersion: 'v1',
          namespace,
          name,
          ...(uid ? { uid } : {}),
          ...(fresh.metadata.resourceVersion ? { resourceVersion: fresh.metadata.resourceVersion } : {}),
        },
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: className,
        volumeMode: fresh.spec.volumeMode ?? 'Filesystem',
        ...(sc.mountOptions?.length ? { mountOptions: sc.mountOptions } : {}),
        csi: {
          driver: personality.driver,
          volumeHandle: volume.handle,
          volumeAttributes: { ...volume.attributes, [PROVISIONER_ID_KEY]: `${this.identity}-${personality.driver}` },
          ...(block ? {} : { fsType: sc.parameters?.[`${CSI_PARAMETER_PREFIX}fstype`] ?? 'ext4' }),
        },
      },
    };
    try {
      await this.cluster.create(resourcePath('v1', 'persistentvolumes'), pv);
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    const now = Date.now();
    for (const [name, until] of this.justCreated) if (until <= now) this.justCreated.delete(name);
    this.justCreated.set(pvName, now + 30_000);
    this.recorder.normal(fresh, 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
    log(
      this.cluster.name,
      `provisioned ${pvName} (${formatBytes(volume.sizeBytes)}, ${personality.name}) for ${namespace}/${name}` +
        (source ? ` from ${source.handle}` : ''),
    );
  }

  /**
   * The snapshot a claim restores from: undefined without a data source,
   * 'not-ours' for data sources a populator handles.
   */
  private async snapshotSource(
    claim: PersistentVolumeClaim,
    sc: StorageClass,
    requested: number,
  ): Promise<{ handle: string } | undefined | 'not-ours'> {
    const dataSource = claim.spec.dataSource ?? claim.spec.dataSourceRef;
    if (!dataSource) return undefined;
    const namespace = claim.metadata.namespace ?? '';
    if (dataSource.kind === 'PersistentVolumeClaim' && !dataSource.apiGroup) {
      throw new ProvisionError('cloning from a PersistentVolumeClaim is not supported by the storage simulator');
    }
    if (dataSource.kind !== 'VolumeSnapshot' || dataSource.apiGroup !== SNAPSHOT_GROUP) return 'not-ours';
    const refNamespace = claim.spec.dataSourceRef?.namespace;
    if (refNamespace && refNamespace !== namespace) {
      throw new ProvisionError(`cross-namespace data source ${refNamespace}/${dataSource.name} is not supported by the storage simulator`);
    }
    const name = dataSource.name;
    const notBound = `snapshot ${name} not bound`;
    const vs = await this.cluster.find<VolumeSnapshot>(
      resourcePath(`${SNAPSHOT_GROUP}/v1`, 'volumesnapshots', { namespace, name }),
    );
    if (!vs) throw new ProvisionError(`error getting snapshot ${name} from api server: volumesnapshots.snapshot.storage.k8s.io "${name}" not found`);
    if (vs.metadata.deletionTimestamp) throw new ProvisionError(`snapshot ${name} is being deleted`);
    const contentName = vs.status?.boundVolumeSnapshotContentName;
    if (!contentName) throw new ProvisionError(notBound);
    const content = await this.cluster.find<VolumeSnapshotContent>(
      resourcePath(`${SNAPSHOT_GROUP}/v1`, 'volumesnapshotcontents', { name: contentName }),
    );
    const boundBack =
      content &&
      content.spec.volumeSnapshotRef?.uid === vs.metadata.uid &&
      content.spec.volumeSnapshotRef?.namespace === namespace &&
      content.spec.volumeSnapshotRef?.name === name;
    if (!content || !boundBack || content.spec.driver !== sc.provisioner) throw new ProvisionError(notBound);
    if (vs.status?.readyToUse !== true) throw new ProvisionError(`snapshot ${name} is not Ready`);
    const handle = content.status?.snapshotHandle;
    if (!handle) throw new ProvisionError(`snapshot handle ${name} is not available`);
    const restoreSize = parseQuantity(vs.status?.restoreSize);
    if (restoreSize !== undefined && requested < restoreSize) {
      throw new ProvisionError(
        `requested volume size ${requested} is less than the size ${restoreSize} for the source snapshot ${name}`,
      );
    }
    return { handle };
  }

  // ----- deletion ---------------------------------------------------------------------

  private async syncVolume(name: string): Promise<void> {
    const cached = this.volumes.get(name);
    const personality = personalityFor(cached?.spec.csi?.driver);
    if (!cached || !personality || !volumeShouldBeDeleted(cached, personality.driver)) return;
    const path = resourcePath('v1', 'persistentvolumes', { name });
    try {
      await sleep(this.deps.config.current.deleteDelayMs);
      const pv = await this.cluster.find<PersistentVolume>(path);
      if (!pv || !volumeShouldBeDeleted(pv, personality.driver)) return;
      // DeleteVolume, then the PV object, then our finalizer: the library's order.
      const handle = pv.spec.csi!.volumeHandle;
      const deleted = this.deps.ledger.deleteVolume(handle, {
        cluster: this.cluster.name,
        object: `PersistentVolume/${name}`,
      });
      await this.cluster.remove(path);
      await this.cluster.removeFinalizer(path, PV_FINALIZER);
      log(this.cluster.name, deleted ? `deleted volume ${handle} and PV ${name}` : `PV ${name} deleted; volume ${handle} was already gone`);
    } catch (err) {
      this.recorder.warning(cached, 'VolumeFailedDelete', errorText(err));
      throw err;
    }
  }
}
