import { describe, expect, it } from 'vitest';
import { describeBackupStructured, describeBackupText, goTime } from '../../../cli/describe-format';
import { formatLabelSelector } from '../../../lib/velero/label-selector';
import { alignTabs } from '../../../cli/tab-writer';
import { progressLine } from '../../../cli/format';
import { volumeViews, type DescribedBackup } from '../../../lib/backup/describe';
import { csiSnapshotVolumeInfo, failedVolumeInfo, skippedVolumeInfo } from '../../../lib/velero/volume-info';
import { forBackup, forVolumeSnapshotContent } from '../../builders';
import type { VolumeSnapshotContent } from '../../../lib/csi/snapshot-api';

/** A finished backup of namespace shop: one PVC snapshotted, two skipped (unbound, not CSI), one failed. */
function shopBackup(): DescribedBackup {
  const backup = forBackup('velero', 'shop-1')
    .includedNamespaces('shop')
    .labels({ 'velero.io/storage-location': 'default', 'skiff.io/cluster': 'alpha' })
    .annotations({ 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-retain' })
    .storageLocation('default')
    .ttl('720h0m0s')
    .phase('PartiallyFailed')
    .formatVersion()
    .startTimestamp(new Date('2026-11-30T10:00:00Z'))
    .completionTimestamp(new Date('2026-11-30T10:00:42Z'))
    .expiration(new Date('2026-12-30T10:00:00Z'))
    .result();
  backup.spec.csiSnapshotTimeout = '10m0s';
  backup.spec.itemOperationTimeout = '4h0m0s';
  backup.status.errors = 1;
  backup.status.warnings = 2;
  backup.status.progress = { totalItems: 14, itemsBackedUp: 14 };
  const infos = [
    csiSnapshotVolumeInfo({
      pvcNamespace: 'shop',
      pvcName: 'data',
      pv: { name: 'pvc-1' },
      snapshotHandle: 'bak://pvc-1/backup-a1',
      sizeBytes: 1073741824,
      driver: 'driver.longhorn.io',
      vscName: 'snapcontent-1',
      readyToUse: true,
      completedAt: new Date('2026-11-30T10:00:20Z'),
    }),
    skippedVolumeInfo({ pvcNamespace: 'shop', pvcName: 'pending', reason: 'PVC shop/pending is not bound to a volume (phase Pending), so there is no data to snapshot; skipped' }),
    skippedVolumeInfo({ pvcNamespace: 'shop', pvcName: 'host', pv: { name: 'host-pv' }, reason: 'PVC shop/host is not on a CSI volume; skipped' }),
    failedVolumeInfo({ pvcNamespace: 'shop', pvcName: 'logs', pv: { name: 'pvc-2' }, reason: 'the snapshot of PVC shop/logs was not ready within csiSnapshotTimeout 10m0s' }),
  ];
  const contents = [
    forVolumeSnapshotContent('snapcontent-1').driver('driver.longhorn.io').result() as VolumeSnapshotContent,
  ];
  contents[0]!.spec.volumeSnapshotClassName = 'sim-longhorn-retain';
  return {
    ...backup,
    volumes: volumeViews(infos, contents),
    results: {
      errors: { velero: [], cluster: [], namespaces: { shop: ['the snapshot of PVC shop/logs was not ready within csiSnapshotTimeout 10m0s'] } },
      warnings: {
        velero: [],
        cluster: [],
        namespaces: { shop: ['PVC shop/pending is not bound to a volume (phase Pending), so there is no data to snapshot; skipped', 'PVC shop/host is not on a CSI volume; skipped'] },
      },
    },
    resourceList: { 'v1/PersistentVolumeClaim': ['shop/data', 'shop/host', 'shop/logs', 'shop/pending'], 'v1/ConfigMap': ['shop/settings'] },
  };
}

const GOLDEN = `Name:         shop-1
Namespace:    velero
Labels:       skiff.io/cluster=alpha
              velero.io/storage-location=default
Annotations:  velero.io/csi-volumesnapshot-class_driver.longhorn.io=sim-longhorn-retain

Phase:  PartiallyFailed (run \`skiff backup logs shop-1\` for more information)


Warnings:
  Velero:     <none>
  Cluster:    <none>
  Namespaces:
    shop:  PVC shop/pending is not bound to a volume (phase Pending), so there is no data to snapshot; skipped
           PVC shop/host is not on a CSI volume; skipped

Errors:
  Velero:     <none>
  Cluster:    <none>
  Namespaces:
    shop:  the snapshot of PVC shop/logs was not ready within csiSnapshotTimeout 10m0s

Namespaces:
  Included:  shop
  Excluded:  <none>

Resources:
  Included:        *
  Excluded:        <none>
  Cluster-scoped:  auto

Label selector:  <none>

Or label selector:  <none>

Storage Location:  default

Velero-Native Snapshot PVs:  auto
Snapshot Move Data:          auto
Data Mover:                  velero

TTL:  720h0m0s

CSISnapshotTimeout:    10m0s
ItemOperationTimeout:  4h0m0s

Hooks:  <none>

Backup Format Version:  1.1.0

Started:    2026-11-30 10:00:00 +0000 UTC
Completed:  2026-11-30 10:00:42 +0000 UTC

Expiration:  2026-12-30 10:00:00 +0000 UTC

Total items to be backed up:  14
Items backed up:              14

Resource List:
  v1/ConfigMap:
    - shop/settings
  v1/PersistentVolumeClaim:
    - shop/data
    - shop/host
    - shop/logs
    - shop/pending

Backup Volumes:
  Velero-Native Snapshots: <none included>

  CSI Snapshots:
    shop/data:
      Snapshot:
        Snapshot Content Name: snapcontent-1
        Storage Snapshot ID: bak://pvc-1/backup-a1
        Snapshot Size (bytes): 1073741824
        CSI Driver: driver.longhorn.io
        VolumeSnapshotClass: sim-longhorn-retain
        Result: succeeded

  Pod Volume Backups: <none included>

  Skipped Volumes:
    shop/pending:  PVC shop/pending is not bound to a volume (phase Pending), so there is no data to snapshot; skipped
    shop/host:     PVC shop/host is not on a CSI volume; skipped

  Failed Volumes:
    shop/logs:  the snapshot of PVC shop/logs was not ready within csiSnapshotTimeout 10m0s`;

describe('Function: describeBackupText', () => {
  it("prints Velero's layout with every volume snapshotted, skipped or failed, and with details the resource list", () => {
    expect(describeBackupText(shopBackup(), true)).toBe(GOLDEN);
  });

  it('leaves the resource list out without details', () => {
    const text = describeBackupText(shopBackup(), false);
    expect(text).not.toContain('Resource List:');
    expect(text).toContain('Failed Volumes:\n    shop/logs:');
  });

  it('says why the volumes are not shown when they cannot be', () => {
    const backup: DescribedBackup = { ...shopBackup(), volumes: undefined, volumesNote: '<backup volume info not found>' };
    expect(describeBackupText(backup, false)).toContain('Backup Volumes:\n  <backup volume info not found>');
  });

  it("shows a running backup's stage and elapsed time under its estimated counts", () => {
    const backup = shopBackup();
    backup.status.phase = 'InProgress';
    backup.status.progress = {
      totalItems: 50000,
      itemsBackedUp: 22973,
      stage: 'Resources',
      message: 'writing resources: 22,973 / ~50,000',
      elapsedSeconds: 75,
    } as typeof backup.status.progress;
    const text = describeBackupText(backup, false);
    expect(text).toContain(
      [
        'Estimated total items to be backed up:  50000',
        'Items backed up so far:                 22973',
        'Stage:                                  Resources: writing resources: 22,973 / ~50,000',
        'Elapsed:                                1m15s',
      ].join('\n'),
    );
  });

  it('prints the scoped resource filters when they are used', () => {
    const backup = shopBackup();
    backup.spec.includedClusterScopedResources = ['storageclasses'];
    expect(describeBackupText(backup, false)).toContain(
      [
        'Resources:',
        '  Included cluster-scoped:    storageclasses',
        '  Excluded cluster-scoped:    <none>',
        '  Included namespace-scoped:  *',
        '  Excluded namespace-scoped:  <none>',
      ].join('\n'),
    );
  });
});

describe('Function: describeBackupStructured', () => {
  it("writes Velero's structured description, keys sorted, with the skipped and failed volumes", () => {
    const json = JSON.parse(describeBackupStructured(shopBackup(), true)) as Record<string, any>;
    expect(Object.keys(json)).toEqual(['errors', 'metadata', 'phase', 'spec', 'status', 'warnings']);
    expect(json.warnings.namespace.shop).toHaveLength(2);
    expect(json.status.resourceList['v1/ConfigMap']).toEqual(['shop/settings']);
    expect(json.status.backupVolumes).toEqual({
      nativeSnapshots: '<none included>',
      csiSnapshots: {
        'shop/data': {
          snapshot: {
            csiDriver: 'driver.longhorn.io',
            operationID: '',
            result: 'succeeded',
            snapshotClass: 'sim-longhorn-retain',
            snapshotContentName: 'snapcontent-1',
            'snapshotSize(bytes)': 1073741824,
            storageSnapshotID: 'bak://pvc-1/backup-a1',
          },
        },
      },
      podVolumeBackups: '<none included>',
      skippedVolumes: {
        'shop/pending': { pv: '', reason: expect.stringContaining('not bound') },
        'shop/host': { pv: 'host-pv', reason: expect.stringContaining('not on a CSI volume') },
      },
      failedVolumes: { 'shop/logs': { pv: 'pvc-2', reason: expect.stringContaining('was not ready') } },
    });
  });
});

describe('Function: alignTabs', () => {
  it.each([
    ['one block', 'a:\tx\nlonger:\ty', 'a:       x\nlonger:  y'],
    ['an empty line ends a block', 'a:\tx\n\nlonger:\ty', 'a:  x\n\nlonger:  y'],
    ['a leading tab indents by the padding', 'T:\n\tA:\t1\n\tBB:\t2', 'T:\n  A:   1\n  BB:  2'],
    ['a line without tabs ends a block', 'a:\tx\nplain\nlonger:\ty', 'a:  x\nplain\nlonger:  y'],
  ])('%s', (_, input, expected) => {
    expect(alignTabs(input)).toBe(expected);
  });
});

describe('Function: formatLabelSelector', () => {
  it.each([
    [{}, '<none>'],
    [{ matchLabels: { b: '2', a: '1' } }, 'a=1,b=2'],
    [{ matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['web', 'api'] }] }, 'tier in (api,web)'],
    [{ matchExpressions: [{ key: 'x', operator: 'NotIn' as const, values: ['1'] }, { key: 'e', operator: 'Exists' as const }] }, 'e,x notin (1)'],
    [{ matchExpressions: [{ key: 'gone', operator: 'DoesNotExist' as const }] }, '!gone'],
  ])('%j is %s', (selector, text) => {
    expect(formatLabelSelector(selector)).toBe(text);
  });
});

