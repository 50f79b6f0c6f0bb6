import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../lib/config';
import { createBackup, listBackups } from '../../lib/backup/service';
import { backupServiceDeps } from '../../lib/backup/service';
import { dispatchSchedules, type DispatchReport } from '../../lib/schedule';
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
  });
});

describe('the scheduler function under serverless offline', () => {
  const apiToken = randomBytes(24).toString('hex');
  const scheduleName = `tick-${randomBytes(2).toString('hex')}`;
  let offline: OfflineStack;
  let lambda: LambdaClient;
  let slot: Date;

  beforeAll(async () => {
    const state = bedState();
    const bucket = await freshBucket('schedule-fn');
    const namespace = await freshNamespace('alpha', 'tick');
    // The current minute: due at once, and still inside the 10-minute lookback on the next ticks.
    slot = floorToMinute(new Date());
    offline = await startOffline({
      config: {
        ...skiffConfigForBed(state, { bucket, apiToken }),
        schedules: [{ name: scheduleName, cluster: 'alpha', schedule: dailyAt(slot), template: { includedNamespaces: [namespace] } }],
      },
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

  async function get(path: string) {
    const res = await fetch(`${offline.httpUrl}${path}`, { headers: { authorization: `Bearer ${apiToken}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as { items: { metadata: { name: string; labels: Record<string, string> }; status: { phase?: string } }[] };
  }

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
});
