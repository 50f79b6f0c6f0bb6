import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BackupProgressRecord } from '../../lib/backup/progress-record';
import { runBackup } from '../../lib/backup/run-backup';
import { backupServiceDeps, getBackup, getBackupLog } from '../../lib/backup/service';
import type { SkiffConfig } from '../../lib/config';
import { volumeSnapshotsPath, type VolumeSnapshot } from '../../lib/csi/snapshot-api';
import type { KubeClient } from '../../lib/kube/client';
import { listAll, type KubeObject } from '../../lib/kube/list-all';
import { storeResolver } from '../../lib/store/resolver';
import { backupLabelSelector } from '../../lib/velero/labels';
import { ledger } from '../bed/context';
import { bedConfig, clusterClient, namespaceWithBoundPvc, observedDeps, requestBackup, simulatorConfig } from './backup-helpers';

/**
 * A snapshot that takes longer than the function has left. The invocation must stop
 * before its time limit with the VolumeSnapshot still being cut, and the next one take
 * it over: the backup completes with one storage snapshot of the volume, not two.
 * Found by chaos seed 20261207 (lifecycles 808, 810, 811): after an API server restart
 * the snapshot-controller saw nothing for 75 s, and three backup invocations waited on
 * their snapshots until they were killed a minute past their time limit.
 */

const SNAPSHOT_DELAY_MS = 8_000;
const BUDGET_MS = 4_000;

/** The bed's Longhorn-like driver has two classes: the backup names one, as Velero's annotation does. */
const CLASS = { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-delete' };

let config: SkiffConfig;
let client: KubeClient;
let namespace: string;

beforeAll(async () => {
  ({ config } = await bedConfig('backup-handover'));
  client = await clusterClient(config);
  namespace = await namespaceWithBoundPvc(client, 'alpha', 'handover', 'sim-longhorn');
}, 90_000);

afterAll(() => client?.close());

it('stops before its time limit while a snapshot is still being cut, and the next invocation completes the backup with that one snapshot', async () => {
  const name = await requestBackup(config, { cluster: 'alpha', includedNamespaces: [namespace], ttl: '24h', annotations: CLASS });
  const store = storeResolver(config)('default');
  const previous = await simulatorConfig({ snapshotDelayMs: SNAPSHOT_DELAY_MS });
  let takenOver: string | undefined;
  try {
    const started = Date.now();
    const first = await observedDeps(config, name, () => BUDGET_MS - (Date.now() - started), { safetyMarginMs: BUDGET_MS / 2 });
    expect(await runBackup(first.deps, name)).toEqual({ state: 'paused' });
    for (const c of first.clients) c.close();

    // Left for the next invocation: the stage, no lease, and the snapshot still being cut.
    const record = (await store.getProgress(name))?.record as BackupProgressRecord;
    expect(record.stage).toBe('Snapshots');
    expect(record.lease).toBeUndefined();
    const left = await listAll<VolumeSnapshot>(client, volumeSnapshotsPath(namespace), { labelSelector: backupLabelSelector(name) });
    expect(left).toHaveLength(1);
    expect(left[0]!.status?.readyToUse).not.toBe(true);
    takenOver = left[0]!.metadata.uid;

    const second = await observedDeps(config, name, () => 600_000);
    expect(await runBackup(second.deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
    for (const c of second.clients) c.close();
  } finally {
    await simulatorConfig({ snapshotDelayMs: previous.snapshotDelayMs ?? 0 });
  }

  const backup = await getBackup(backupServiceDeps(config), name);
  expect(backup.status).toMatchObject({ phase: 'Completed', csiVolumeSnapshotsAttempted: 1, csiVolumeSnapshotsCompleted: 1 });
  const snapshots = await listAll<VolumeSnapshot>(client, volumeSnapshotsPath(namespace), { labelSelector: backupLabelSelector(name) });
  expect(snapshots.map((vs) => vs.metadata.uid)).toEqual([takenOver]);
  const pv = (await client.get<KubeObject & { spec: { volumeName: string } }>(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/data`)).spec.volumeName;
  const state = await ledger();
  const volume = state.volumes.find((v) => v.pvName === pv)!;
  expect(state.snapshots.filter((s) => s.sourceVolume === volume.handle)).toHaveLength(1);
  expect(await getBackupLog(backupServiceDeps(config), name)).toContain('the next invocation takes them over');
}, 120_000);
