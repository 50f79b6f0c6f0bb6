import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startBed } from '../test/bed/bed';
import { startOffline } from '../test/bed/offline';
import { skiffConfigForBed } from '../test/bed/skiff-config';
import { addContext, contextFilePath } from '../cli/client/contexts';

/**
 * `npm start`: Skiff's main job on embedded defaults. Starts the local stack (two
 * clusters, snapshot controller, storage simulator, MinIO), serves the functions with
 * serverless offline, and, over HTTP as a user would: backs up a demo workload in
 * cluster alpha, rediscovers the backup into cluster beta, restores it there, and shows
 * what expiry would do with it (a dry run).
 */
const DEMO_NAMESPACE = 'demo-shop';
const exitAfterDemo = process.env.SKIFF_EXIT_AFTER_DEMO === '1';

/**
 * Writes the context "local" (this stack's API and token, made current) into the CLI's
 * contexts file, and prints how to reach the stack with curl and with the CLI.
 */
function showClient(server: string, token: string, tokenFile: string, backup: string): void {
  addContext({ name: 'local', server, token });
  console.log(
    [
      '',
      `Context "local" written to ${contextFilePath()} (made current): the CLI now talks to this stack.`,
      'Try:',
      `  curl -H "Authorization: Bearer $(cat ${tokenFile})" ${server}/backups`,
      '  npx skiff backup get',
      `  npx skiff backup describe ${backup}`,
      `  npx skiff backup download ${backup} -o ${backup}.tar.gz`,
      '  npx skiff backup create --cluster alpha --include-namespaces demo-shop --wait',
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  const bed = await startBed();
  const stops: (() => Promise<void>)[] = [() => bed.stop()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  process.on('SIGINT', () => void stopAll().then(() => process.exit(0)));
  process.on('SIGTERM', () => void stopAll().then(() => process.exit(0)));
  try {
    const { state } = bed;
    const bucket = 'skiff-demo';
    const s3 = new S3Client({
      endpoint: state.minio.endpoint,
      region: state.minio.region,
      forcePathStyle: true,
      credentials: { accessKeyId: state.minio.accessKey, secretAccessKey: state.minio.secretKey },
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const apiToken = randomBytes(24).toString('hex');
    const tokenFile = join(state.workDir, 'api-token');
    writeFileSync(tokenFile, apiToken, { mode: 0o600 });

    console.log('starting serverless offline...');
    const offline = await startOffline({
      config: skiffConfigForBed(state, { bucket, apiToken }),
      logDir: join(state.workDir, 'logs'),
    });
    stops.push(() => offline.stop());

    await createDemoWorkload(state.clusters.alpha!.adminKubeconfigPath);
    const name = `demo-${Date.now()}`;
    const headers = { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' };
    const created = await fetch(`${offline.httpUrl}/backups`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ cluster: 'alpha', name, includedNamespaces: [DEMO_NAMESPACE], ttl: '24h' }),
    });
    console.log(`POST /backups -> ${created.status} ${await created.text()}`);

    const backup = await waitForBackup(`${offline.httpUrl}/backups/${name}`, headers);
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `backups/${name}/` }));
    console.log(
      [
        '',
        `backup ${name}: ${backup.status.phase}`,
        `  items backed up   ${backup.status.progress?.itemsBackedUp ?? 0}`,
        `  CSI snapshots     ${backup.status.csiVolumeSnapshotsCompleted ?? 0}/${backup.status.csiVolumeSnapshotsAttempted ?? 0}`,
        `  expires           ${backup.status.expiration}`,
        `  objects in s3://${bucket}/backups/${name}/:`,
        ...(objects.Contents ?? []).map((o) => `    ${o.Key!.split('/').pop()!.padEnd(48)} ${o.Size} bytes`),
        '',
        `API: ${offline.httpUrl} (bearer token in ${tokenFile}); functions log: ${offline.logFile}`,
      ].join('\n'),
    );
    const api = (path: string, init: RequestInit = {}) => fetch(`${offline.httpUrl}${path}`, { ...init, headers });
    await showSync(api, name);
    const restored = await showRestore(api, name);
    await showExpiryDryRun(api, name);
    showClient(offline.httpUrl, apiToken, tokenFile, name);
    if (exitAfterDemo) {
      await stopAll();
      process.exit(backup.status.phase === 'Completed' && restored ? 0 : 1);
    }
    console.log('serving until Ctrl-C');
    setInterval(() => {}, 1 << 30);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    await stopAll();
    process.exit(1);
  }
}

async function createDemoWorkload(kubeconfigPath: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const namespace = DEMO_NAMESPACE;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'shop-settings' }, data: { currency: 'EUR' } } });
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'shop-db' }, stringData: { password: randomBytes(8).toString('hex') } } });
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'shop' },
      spec: {
        selector: { matchLabels: { app: 'shop' } },
        template: { metadata: { labels: { app: 'shop' } }, spec: { containers: [{ name: 'shop', image: 'nginx' }] } },
      },
    },
  });
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name: 'shop-data', annotations: { 'velero.io/csi-volumesnapshot-class': 'sim-longhorn-retain' } },
      spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    },
  });
  for (let i = 0; i < 120; i++) {
    const pvc = await core.readNamespacedPersistentVolumeClaim({ namespace, name: 'shop-data' });
    if (pvc.status?.phase === 'Bound') return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the demo PVC was not bound within 60 s');
}

