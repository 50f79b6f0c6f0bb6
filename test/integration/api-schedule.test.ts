import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../lib/config';
import { createBackup, listBackups } from '../../lib/backup/service';
import { getSchedule } from '../../lib/backup/schedules';
import { backupServiceDeps } from '../../lib/backup/service';
import { dispatchSchedules, type DispatchReport, type ScheduleView } from '../../lib/schedule';
import { defaultBackupName } from '../../lib/velero/names';
import { bedState, freshBucket, freshNamespace, waitFor } from '../bed/context';
import { offlineLambdaClient, startOffline, type OfflineStack } from '../bed/offline';
import { skiffConfigForBed } from '../bed/skiff-config';

/**
 * A schedule slot fired more than once makes exactly one backup: once through
 * dispatchSchedules with the real createBackup against MinIO, once through the
 * scheduler function served by serverless offline (its minute tick and direct
 * invocations through the local Lambda API).
 */

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const run = promisify(execFile);

/** An instant as Kubernetes writes times: whole seconds, no milliseconds. */
const k8sTime = (date: Date) => date.toISOString().replace('.000Z', 'Z');
const SCHEDULE_LABEL = 'velero.io/schedule-name';

function floorToMinute(date: Date): Date {
  return new Date(Math.floor(date.getTime() / MINUTE_MS) * MINUTE_MS);
}

/** A daily cron (UTC) that fires exactly at `slot`. */
function dailyAt(slot: Date): string {
  return `${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *`;
}

describe('dispatchSchedules with the real createBackup', () => {
  it('makes one backup per slot, however often and however concurrently the slot fires', async () => {
    // Prepare
    const bucket = await freshBucket('schedule-lib');
    const namespace = await freshNamespace('alpha', 'sched');
    const slot = new Date('2026-03-04T05:06:00Z');
    const config = validateConfig(
      {
        ...skiffConfigForBed(bedState(), { bucket, apiToken: 't' }),
        schedules: [
          {
            name: 'lib-nightly',
            cluster: 'alpha',
            schedule: dailyAt(slot),
            template: { includedNamespaces: [namespace], metadata: { labels: { team: 'shop' } } },
            ttl: '48h',
          },
        ],
      },
      'test',
    );
    const deps = backupServiceDeps(config);
    const started: string[] = [];
    const dispatchDeps = {
      schedules: config.schedules,
      createBackup: (request: unknown, options: Parameters<typeof createBackup>[2]) => createBackup(deps, request, options),
      startRun: async (name: string) => void started.push(name),
    };
    const expected = defaultBackupName('lib-nightly', slot);
    expect(expected).toBe('lib-nightly-20260304050600');
    const tick = new Date(slot.getTime() + 5_000);

    // Act: the same tick twice at once, again afterwards, and the next minute's tick.
    const concurrent = await Promise.all([dispatchSchedules(dispatchDeps, tick), dispatchSchedules(dispatchDeps, tick)]);
    const again = await dispatchSchedules(dispatchDeps, tick);
    const nextMinute = await dispatchSchedules(dispatchDeps, new Date(tick.getTime() + MINUTE_MS));

    // Assess
    const reports: DispatchReport[] = [...concurrent, again, nextMinute];
    expect(reports.flatMap((r) => r.failed)).toEqual([]);
    expect(reports.flatMap((r) => r.created)).toEqual([expected]);
    expect(reports.flatMap((r) => r.skipped)).toEqual([expected, expected, expected]);
    expect(again.skipped).toEqual([expected]);
    expect(nextMinute.skipped).toEqual([expected]);
    expect(started).toEqual([expected]);

    const listed = await listBackups(deps, { schedule: 'lib-nightly' });
    expect(listed.unreadable).toEqual([]);
    expect(listed.items.map((b) => b.metadata.name)).toEqual([expected]);
    const backup = listed.items[0]!;
    expect(backup.metadata.labels).toMatchObject({
      [SCHEDULE_LABEL]: 'lib-nightly',
      team: 'shop',
      'skiff.io/cluster': 'alpha',
    });
    expect(backup.spec).toMatchObject({ includedNamespaces: [namespace], ttl: '48h0m0s' });
    expect(backup.status.phase).toBe('New');

    // The schedule as GET /schedules/{name} shows it, on the same clock as the ticks.
    const view = await getSchedule({ ...deps, now: () => tick }, 'lib-nightly');
    expect(view.status).toEqual({
      phase: 'Enabled',
      lastBackup: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      lastBackupName: expected,
      lastBackupPhase: 'New',
      nextRun: k8sTime(new Date(slot.getTime() + DAY_MS)),
    });
    expect(view.spec).toMatchObject({ schedule: dailyAt(slot), timeZone: 'UTC', paused: false, template: { includedNamespaces: [namespace], ttl: '48h0m0s', storageLocation: 'default' } });
  });
});

