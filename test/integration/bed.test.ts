import {
  ApiException,
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
  VersionApi,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { bedState, freshNamespace, kubeConfigFor, ledger, waitFor, type Identity } from '../bed/context';

// Proves the shared test bed is what the integration tests assume: independent
// clusters with TLS, RBAC and both kinds of authentication, working controllers, the
// snapshot API and controller, and the storage simulator behind it all.

const clusters = ['alpha', 'beta'] as const;

function core(cluster: string, identity: Identity = 'admin'): CoreV1Api {
  return kubeConfigFor(cluster, identity).makeApiClient(CoreV1Api);
}

/** The HTTP status a Kubernetes call failed with (fails the test if it succeeded). */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('clusters', () => {
  it('are two independent clusters', async () => {
    const state = bedState();
    expect(Object.keys(state.clusters).sort()).toEqual([...clusters]);
    expect(state.clusters.alpha?.server).not.toBe(state.clusters.beta?.server);
    // Each cluster has a CA of its own.
    expect(state.clusters.alpha?.caData).not.toBe(state.clusters.beta?.caData);

    const namespace = await freshNamespace('alpha', 'independent');
    await expect(core('alpha').readNamespace({ name: namespace })).resolves.toMatchObject({
      metadata: { name: namespace },
    });
    expect(await statusOf(core('beta').readNamespace({ name: namespace }))).toBe(404);
  });

  it.each(clusters)('%s reports a released Kubernetes version', async (cluster) => {
    // Backups record the source cluster's version; a development build would say v0.0.0-master.
    const version = await kubeConfigFor(cluster).makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(`v${version.major}.${version.minor}.`).toBe(version.gitVersion.replace(/\d+$/, ''));
  });

  it.each(clusters)('%s authenticates client certificates and bearer tokens', async (cluster) => {
    const whoAmI = async (identity: Identity) => {
      const api = kubeConfigFor(cluster, identity).makeApiClient(AuthenticationV1Api);
      const review = await api.createSelfSubjectReview({ body: {} });
      return review.status?.userInfo;
    };
    expect(await whoAmI('admin')).toMatchObject({ username: 'skiff-bed-admin', groups: expect.arrayContaining(['system:masters']) });
    expect(await whoAmI('admin-token')).toMatchObject({ groups: expect.arrayContaining(['system:masters']) });
    const limited = await whoAmI('limited');
    expect(limited?.username).toBe(bedState().clusters[cluster]?.limitedUser);
    expect(limited?.groups).not.toContain('system:masters');
  });

  it.each(clusters)('%s enforces RBAC', async (cluster) => {
    await expect(core(cluster, 'admin-token').listSecretForAllNamespaces()).resolves.toBeDefined();
    expect(await statusOf(core(cluster, 'limited').listSecretForAllNamespaces())).toBe(403);

    // A grant of the aggregated `view` role in one namespace takes effect there only,
    // which also shows the role aggregation controller filled in `view`.
    const namespace = await freshNamespace(cluster, 'rbac');
    const user = bedState().clusters[cluster]?.limitedUser ?? '';
    await kubeConfigFor(cluster)
      .makeApiClient(RbacAuthorizationV1Api)
      .createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: 'limited-view' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
        },
      });
    await waitFor(() => core(cluster, 'limited').listNamespacedConfigMap({ namespace }), {
      what: `${user} to be allowed to list config maps in ${namespace}`,
      timeoutMs: 15_000,
    });
    expect(await statusOf(core(cluster, 'limited').listNamespacedSecret({ namespace }))).toBe(403);
    expect(await statusOf(core(cluster, 'limited').listNamespacedConfigMap({ namespace: 'default' }))).toBe(403);
  });

  it.each(clusters)('%s runs the namespace and service-account controllers', async (cluster) => {
    const namespace = await freshNamespace(cluster, 'controllers');
    await waitFor(() => core(cluster).readNamespacedServiceAccount({ name: 'default', namespace }), {
      what: `ServiceAccount ${namespace}/default`,
    });
    await waitFor(() => core(cluster).readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace }), {
      what: `ConfigMap ${namespace}/kube-root-ca.crt`,
    });

    await core(cluster).deleteNamespace({ name: namespace });
    await waitFor(async () => (await statusOf(core(cluster).readNamespace({ name: namespace }))) === 404, {
      what: `namespace ${namespace} to be deleted`,
    });
  });

  it.each(clusters)('%s serves the snapshot.storage.k8s.io/v1 API', async (cluster) => {
    const api = kubeConfigFor(cluster).makeApiClient(CustomObjectsApi);
    for (const plural of ['volumesnapshots', 'volumesnapshotcontents', 'volumesnapshotclasses']) {
      const list = (await api.listClusterCustomObject({ group: 'snapshot.storage.k8s.io', version: 'v1', plural })) as {
        kind?: string;
      };
      expect(list.kind).toMatch(/^VolumeSnapshot(Content|Class)?List$/);
    }
  });
});

const personalities = [
  { name: 'longhorn', storageClass: 'sim-longhorn', driver: 'driver.longhorn.io' },
  { name: 'ontap', storageClass: 'sim-ontap', driver: 'csi.trident.netapp.io' },
] as const;

const snapshotGroup = { group: 'snapshot.storage.k8s.io', version: 'v1' } as const;

interface VolumeSnapshot {
  metadata: { name: string; uid?: string };
  status?: { boundVolumeSnapshotContentName?: string; readyToUse?: boolean };
}