type Api = (path: string, init?: RequestInit) => Promise<Response>;

/** Rediscovery into cluster beta, over HTTP: the backup's snapshot becomes usable there. */
async function showSync(api: Api, backup: string): Promise<void> {
  const started = await api('/sync', { method: 'POST', body: JSON.stringify({ cluster: 'beta' }) });
  console.log(`\nPOST /sync {"cluster":"beta"} -> ${started.status}`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const report = (await (await api('/sync/report')).json()) as SyncReportView;
    const beta = report.locations[0]?.clusters?.find((c) => c.cluster === 'beta');
    if (beta && beta.ready + (beta.notReady?.length ?? 0) >= (beta.created?.length ?? 0) && (beta.created?.length ?? 0) + (beta.alreadyThere?.length ?? 0) > 0) {
      const made = beta.planned.filter((p) => p.backup === backup);
      console.log(
        [
          `rediscovery into beta: ${beta.created.length} VolumeSnapshotContent(s) created, ${beta.ready} ready, no snapshot cut`,
          ...made.map((p) => `  ${p.content}  <- ${p.snapshotHandle}`),
        ].join('\n'),
      );
      return;
    }
    if (Date.now() > deadline) throw new Error('rediscovery into beta did not report within 2 minutes');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** A restore of the backup into cluster beta, PVC from the CSI snapshot included. */
async function showRestore(api: Api, backup: string): Promise<boolean> {
  const created = await api('/restores', { method: 'POST', body: JSON.stringify({ backupName: backup, cluster: 'beta' }) });
  const { name } = (await created.json()) as { name: string };
  console.log(`\nPOST /restores {"backupName":"${backup}","cluster":"beta"} -> ${created.status} (${name})`);
  const deadline = Date.now() + 300_000;
  for (;;) {
    const restore = (await (await api(`/restores/${name}`)).json()) as RestoreView;
    const phase = restore.status?.phase;
    if (phase && ['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation'].includes(phase)) {
      console.log(
        [
          `restore ${name}: ${phase}`,
          `  items restored    ${restore.status.progress?.itemsRestored ?? 0}/${restore.status.progress?.totalItems ?? 0}`,
          `  warnings/errors   ${restore.status.warnings ?? 0}/${restore.status.errors ?? 0}`,
        ].join('\n'),
      );
      return phase === 'Completed';
    }
    if (Date.now() > deadline) throw new Error(`restore still ${phase} after 5 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** What expiry would do with the backup: the plan of a dry run, nothing changed. */
async function showExpiryDryRun(api: Api, backup: string): Promise<void> {
  const answer = await api(`/backups/${backup}?dryRun=true`, { method: 'DELETE' });
  // The answer is the plan itself: every action in order, and each backup's verdict.
  const plan = (await answer.json()) as {
    actions?: { kind: string; cluster?: string; object: string }[];
    backups?: { backup: string; waitingOn?: string[] }[];
  };
  const actions = plan.actions ?? [];
  const waitingOn = plan.backups?.find((b) => b.backup === backup)?.waitingOn ?? [];
  console.log(
    [
      `\nDELETE /backups/${backup}?dryRun=true -> ${answer.status}: ${actions.length} action(s), nothing changed`,
      ...actions.map((a) => `  ${a.kind.padEnd(24)} ${(a.cluster ?? '-').padEnd(6)} ${a.object}`),
      // The volume just restored in beta was made from the backup's snapshot: expiry keeps it while it lives.
      ...waitingOn.map((w) => `  waits: ${w}`),
    ].join('\n'),
  );
}

interface SyncReportView {
  locations: {
    clusters?: {
      cluster: string;
      created: string[];
      alreadyThere?: string[];
      ready: number;
      notReady?: unknown[];
      planned: { backup: string; content: string; snapshotHandle: string }[];
    }[];
  }[];
}

interface RestoreView {
  status: { phase?: string; warnings?: number; errors?: number; progress?: { totalItems?: number; itemsRestored?: number } };
}

interface BackupView {
  status: {
    phase?: string;
    expiration?: string;
    failureReason?: string;
    progress?: { itemsBackedUp?: number };
    csiVolumeSnapshotsAttempted?: number;
    csiVolumeSnapshotsCompleted?: number;
  };
}

async function waitForBackup(url: string, headers: Record<string, string>): Promise<BackupView> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const answer = await fetch(url, { headers });
    const backup = (await answer.json()) as BackupView;
    const phase = backup.status?.phase;
    if (phase && ['Completed', 'PartiallyFailed', 'Failed'].includes(phase)) return backup;
    if (Date.now() > deadline) throw new Error(`backup still ${phase} after 5 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

void main();