describe('the scheduler function under serverless offline', () => {
  const apiToken = randomBytes(24).toString('hex');
  const scheduleName = `tick-${randomBytes(2).toString('hex')}`;
  const pausedName = `paused-${randomBytes(2).toString('hex')}`;
  let config: unknown;
  let offline: OfflineStack;
  let lambda: LambdaClient;
  let slot: Date;

  beforeAll(async () => {
    const state = bedState();
    const bucket = await freshBucket('schedule-fn');
    const namespace = await freshNamespace('alpha', 'tick');
    // The current minute: due at once, and still inside the 10-minute lookback on the next ticks.
    slot = floorToMinute(new Date());
    config = {
      ...skiffConfigForBed(state, { bucket, apiToken }),
      schedules: [
        { name: scheduleName, cluster: 'alpha', schedule: dailyAt(slot), template: { includedNamespaces: [namespace] } },
        { name: pausedName, cluster: 'alpha', schedule: '0 3 * * 0', timeZone: 'Europe/Berlin', paused: true, ttl: '24h' },
      ],
    };
    offline = await startOffline({
      config,
      logDir: join(state.workDir, 'logs'),
      scheduler: true,
    });
    lambda = offlineLambdaClient(offline);
  });

  afterAll(async () => {
    lambda?.destroy();
    await offline?.stop();
  });

  async function invokeScheduler(): Promise<DispatchReport & { restarted: string[] }> {
    const answer = await lambda.send(
      new InvokeCommand({ FunctionName: offline.functionName('scheduler'), InvocationType: 'RequestResponse', Payload: Buffer.from('{}') }),
    );
    const text = Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8');
    expect(answer.FunctionError, text).toBeUndefined();
    return JSON.parse(text);
  }

  async function getJson<T>(path: string, status = 200): Promise<T> {
    const res = await fetch(`${offline.httpUrl}${path}`, { headers: { authorization: `Bearer ${apiToken}` } });
    expect(res.status).toBe(status);
    return (await res.json()) as T;
  }
  const get = (path: string) => getJson<{ items: { metadata: { name: string; labels: Record<string, string> }; status: { phase?: string } }[] }>(path);

  const scheduledTicks = () => readFileSync(offline.logFile, 'utf8').split('\n').filter((l) => l.includes('Successfully invoked scheduled function: [scheduler]')).length;

  it('starts the slot\'s backup once across direct invocations and minute ticks', { timeout: 240_000 }, async () => {
    const expected = defaultBackupName(scheduleName, slot);
    // Two invocations of our own; the minute tick may have come first.
    const first = await invokeScheduler();
    const second = await invokeScheduler();
    expect(first.failed).toEqual([]);
    expect([...first.created, ...first.skipped]).toEqual([expected]);
    expect(second).toMatchObject({ created: [], skipped: [expected], failed: [] });

    // And the scheduler's own tick (serverless offline fires it on the minute).
    const ticksBefore = scheduledTicks();
    await waitFor(() => scheduledTicks() > ticksBefore, { what: 'a scheduler tick of serverless offline', timeoutMs: 90_000, intervalMs: 1_000 });

    const listed = await get(`/backups?schedule=${scheduleName}`);
    expect(listed.items.map((b) => b.metadata.name)).toEqual([expected]);
    expect(listed.items[0]!.metadata.labels[SCHEDULE_LABEL]).toBe(scheduleName);
    // The backup the schedule started runs to the end like any other.
    await waitFor(
      async () => (await get(`/backups?schedule=${scheduleName}&phase=Completed`)).items.length === 1,
      { what: `backup ${expected} to complete`, timeoutMs: 90_000, intervalMs: 1_000 },
    );
  });

  it('shows each schedule with its last backup, that backup\'s phase and the next run; 404 for an unknown one', { timeout: 120_000 }, async () => {
    const expected = defaultBackupName(scheduleName, slot);
    const nextRun = k8sTime(new Date(slot.getTime() + DAY_MS));

    const list = await getJson<{ items: ScheduleView[]; unreadable: unknown[] }>('/schedules');
    expect(list.unreadable).toEqual([]);
    expect(list.items.map((s) => s.metadata.name)).toEqual([scheduleName, pausedName]);
    const [ticking, paused] = list.items as [ScheduleView, ScheduleView];
    expect(ticking.status).toMatchObject({ phase: 'Enabled', lastBackupName: expected, lastBackupPhase: 'Completed', nextRun });
    expect(ticking.spec).toMatchObject({ schedule: dailyAt(slot), timeZone: 'UTC', paused: false, template: { ttl: '720h0m0s', storageLocation: 'default' } });
    expect(paused.spec).toMatchObject({ schedule: '0 3 * * 0', timeZone: 'Europe/Berlin', paused: true, template: { ttl: '24h0m0s' } });
    expect(paused.status).toEqual({ phase: 'Enabled' });

    expect(await getJson<ScheduleView>(`/schedules/${scheduleName}`)).toEqual(ticking);
    const unknown = await getJson<{ message: string }>('/schedules/no-such-schedule', 404);
    expect(unknown.message).toBe(`schedule "no-such-schedule" not found; configured schedules: ${scheduleName}, ${pausedName}`);

    // The command line reads the same store with the same configuration.
    await run(process.execPath, ['scripts/build-cli.mjs'], { cwd: process.cwd() });
    const env = { ...process.env, SKIFF_CONFIG: JSON.stringify(config) };
    const skiff = (...args: string[]) => run('node', ['bin/skiff.mjs', 'schedule', ...args], { env, cwd: process.cwd() });
    const table = (await skiff('get')).stdout.split('\n');
    expect(table[0]).toMatch(/^NAME\s+STATUS\s+CLUSTER\s+SCHEDULE\s+TIME ZONE\s+BACKUP TTL\s+LAST BACKUP\s+PHASE\s+NEXT RUN\s+SELECTOR\s+PAUSED$/);
    expect(table[1]).toMatch(new RegExp(`^${scheduleName}\\s+Enabled\\s+alpha\\s+${dailyAt(slot).replaceAll('*', '\\*')}\\s+UTC\\s+720h0m0s\\s+\\d+[smh] ago\\s+Completed\\s+${nextRun} \\(in \\d+h\\)\\s+<none>\\s+false$`));
    expect(table[2]).toMatch(new RegExp(`^${pausedName}\\s+Enabled\\s+alpha\\s+0 3 \\* \\* 0\\s+Europe/Berlin\\s+24h0m0s\\s+n/a\\s+<paused>\\s+<none>\\s+true$`));

    const described = (await skiff('describe', scheduleName)).stdout;
    expect(described).toContain(`Last Backup Name:   ${expected}\nLast Backup Phase:  Completed`);
    expect(described).toContain(`Next Run:           ${nextRun}`);
    expect(JSON.parse((await skiff('get', scheduleName, '-o', 'json')).stdout)).toEqual(ticking);

    const failure = await skiff('describe', 'no-such-schedule').then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 2 });
    expect(failure!.stderr).toContain('error: schedule "no-such-schedule" not found; configured schedules:');
  });
});
