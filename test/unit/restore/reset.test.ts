import { describe, expect, it } from 'vitest';
import { addRestoreLabels, resetMetadataAndStatus, resetPersistentVolume, resetPersistentVolumeClaim, resetService, type RestoreObject } from '../../../lib/restore/reset';

describe('Function: resetMetadataAndStatus', () => {
  it('removes what the source cluster assigned and keeps the rest', () => {
    const object: RestoreObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'a',
        namespace: 'ns',
        labels: { app: 'x' },
        annotations: { note: 'y' },
        uid: 'u',
        resourceVersion: '7',
        generation: 2,
        creationTimestamp: 't',
        managedFields: [{}],
        selfLink: '/x',
        generateName: 'a-',
        ownerReferences: [{ uid: 'owner' }],
        finalizers: ['keep'],
      },
      data: { k: 'v' },
      status: { phase: 'x' },
    };
    resetMetadataAndStatus(object);
    expect(object).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: 'ns', labels: { app: 'x' }, annotations: { note: 'y' }, finalizers: ['keep'] },
      data: { k: 'v' },
    });
  });

  it('labels with the backup and restore names, Velero-shortened past 63 characters', () => {
    const object: RestoreObject = { metadata: { name: 'a', labels: { app: 'x' } } };
    addRestoreLabels(object, 'b', 'r'.repeat(70));
    expect(object.metadata!.labels).toEqual({ app: 'x', 'velero.io/backup-name': 'b', 'velero.io/restore-name': expect.stringMatching(/^r{57}[0-9a-f]{6}$/) });
  });
});

describe('Function: resetService', () => {
  const lastApplied = JSON.stringify({ spec: { ports: [{ name: 'fixed', port: 81, nodePort: 30081 }] } });
  it.each([
    ['ClusterIP: the cluster IPs go', { clusterIP: '10.0.0.5', clusterIPs: ['10.0.0.5'], ports: [{ port: 80 }] }, false, undefined, { ports: [{ port: 80 }] }],
    ['headless: None stays', { clusterIP: 'None', clusterIPs: ['None'] }, false, undefined, { clusterIP: 'None', clusterIPs: ['None'] }],
    [
      'NodePort without preserveNodePorts: assigned node ports go',
      { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] },
      false,
      undefined,
      { type: 'NodePort', ports: [{ port: 80 }] },
    ],
    [
      'NodePort with preserveNodePorts: node ports stay',
      { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] },
      true,
      undefined,
      { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] },
    ],
    [
      'explicit node ports (last-applied configuration) stay',
      { type: 'NodePort', ports: [{ name: 'fixed', port: 81, nodePort: 30081 }, { name: 'auto', port: 82, nodePort: 30082 }] },
      false,
      lastApplied,
      { type: 'NodePort', ports: [{ name: 'fixed', port: 81, nodePort: 30081 }, { name: 'auto', port: 82 }] },
    ],
  ])('%s', (_case, spec, preserve, applied, expected) => {
    const service: RestoreObject = {
      kind: 'Service',
      metadata: { name: 's', ...(applied ? { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': applied } } : {}) },
      spec: structuredClone(spec),
    };
    resetService(service, preserve);
    expect(service.spec).toEqual(expected);
  });
});

describe('Functions: resetPersistentVolume, resetPersistentVolumeClaim', () => {
  it('clears the claim reference uid and maps its namespace; drops binding annotations', () => {
    const pv: RestoreObject = {
      metadata: { name: 'pv', annotations: { 'pv.kubernetes.io/bound-by-controller': 'yes', 'pv.kubernetes.io/provisioned-by': 'd' } },
      spec: { claimRef: { namespace: 'a', name: 'c', uid: 'u', resourceVersion: '1' } },
    };
    resetPersistentVolume(pv, { a: 'b' });
    expect(pv).toEqual({ metadata: { name: 'pv', annotations: { 'pv.kubernetes.io/provisioned-by': 'd' } }, spec: { claimRef: { namespace: 'b', name: 'c' } } });
  });

  it.each([
    { finalizers: ['snapshot.storage.kubernetes.io/pvc-as-source-protection'], kept: undefined },
    { finalizers: ['provisioner.storage.kubernetes.io/cloning-protection', 'kubernetes.io/pvc-protection'], kept: ['kubernetes.io/pvc-protection'] },
    { finalizers: ['example.com/keep-me'], kept: ['example.com/keep-me'] },
  ])('drops the finalizers of operations under way in the source cluster: $finalizers → $kept', ({ finalizers, kept }) => {
    const pvc: RestoreObject = { metadata: { name: 'c', finalizers: [...finalizers] }, spec: {} };
    resetPersistentVolumeClaim(pvc, false);
    expect((pvc.metadata as { finalizers?: string[] }).finalizers).toEqual(kept);
  });

  it.each([
    [true, { volumeName: 'pv-1' }],
    [false, {}],
  ])('keeps volumeName only when its volume is restored (%s)', (keep, expected) => {
    const pvc: RestoreObject = { metadata: { name: 'c', annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } }, spec: { volumeName: 'pv-1' } };
    resetPersistentVolumeClaim(pvc, keep);
    expect(pvc.spec).toEqual(expected);
    expect(pvc.metadata!.annotations).toEqual({});
  });
});
