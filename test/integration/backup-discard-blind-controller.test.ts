import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { backupServiceDeps, createBackup } from '../../lib/backup/service';
import type { SkiffConfig } from '../../lib/config';
import { systemClock } from '../../lib/core/clock';
import { volumeSnapshotContentsPath, type VolumeSnapshotContent } from '../../lib/csi/snapshot-api';
import { expiryServiceDeps, runExpiry } from '../../lib/expiry/service';
import type { KubeClient } from '../../lib/kube/client';
import { listAll } from '../../lib/kube/list-all';
import { BACKUP_NAME_LABEL } from '../../lib/velero/labels';
import { bedState, clusterState, ledger, waitFor } from '../bed/context';
import { findBinaries } from '../bed/paths';
import { startApiServerProxy, type FaultProxy } from '../support/fault-proxy';
import { bedConfig, clusterClient, namespaceWithBoundPvc, objectKeys, observedDeps } from './backup-helpers';

/**
 * A snapshot-controller that never deletes a failed snapshot's content. Chaos seed
 * 20261207 (lifecycle 859, seed 3174633232) met it after an API server restart: the
 * answer to the controller's create of a VolumeSnapshotContent was lost, its retry got
 * AlreadyExists, and external-snapshotter v8.7.0 then caches its own copy of the
 * content, without a resourceVersion (pkg/common-controller/snapshot_controller.go,
 * createSnapshotContent), and refuses every later version of it. The VolumeSnapshot
 * never became ready, the backup let it go (content to Delete, VolumeSnapshot deleted),
 * and the controller never deleted the content: its storage snapshot was left to no
 * backup, for good.
 *
 * Here the same happens on purpose. Alpha's own snapshot-controller is paused; one
 * started for the test talks to the API server through a fault proxy, which keeps its
 * content watch from seeing anything for a while and loses the answer to its create.
 * The backup must leave the content labelled for itself, and its expiry must free the
 * storage snapshot.
 */

const CLASS = { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-retain' };
const CONTENTS = '/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents';

let config: SkiffConfig;
let bucket: string;
let alpha: KubeClient;
let proxy: FaultProxy;
let pausedPid: number;
let controller: ChildProcess | undefined;
let controllerLog = '';

/** The pid of the bed's snapshot-controller of a cluster, found by the kubeconfig the bed gave it. */
function bedSnapshotControllerPid(cluster: string): number {
  const flag = `--kubeconfig=${join(bedState().workDir, cluster, 'snapshot-controller.kubeconfig')}`;
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(flag)) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  throw new Error(`no process of the bed runs with ${flag}`);
}

/** A kubeconfig reaching the cluster through the proxy as the admin (a token: the proxy ends TLS, so no client certificate passes it). */
function proxiedKubeconfig(cluster: string, server: string): string {
  const state = clusterState(cluster);
  const path = join(mkdtempSync(join(tmpdir(), 'skiff-blind-')), 'kubeconfig');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server, 'certificate-authority-data': state.caData } }],
    users: [{ name: 'admin', user: { token: state.adminToken } }],
    contexts: [{ name: cluster, context: { cluster, user: 'admin' } }],
    'current-context': cluster,
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('discard-blind'));
  alpha = await clusterClient(config, 'alpha');
  proxy = await startApiServerProxy(bedState().workDir, clusterState('alpha'));
  pausedPid = bedSnapshotControllerPid('alpha');
  process.kill(pausedPid, 'SIGSTOP');
  controller = spawn((await findBinaries()).snapshotController, [
    `--kubeconfig=${proxiedKubeconfig('alpha', proxy.url)}`,
    '--leader-election=false',
    '--feature-gates=CSIVolumeGroupSnapshot=false',
    // Level 4 logs "controller initialized" once its caches are synced: blinding its
    // content watch before then would hold its start, not hide a content.
    '--v=4',
  ]);
  controller.stdout!.on('data', (chunk: Buffer) => (controllerLog += chunk.toString()));
  controller.stderr!.on('data', (chunk: Buffer) => (controllerLog += chunk.toString()));
  await waitFor(async () => controllerLog.includes('controller initialized'), { what: 'the proxied snapshot-controller started', timeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  controller?.kill('SIGKILL');
  if (pausedPid) process.kill(pausedPid, 'SIGCONT');
  await proxy?.close();
  alpha?.close();
});

it('leaves a failed snapshot\'s content the controller never deletes to its backup, whose expiry frees the storage snapshot', async () => {
  const namespace = await namespaceWithBoundPvc(alpha, 'alpha', 'blind', 'sim-longhorn');
  const name = (await createBackup(backupServiceDeps(config), { cluster: 'alpha', includedNamespaces: [namespace], ttl: '1s', csiSnapshotTimeout: '15s', annotations: CLASS })).name;

  // The controller's content watch sees nothing for 30 s, and its first create loses its answer.
  const isContentRead = (method: string, path: string) => method === 'GET' && path.startsWith(CONTENTS);
  proxy.inject({ kind: 'delay', delayMs: 30_000 }, 30_000, isContentRead);
  let lost = false;
  proxy.add({ kind: 'lose-answer' }, 60_000, (method, path) => {
    if (lost || method !== 'POST' || !path.startsWith(CONTENTS)) return false;
    return (lost = true);
  });
  expect(proxy.cut(isContentRead)).toBeGreaterThan(0);

  const { deps } = await observedDeps(config, name, () => 600_000);
  expect(await runBackup(deps, name)).toEqual({ state: 'completed', phase: 'PartiallyFailed' });
  expect(lost).toBe(true);

  // The controller's cache is broken for good; the content outlives its VolumeSnapshot.
  await waitFor(async () => controllerLog.includes('error parsing old ResourceVersion'), { what: 'the controller to refuse the content', timeoutMs: 60_000 });
  const left = (await listAll<VolumeSnapshotContent>(alpha, volumeSnapshotContentsPath())).filter((c) => c.spec.volumeSnapshotRef?.namespace === namespace);
  expect(left.map((c) => [c.spec.deletionPolicy, c.metadata.labels?.[BACKUP_NAME_LABEL]])).toEqual([['Delete', name]]);
  const handle = left[0]!.status!.snapshotHandle!;
  expect((await ledger()).snapshots.filter((s) => s.handle === handle).map((s) => s.deleted === true)).toEqual([false]);

  const clock = { now: () => new Date(Date.now() + 60_000), sleep: systemClock.sleep };
  let deleted: string[] = [];
  for (let run = 0; run < 3 && !deleted.includes(name); run += 1) {
    deleted = (await runExpiry({ ...expiryServiceDeps(config), clock, waitTimeoutMs: 60_000 }, { location: 'default' })).deleted;
  }
  expect(deleted).toEqual([name]);
  expect((await ledger()).snapshots.filter((s) => s.handle === handle).map((s) => s.deleted)).toEqual([true]);
  expect((await listAll<VolumeSnapshotContent>(alpha, volumeSnapshotContentsPath())).filter((c) => c.spec.volumeSnapshotRef?.namespace === namespace)).toEqual([]);
  expect(await objectKeys(bucket, `backups/${name}/`)).toEqual([]);
}, 240_000);
