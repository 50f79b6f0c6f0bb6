import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startBed } from '../test/bed/bed';
import { offlineLambdaClient, startOffline, type OfflineStack } from '../test/bed/offline';
import { skiffConfigForBed } from '../test/bed/skiff-config';
import { addContext, contextFilePath } from '../cli/client/contexts';

/**
 * `npm start`: Skiff's main job on embedded defaults. Starts the local stack (two
 * clusters, snapshot controller, storage simulator, MinIO), serves the functions with
 * serverless offline, and, over HTTP as a user would: backs up a demo workload in
 * cluster alpha, rediscovers the backup into cluster beta, restores it there, shows
 * what expiry would do with it (a dry run) and the demo's schedule; then, while it
 * serves, runs the scheduler every minute as the deployed cron does.
 */
const DEMO_NAMESPACE = 'demo-shop';
/**
 * The demo's schedule: every quarter hour, kept an hour. The scheduler ticks only once
 * the demo's steps are done, so their output never depends on the time of day.
 */
const DEMO_SCHEDULE = { name: 'demo-shop', cluster: 'alpha', schedule: '*/15 * * * *', ttl: '1h', template: { includedNamespaces: [DEMO_NAMESPACE] } };
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

    const config = { ...skiffConfigForBed(state, { bucket, apiToken }), schedules: [DEMO_SCHEDULE] };
    // For the command line (SKIFF_CONFIG_FILE); it holds the local stack's keys, so only its owner reads it.
    const configFile = join(state.workDir, 'skiff-config.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });

    console.log('starting serverless offline...');
    const offline = await startOffline({ config, logDir: join(state.workDir, 'logs') });
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
        ...(backup.volumes ?? []).map(
          (v) => `  volume ${`${v.namespace}/${v.pvc}`.padEnd(26)} ${v.outcome}${v.snapshotHandle ? ` ${v.snapshotHandle}` : ''}${v.reason ? `: ${v.reason}` : ''}`,
        ),
        `  expires           ${backup.status.expiration}`,
        `  objects in s3://${bucket}/backups/${name}/:`,
        ...(objects.Contents ?? []).map((o) => `    ${o.Key!.split('/').pop()!.padEnd(48)} ${o.Size} bytes`),
        '',
        `API: ${offline.httpUrl} (bearer token in ${tokenFile}); functions log: ${offline.logFile}`,
      ].join('\n'),
    );
    const api = (path: string, init: RequestInit = {}) => fetch(`${offline.httpUrl}${path}`, { ...init, headers });
    await showStatus(api);
    await showSync(api, name);
    const restored = await showRestore(api, name);
    await showExpiryDryRun(api, name);
    await showSchedules(api, { httpUrl: offline.httpUrl, tokenFile });
    showClient(offline.httpUrl, apiToken, tokenFile, name);
    if (exitAfterDemo) {
      await stopAll();
      process.exit(backup.status.phase === 'Completed' && restored ? 0 : 1);
    }
    stops.push(runSchedulerEveryMinute(offline));
    console.log('serving until Ctrl-C; the scheduler runs every minute and says here when it starts a backup');
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
/** GET /status: each cluster and storage location checked live, as an operator sees them. */
async function showStatus(api: Api): Promise<void> {
  const answer = await api('/status');
  const status = (await answer.json()) as {
    status?: string;
    clusters?: { name: string; phase: string; kubernetesVersion?: string; message?: string }[];
    storageLocations?: { name: string; phase: string; conditionalWrites?: string; message?: string }[];
  };
  console.log(
    [
      `\nGET /status -> ${answer.status}: ${status.status}`,
      ...(status.clusters ?? []).map((c) => `  cluster ${c.name.padEnd(10)} ${c.phase.padEnd(12)} ${c.kubernetesVersion ?? c.message ?? ''}`),
      ...(status.storageLocations ?? []).map(
        (l) => `  location ${l.name.padEnd(9)} ${l.phase.padEnd(12)} ${l.conditionalWrites ? `conditional writes ${l.conditionalWrites}` : (l.message ?? '')}`,
      ),
    ].join('\n'),
  );
}

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

interface ScheduleListView {
  items: { metadata: { name: string }; spec: { schedule: string; timeZone: string; paused: boolean }; status: { lastBackupName?: string; lastBackupPhase?: string; nextRun?: string } }[];
}

/** The demo's schedule over HTTP, and how to look at it again. */
async function showSchedules(api: Api, where: { httpUrl: string; tokenFile: string }): Promise<void> {
  const answer = await api('/schedules');
  const { items } = (await answer.json()) as ScheduleListView;
  console.log(
    [
      `\nGET /schedules -> ${answer.status}`,
      ...items.map(
        (s) =>
          `  ${s.metadata.name}  "${s.spec.schedule}" (${s.spec.timeZone})${s.spec.paused ? ' paused' : ''}  ` +
          `last backup: ${s.status.lastBackupName ? `${s.status.lastBackupName} ${s.status.lastBackupPhase}` : '<never>'}  next run: ${s.status.nextRun ?? '-'}`,
      ),
      'try:',
      `  curl -H "Authorization: Bearer $(cat ${where.tokenFile})" ${where.httpUrl}/schedules`,
      `  npx skiff schedule get    (or: schedule describe ${items[0]?.metadata.name ?? 'NAME'}; the context written below reaches this stack)`,
    ].join('\n'),
  );
}

/**
 * Invokes the scheduler through the local Lambda API at the start of every minute, as
 * the deployed `rate(1 minute)` event does; a tick still running when the next is due is
 * not doubled. Returns what stops it.
 */
function runSchedulerEveryMinute(offline: OfflineStack): () => Promise<void> {
  const lambda = offlineLambdaClient(offline);
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const answer = await lambda.send(new InvokeCommand({ FunctionName: offline.functionName('scheduler'), Payload: Buffer.from('{}') }));
      const report = JSON.parse(Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8') || '{}') as { created?: string[]; failed?: { name?: string; error: string }[] };
      for (const name of report.created ?? []) console.log(`scheduler: started backup ${name} (GET /backups/${name})`);
      for (const f of report.failed ?? []) console.log(`scheduler: ${f.name ?? 'a schedule'} could not be started: ${f.error}`);
      if (answer.FunctionError) console.log(`scheduler: the tick failed; see ${offline.logFile}`);
    } catch (error) {
      console.log(`scheduler: could not be invoked (${error instanceof Error ? error.message : error})`);
    } finally {
      busy = false;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  // A few seconds past the minute, like the deployed cron.
  const first = setTimeout(() => {
    void tick();
    timer = setInterval(() => void tick(), 60_000);
  }, 60_000 - (Date.now() % 60_000) + 2_000);
  return async () => {
    clearTimeout(first);
    if (timer) clearInterval(timer);
    lambda.destroy();
  };
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
  /** GET /backups/{name}'s Backup Volumes: each PVC's outcome. */
  volumes?: { namespace: string; pvc: string; outcome: string; snapshotHandle?: string; reason?: string }[];
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
