import { describe, expect, it } from 'vitest';
import { csiSnapshotVolumeInfo, serializeVolumeInfos, skippedVolumeInfo } from '../../../lib/velero/volume-info';

describe('Module: velero/volume-info', () => {
  it('writes a CSI snapshot entry exactly as Velero encodes BackupVolumeInfo', () => {
    const info = csiSnapshotVolumeInfo({
      pvcNamespace: 'app',
      pvcName: 'data',
      pv: { name: 'pvc-1', reclaimPolicy: 'Delete', labels: { z: '1', a: '2' } },
      snapshotHandle: 'bak://pvc-1/backup-1',
      sizeBytes: 1073741824,
      driver: 'driver.longhorn.io',
      vscName: 'snapcontent-1',
      readyToUse: true,
      startTimestamp: '2024-05-01T10:00:00Z',
      completedAt: new Date('2024-05-01T10:00:03.500Z'),
    });
    expect(serializeVolumeInfos([info])).toBe(
      '[{"pvcName":"data","pvcNamespace":"app","pvName":"pvc-1","backupMethod":"CSISnapshot","snapshotDataMoved":false,' +
        '"preserveLocalSnapshot":true,"skipped":false,"startTimestamp":"2024-05-01T10:00:00Z",' +
        '"completionTimestamp":"2024-05-01T10:00:03Z","result":"succeeded","csiSnapshotInfo":{"snapshotHandle":"bak://pvc-1/backup-1",' +
        '"size":1073741824,"driver":"driver.longhorn.io","vscName":"snapcontent-1","ReadyToUse":true},' +
        '"pvInfo":{"reclaimPolicy":"Delete","labels":{"a":"2","z":"1"}}}]\n',
    );
  });

  it('writes a skipped entry with null labels and no empty fields', () => {
    const info = skippedVolumeInfo({ pvcNamespace: 'app', pvcName: 'cache', pv: { name: 'pv-host' }, reason: 'not a CSI volume' });
    expect(serializeVolumeInfos([info])).toBe(
      '[{"pvcName":"cache","pvcNamespace":"app","pvName":"pv-host","snapshotDataMoved":false,"preserveLocalSnapshot":false,' +
        '"skipped":true,"skippedReason":"not a CSI volume","pvInfo":{"reclaimPolicy":"","labels":null}}]\n',
    );
  });

  it.each([
    [undefined, null],
    [false, false],
  ])('writes ReadyToUse %j as %j', (readyToUse, written) => {
    const info = csiSnapshotVolumeInfo({
      pvcNamespace: 'a',
      pvcName: 'b',
      pv: { name: 'c' },
      snapshotHandle: 'h',
      sizeBytes: 0,
      driver: 'd',
      vscName: 'v',
      readyToUse,
      completedAt: new Date(0),
    });
    const [parsed] = JSON.parse(serializeVolumeInfos([info])) as [{ csiSnapshotInfo: { ReadyToUse: unknown } }];
    expect(parsed.csiSnapshotInfo.ReadyToUse).toBe(written);
  });

  it('writes an empty list as []', () => {
    expect(serializeVolumeInfos([])).toBe('[]\n');
  });
});
