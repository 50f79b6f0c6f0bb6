/**
 * What a storage vendor's installer puts into a cluster: the CSIDriver objects,
 * the StorageClasses and VolumeSnapshotClasses tests use, and the Longhorn-like
 * CRDs whose objects are the storage system's own records. Create-if-missing, so
 * restarting the simulator against running clusters changes nothing; objects a
 * test changed (say, a default-class annotation) are left as they are.
 */

import type { Cluster } from './kube';
import { isConflict, resourcePath } from './kube';
import { LONGHORN_DRIVER, ONTAP_DRIVER } from './personalities';

export const LONGHORN_NAMESPACE = 'longhorn-system';
export const LONGHORN_GROUP_VERSION = 'longhorn.io/v1beta2';
/** Marks the records the simulator owns, so it never deletes ones a test wrote itself. */
export const MANAGED_LABEL = 'storage-simulator.skiff.dev/managed';

const SNAPSHOT_CRD = 'volumesnapshotclasses.snapshot.storage.k8s.io';

export const storageClasses = [
  {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'sim-longhorn' },
    provisioner: LONGHORN_DRIVER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'Immediate',
    allowVolumeExpansion: true,
    parameters: { numberOfReplicas: '3', staleReplicaTimeout: '30', fsType: 'ext4' },
  },
  {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'sim-ontap' },
    provisioner: ONTAP_DRIVER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'Immediate',
    allowVolumeExpansion: true,
    parameters: { backendType: 'ontap-nas', fsType: 'ext4' },
  },
];

function snapshotClass(name: string, driver: string, deletionPolicy: 'Retain' | 'Delete', parameters: Record<string, string>) {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotClass',
    metadata: { name },
    driver,
    deletionPolicy,
    parameters,
  };
}

export const volumeSnapshotClasses = [
  // Longhorn's `type: bak` makes CSI snapshots backups on the backup target.
  snapshotClass('sim-longhorn-retain', LONGHORN_DRIVER, 'Retain', { type: 'bak' }),
  snapshotClass('sim-longhorn-delete', LONGHORN_DRIVER, 'Delete', { type: 'bak' }),
  snapshotClass('sim-ontap-retain', ONTAP_DRIVER, 'Retain', {}),
  snapshotClass('sim-ontap-delete', ONTAP_DRIVER, 'Delete', {}),
];

export const csiDrivers = [LONGHORN_DRIVER, ONTAP_DRIVER].map((name) => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'CSIDriver',
  metadata: { name },
  spec: {
    attachRequired: true,
    podInfoOnMount: name === LONGHORN_DRIVER,
    volumeLifecycleModes: ['Persistent'],
    fsGroupPolicy: 'ReadWriteOnceWithFSType',
  },
}));

function longhornCrd(
  plural: string,
  kind: string,
  shortName: string,
  columns: { name: string; jsonPath: string }[],
) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.longhorn.io`, labels: { 'longhorn-manager': '' } },
    spec: {
      group: 'longhorn.io',
      scope: 'Namespaced',
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List`, shortNames: [shortName] },
      versions: [
        {
          name: 'v1beta2',
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: columns.map((c) => ({ ...c, type: 'string' })),
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  };
}

export const longhornCrds = [
  longhornCrd('backupvolumes', 'BackupVolume', 'lhbv', [
    { name: 'CreatedAt', jsonPath: '.status.createdAt' },
    { name: 'LastBackupName', jsonPath: '.status.lastBackupName' },
    { name: 'LastBackupAt', jsonPath: '.status.lastBackupAt' },
  ]),
  longhornCrd('backups', 'Backup', 'lhb', [
    { name: 'SnapshotName', jsonPath: '.status.snapshotName' },
    { name: 'SnapshotSize', jsonPath: '.status.size' },
    { name: 'State', jsonPath: '.status.state' },
    { name: 'VolumeName', jsonPath: '.status.volumeName' },
  ]),
  longhornCrd('volumes', 'Volume', 'lhv', [
    { name: 'State', jsonPath: '.status.state' },
    { name: 'Robustness', jsonPath: '.status.robustness' },
    { name: 'Size', jsonPath: '.spec.size' },
  ]),
];

async function createIfMissing(cluster: Cluster, collectionPath: string, body: unknown): Promise<void> {
  try {
    await cluster.create(collectionPath, body);
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForCrd(cluster: Cluster, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = await cluster.find<{ status?: { conditions?: { type: string; status: string }[] } }>(
      resourcePath('apiextensions.k8s.io/v1', 'customresourcedefinitions', { name }),
    );
    if (crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) {
      throw new Error(
        `CRD ${name} is not established in cluster ${cluster.name} after ${timeoutMs / 1000}s` +
          (crd ? '' : ' (it does not exist: install the snapshot CRDs first)'),
      );
    }
    await sleep(250);
  }
}

/** Installs everything; waits up to `crdTimeoutMs` for the snapshot CRDs the bed installs. */
export async function install(cluster: Cluster, crdTimeoutMs = 120_000): Promise<void> {
  const crdPath = resourcePath('apiextensions.k8s.io/v1', 'customresourcedefinitions');
  await Promise.all(longhornCrds.map((crd) => createIfMissing(cluster, crdPath, crd)));
  await createIfMissing(cluster, resourcePath('v1', 'namespaces'), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: LONGHORN_NAMESPACE },
  });
  await Promise.all(
    csiDrivers.map((driver) => createIfMissing(cluster, resourcePath('storage.k8s.io/v1', 'csidrivers'), driver)),
  );
  await Promise.all(
    storageClasses.map((sc) => createIfMissing(cluster, resourcePath('storage.k8s.io/v1', 'storageclasses'), sc)),
  );
  await Promise.all(longhornCrds.map((crd) => waitForCrd(cluster, crd.metadata.name, 30_000)));
  await waitForCrd(cluster, SNAPSHOT_CRD, crdTimeoutMs);
  await Promise.all(
    volumeSnapshotClasses.map((vsc) =>
      createIfMissing(cluster, resourcePath('snapshot.storage.k8s.io/v1', 'volumesnapshotclasses'), vsc),
    ),
  );
}