describe('Function: goTime', () => {
  it("writes Go's time.Time.String() of a UTC time", () => {
    expect(goTime('2026-11-30T10:00:00Z')).toBe('2026-11-30 10:00:00 +0000 UTC');
    expect(goTime(undefined)).toBeUndefined();
  });
});

describe('Function: progressLine', () => {
  const running = (progress: Record<string, unknown>) => {
    const backup = forBackup('velero', 'b1').phase('InProgress').result();
    backup.status.progress = progress as typeof backup.status.progress;
    return backup;
  };

  it.each([
    [
      'snapshots being waited for',
      { totalItems: 0, itemsBackedUp: 0, stage: 'Snapshots', message: 'waiting for 10 VolumeSnapshots: 3 ready', elapsedSeconds: 42 },
      'InProgress [42s] waiting for 10 VolumeSnapshots: 3 ready',
    ],
    [
      'resources, with a bar',
      { totalItems: 4, itemsBackedUp: 2, stage: 'Resources', message: 'writing resources: 2 / ~4', elapsedSeconds: 75 },
      `InProgress [1m15s] writing resources: 2 / ~4 [${'#'.repeat(15)}${'.'.repeat(15)}] 2/4 items`,
    ],
    ['Velero counts alone', { totalItems: 4, itemsBackedUp: 4 }, `InProgress [${'#'.repeat(30)}] 4/4 items`],
  ])('%s', (_, progress, line) => {
    expect(progressLine(running(progress))).toBe(line);
  });
});
