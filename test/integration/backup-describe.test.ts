import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBackupText } from '../../cli/describe-format';
import type { DescribedBackup } from '../../lib/backup/describe';
import type { RunProgress } from '../../lib/backup/progress-view';
import { runBackup } from '../../lib/backup/run-backup';
import { backupServiceDeps, describeBackup } from '../../lib/backup/service';
import type { SkiffConfig } from '../../lib/config';
import type { KubeClient } from '../../lib/kube/client';
import type { KubeObject } from '../../lib/kube/list-all';
import { freshNamespace, uniqueName, waitFor } from '../bed/context';
import { bedConfig, clusterClient, observedDeps, requestBackup, simulatorConfig } from './backup-helpers';

/**
 * What a backup shows of what it protected: a namespace with a bound CSI PVC, one that
 * stays unbound, one on a volume that is not CSI and one whose snapshot the driver
 * refuses. The backup runs with slowed snapshots, and is read meanwhile as GET
 * /backups/{name} reads it (the same service call), then described when finished.
 */

const SNAPSHOT_DELAY_MS = 3000;

let config: SkiffConfig;
let client: KubeClient;
let namespace: string;
let backupName: string;
let duringSnapshots: RunProgress[] = [];
let described: DescribedBackup;

async function createPvc(name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): Promise<void> {
  await client.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
  });
}

beforeAll(async () => {
  ({ config } = await bedConfig('backup-describe'));
  client = await clusterClient(config);
  namespace = await freshNamespace('alpha', 'describe');
  const hostPv = uniqueName('host-pv');
  await client.create('/api/v1/persistentvolumes', {
    metadata: { name: hostPv },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: '',
      claimRef: { namespace, name: 'host' },
      hostPath: { path: '/tmp/skiff-describe' },
    },
  });
  const snapshotClass = { 'velero.io/csi-volumesnapshot-class': 'sim-longhorn-retain' };
  await createPvc('data', { storageClassName: 'sim-longhorn' }, snapshotClass);
  await createPvc('doomed', { storageClassName: 'sim-longhorn' }, snapshotClass);
  await createPvc('pending', { storageClassName: 'no-such-class' });
  await createPvc('host', { storageClassName: '', volumeName: hostPv });
  await waitFor(
    async () => {
      const pvcs = (await client.get<{ items: KubeObject[] }>(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`)).items;
      const bound = pvcs.filter((pvc) => (pvc.status as { phase?: string } | undefined)?.phase === 'Bound');
      return bound.length === 3 ? true : undefined;
    },
    { what: `data, doomed and host bound in ${namespace}`, timeoutMs: 60_000 },
  );

  backupName = await requestBackup(config, { cluster: 'alpha', includedNamespaces: [namespace], ttl: '72h', csiSnapshotTimeout: '8s' });
  const observed = await observedDeps(config, backupName, () => 600_000);
  const deps = backupServiceDeps(config);
  const previous = await simulatorConfig({ snapshotDelayMs: SNAPSHOT_DELAY_MS, failSnapshotsFor: `^${namespace}/doomed$` });
  let running = true;
  const watcher = (async () => {
    while (running) {
      const progress = (await describeBackup(deps, backupName)).status.progress as RunProgress | undefined;
      if (progress?.stage === 'Snapshots') duringSnapshots.push(progress);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  try {
    expect(await runBackup(observed.deps, backupName)).toEqual({ state: 'completed', phase: 'PartiallyFailed' });
  } finally {
    running = false;
    await watcher;
    await simulatorConfig({ snapshotDelayMs: previous.snapshotDelayMs ?? 0, failSnapshotsFor: previous.failSnapshotsFor ?? null });
  }
  described = await describeBackup(deps, backupName, { details: true });
}, 180_000);

afterAll(() => client?.close());

describe('GET /backups/{name} and skiff backup describe (bed)', () => {
  it('names the stage while the snapshots are cut, with the time the run has taken', () => {
    expect(duringSnapshots.length).toBeGreaterThan(0);
    expect(duringSnapshots.map((p) => p.message)).toContainEqual(expect.stringMatching(/^waiting for 2 VolumeSnapshots: [01] ready/));
    const last = duringSnapshots.at(-1)!;
    expect(last.elapsedSeconds).toBeGreaterThanOrEqual(1);
    expect(typeof last.totalItems).toBe('number');
  });

  it('shows every PVC in scope with its outcome: snapshotted with class and handle, skipped or failed with the reason', () => {
    const byPvc = Object.fromEntries((described.volumes ?? []).map((v) => [v.pvc, v]));
    expect(Object.keys(byPvc).sort()).toEqual(['data', 'doomed', 'host', 'pending']);
    expect(byPvc.data).toMatchObject({
      namespace,
      outcome: 'snapshotted',
      method: 'CSISnapshot',
      snapshotClass: 'sim-longhorn-retain',
      driver: 'driver.longhorn.io',
      snapshotHandle: expect.stringMatching(/^bak:\/\//),
    });
    expect(byPvc.pending).toMatchObject({ outcome: 'skipped', reason: expect.stringContaining('is not bound to a volume') });
    expect(byPvc.pending!.pv).toBeUndefined();
    expect(byPvc.host).toMatchObject({ outcome: 'skipped', pv: expect.stringMatching(/^host-pv/), reason: expect.stringContaining(`PVC ${namespace}/host`) });
    expect(byPvc.doomed).toMatchObject({ outcome: 'failed', reason: expect.stringContaining(`PVC ${namespace}/doomed`) });
    expect(byPvc.doomed!.snapshotHandle).toBeUndefined();
  });

  it('prints the warning and error texts, the resource list and the Backup Volumes section', () => {
    const text = describeBackupText(described, true);
    expect(text).toMatch(/^Phase: {2}PartiallyFailed/m);
    expect(text).toContain('\nWarnings:\n');
    expect(text).toContain(`PVC ${namespace}/pending is not bound to a volume`);
    expect(text).toContain('\nErrors:\n');
    expect(text).toContain('\nResource List:\n  ');
    const pvcs = ['data', 'doomed', 'host', 'pending'].map((pvc) => `    - ${namespace}/${pvc}\n`).join('');
    expect(text).toContain(`  v1/PersistentVolumeClaim:\n${pvcs}`);
    expect(text).toMatch(new RegExp(`CSI Snapshots:\\n {4}${namespace}/data:\\n[^]*VolumeSnapshotClass: sim-longhorn-retain`));
    expect(text).toMatch(new RegExp(`Skipped Volumes:\\n {4}${namespace}/host: +PVC .*\\n {4}${namespace}/pending: +PVC`));
    expect(text).toMatch(new RegExp(`Failed Volumes:\\n {4}${namespace}/doomed: +`));
    expect(described.results?.warnings.namespaces[namespace]).toHaveLength(2);
  });
});
