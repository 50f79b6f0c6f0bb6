import { describe, expect, it } from 'vitest';
import { restoreOrder } from '../../../lib/restore/priorities';

describe('Function: restoreOrder', () => {
  it.each([
    [
      'high priorities first, in Velero order',
      ['deployments.apps', 'pods', 'namespaces', 'customresourcedefinitions.apiextensions.k8s.io', 'persistentvolumeclaims', 'persistentvolumes'],
      ['customresourcedefinitions.apiextensions.k8s.io', 'namespaces', 'persistentvolumes', 'persistentvolumeclaims', 'pods', 'deployments.apps'],
    ],
    [
      'snapshot objects before PVs and PVCs, storage classes before them',
      [
        'persistentvolumeclaims',
        'volumesnapshots.snapshot.storage.k8s.io',
        'volumesnapshotcontents.snapshot.storage.k8s.io',
        'volumesnapshotclasses.snapshot.storage.k8s.io',
        'storageclasses.storage.k8s.io',
      ],
      [
        'storageclasses.storage.k8s.io',
        'volumesnapshotclasses.snapshot.storage.k8s.io',
        'volumesnapshotcontents.snapshot.storage.k8s.io',
        'volumesnapshots.snapshot.storage.k8s.io',
        'persistentvolumeclaims',
      ],
    ],
    [
      'the rest alphabetically, then the low-priority tail',
      ['clusters.cluster.x-k8s.io', 'widgets.example.com', 'services', 'configmaps', 'deployments.apps', 'apps.kappctrl.k14s.io', 'cronjobs.batch'],
      ['configmaps', 'services', 'cronjobs.batch', 'deployments.apps', 'widgets.example.com', 'clusters.cluster.x-k8s.io', 'apps.kappctrl.k14s.io'],
    ],
    ['secrets and config maps before pods, replica sets after', ['replicasets.apps', 'pods', 'configmaps', 'secrets', 'serviceaccounts'], ['serviceaccounts', 'secrets', 'configmaps', 'pods', 'replicasets.apps']],
  ])('%s', (_case, input, expected) => {
    expect(restoreOrder(input)).toEqual(expected);
  });
});