interface VolumeSnapshotContent {
  metadata: { name: string };
  spec: { driver: string; deletionPolicy: string; volumeSnapshotRef: { name?: string; namespace?: string } };
  status?: { snapshotHandle?: string; readyToUse?: boolean };
}

/** Creates a 1Gi PVC and waits for it to be Bound; returns the PV's CSI volume handle. */
async function boundClaim(cluster: string, namespace: string, storageClass: string, driver: string): Promise<string> {
  const api = core(cluster);
  await api.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name: 'data' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: storageClass,
        resources: { requests: { storage: '1Gi' } },
      },
    },
  });
  const claim = await waitFor(
    async () => {
      const pvc = await api.readNamespacedPersistentVolumeClaim({ name: 'data', namespace });
      return pvc.status?.phase === 'Bound' && pvc;
    },
    { what: `PVC ${namespace}/data of ${storageClass} in ${cluster} to be Bound`, timeoutMs: 60_000 },
  );
  const pv = await api.readPersistentVolume({ name: claim.spec?.volumeName ?? '' });
  expect(pv.spec?.csi?.driver).toBe(driver);
  return pv.spec?.csi?.volumeHandle ?? '';
}

/** Snapshots the PVC `data` and waits for readyToUse; returns the content the snapshot controller made. */
async function readySnapshot(cluster: string, namespace: string, snapshotClass: string): Promise<VolumeSnapshotContent> {
  const api = kubeConfigFor(cluster).makeApiClient(CustomObjectsApi);
  await api.createNamespacedCustomObject({
    ...snapshotGroup,
    namespace,
    plural: 'volumesnapshots',
    body: {
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshot',
      metadata: { name: 'snap' },
      spec: { volumeSnapshotClassName: snapshotClass, source: { persistentVolumeClaimName: 'data' } },
    },
  });
  const snapshot = await waitFor(
    async () => {
      const vs = (await api.getNamespacedCustomObject({
        ...snapshotGroup,
        namespace,
        plural: 'volumesnapshots',
        name: 'snap',
      })) as VolumeSnapshot;
      return vs.status?.readyToUse === true && vs;
    },
    { what: `VolumeSnapshot ${namespace}/snap in ${cluster} to be readyToUse`, timeoutMs: 60_000 },
  );
  const contentName = snapshot.status?.boundVolumeSnapshotContentName ?? '';
  // The snapshot controller names the content it creates for a snapshot after the snapshot's uid.
  expect(contentName).toBe(`snapcontent-${snapshot.metadata.uid}`);
  return (await api.getClusterCustomObject({
    ...snapshotGroup,
    plural: 'volumesnapshotcontents',
    name: contentName,
  })) as VolumeSnapshotContent;
}

const hasSimulator = bedState().simulator !== null;

describe.skipIf(!hasSimulator)('storage simulator', () => {
  describe.each(personalities)('$name', ({ storageClass, driver }) => {
    it.each(clusters)(`provisions a PVC of ${storageClass} in %s`, async (cluster) => {
      const namespace = await freshNamespace(cluster, `pvc-${storageClass}`);
      const handle = await boundClaim(cluster, namespace, storageClass, driver);

      const volume = (await ledger()).volumes.find((v) => v.handle === handle);
      expect(volume).toMatchObject({ driver, cluster, claim: { namespace, name: 'data' } });
    });

    it.each(['Delete', 'Retain'] as const)(
      `snapshots through the snapshot controller; deleting the snapshot with deletionPolicy %s`,
      async (policy) => {
        const namespace = await freshNamespace('alpha', `snap-${storageClass}-${policy}`);
        await boundClaim('alpha', namespace, storageClass, driver);
        const content = await readySnapshot('alpha', namespace, `${storageClass}-${policy.toLowerCase()}`);
        expect(content.spec).toMatchObject({ driver, deletionPolicy: policy, volumeSnapshotRef: { name: 'snap', namespace } });
        const handle = content.status?.snapshotHandle ?? '';
        expect((await ledger()).snapshots.find((s) => s.handle === handle)).toMatchObject({ driver, cluster: 'alpha' });

        const api = kubeConfigFor('alpha').makeApiClient(CustomObjectsApi);
        await api.deleteNamespacedCustomObject({ ...snapshotGroup, namespace, plural: 'volumesnapshots', name: 'snap' });
        await waitFor(
          async () =>
            (await statusOf(
              api.getNamespacedCustomObject({ ...snapshotGroup, namespace, plural: 'volumesnapshots', name: 'snap' }),
            )) === 404,
          { what: `VolumeSnapshot ${namespace}/snap to be deleted`, timeoutMs: 60_000 },
        );
        const readContent = () =>
          api.getClusterCustomObject({ ...snapshotGroup, plural: 'volumesnapshotcontents', name: content.metadata.name });

        if (policy === 'Delete') {
          await waitFor(async () => (await statusOf(readContent())) === 404, {
            what: `VolumeSnapshotContent ${content.metadata.name} to be deleted`,
            timeoutMs: 60_000,
          });
          await waitFor(
            async () => {
              const snapshot = (await ledger()).snapshots.find((s) => s.handle === handle);
              return snapshot === undefined || snapshot.deleted === true;
            },
            { what: `snapshot ${handle} to be deleted from the storage` },
          );
        } else {
          await expect(readContent()).resolves.toMatchObject({ metadata: { name: content.metadata.name } });
          const snapshot = (await ledger()).snapshots.find((s) => s.handle === handle);
          expect(snapshot).toBeDefined();
          expect(snapshot?.deleted).not.toBe(true);
        }
      },
    );
  });
});
