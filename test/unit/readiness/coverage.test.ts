import { describe, expect, it } from 'vitest';
import { coverageFindings } from '../../../lib/readiness/coverage';
import type { VolumeSnapshotClass } from '../../../lib/csi/snapshot-api';
import { forPersistentVolume, forPersistentVolumeClaim, forStorageClass, forVolumeSnapshotClass } from '../../builders';

const LONGHORN = 'driver.longhorn.io';
const ONTAP = 'csi.trident.netapp.io';
const EBS = 'ebs.csi.aws.com';

const PVS = [
  forPersistentVolume('pv-longhorn').csi(LONGHORN, 'v1').result(),
  forPersistentVolume('pv-longhorn-2').csi(LONGHORN, 'v2').result(),
  forPersistentVolume('pv-ontap').csi(ONTAP, 'v3').result(),
  forPersistentVolume('pv-ebs').csi(EBS, 'v4').result(),
  forPersistentVolume('pv-host').hostPath('/data').result(),
];
const CLASSES = [
  forVolumeSnapshotClass('longhorn').driver(LONGHORN).result(),
  forVolumeSnapshotClass('ontap-a').driver(ONTAP).result(),
  forVolumeSnapshotClass('ontap-b').driver(ONTAP).result(),
] as VolumeSnapshotClass[];

const pvc = (ns: string, name: string, pv?: string) =>
  pv ? forPersistentVolumeClaim(ns, name).storageClass('sc').volumeName(pv).result() : forPersistentVolumeClaim(ns, name).result();

function findingsFor(pvcs: ReturnType<typeof pvc>[], snapshotApiServed = true) {
  return coverageFindings({
    pvcs,
    persistentVolumes: PVS,
    storageClasses: [forStorageClass('sc', LONGHORN).result()],
    snapshotClasses: CLASSES,
    snapshotApiServed,
  });
}

describe('coverageFindings', () => {
  it.each([
    { name: 'a driver with no class', pvc: pvc('shop', 'ebs', 'pv-ebs'), severity: 'warn', why: /no VolumeSnapshotClass has their CSI driver \(driver ebs.csi.aws.com\)/ },
    { name: 'several classes and none chosen', pvc: pvc('shop', 'ontap', 'pv-ontap'), severity: 'warn', why: /several VolumeSnapshotClasses/ },
    { name: 'a non-CSI volume', pvc: pvc('shop', 'host', 'pv-host'), severity: 'warn', why: /not CSI volumes/ },
    { name: 'a PV that is gone', pvc: pvc('shop', 'gone', 'pv-gone'), severity: 'warn', why: /does not exist/ },
    { name: 'an unbound PVC', pvc: pvc('shop', 'pending'), severity: 'info', why: /not bound/ },
  ])('$name: will not be snapshotted ($severity)', ({ pvc: claim, severity, why }) => {
    const [finding] = findingsFor([claim]).filter((f) => f.objects[0]?.startsWith('PVC'));
    expect(finding).toMatchObject({ severity, namespace: 'shop', objects: [`PVC shop/${claim.metadata.name}`] });
    expect(finding!.message).toMatch(/1 PVC in namespace shop will not be snapshotted/);
    expect(finding!.message).toMatch(why);
  });

  it('groups PVCs per namespace and reason, and counts the covered ones', () => {
    const findings = findingsFor([
      pvc('shop', 'a', 'pv-ebs'),
      pvc('shop', 'b', 'pv-ebs'),
      pvc('blog', 'c', 'pv-ebs'),
      pvc('shop', 'ok', 'pv-longhorn'),
      pvc('blog', 'ok', 'pv-longhorn-2'),
    ]);
    expect(findings.map((f) => [f.severity, f.namespace, f.objects])).toEqual([
      ['warn', 'shop', ['PVC shop/a', 'PVC shop/b']],
      ['warn', 'blog', ['PVC blog/c']],
      ['info', undefined, ['VolumeSnapshotClass longhorn: 2 PVCs']],
    ]);
    expect(findings[2]!.message).toBe('2 of 5 PVCs will be snapshotted');
  });

  it('says when the cluster has no snapshot API', () => {
    const [finding] = findingsFor([pvc('shop', 'a', 'pv-longhorn')], false);
    expect(finding!.message).toMatch(/does not serve snapshot.storage.k8s.io\/v1/);
  });
});
