import { describe, expect, it } from 'vitest';
import type { CreateBackupOptions, CreatedBackup } from '../../../lib/backup/service';
import { scheduleSchema, type ScheduleConfig } from '../../../lib/config/schema';
import { ConflictError, RemoteError } from '../../../lib/core/errors';
import { dispatchSchedules, type DispatchDeps, type DispatchReport } from '../../../lib/schedule/dispatch';
import { defaultBackupName } from '../../../lib/velero/names';

/** A schedule as the configuration yields it, defaults included. */
function schedule(fields: Record<string, unknown>): ScheduleConfig {
  return scheduleSchema.parse({ cluster: 'alpha', ...fields });
}

/**
 * Stands in for createBackup: remembers names and, like the store's create-only write,
 * refuses a name it has seen.
 */
function fakeBackups(options: { failFor?: string; failStartFor?: string } = {}) {
  const names: string[] = [];
  const calls: { request: unknown; options: CreateBackupOptions }[] = [];
  const started: string[] = [];
  const deps = (schedules: ScheduleConfig[], lookbackMinutes?: number): DispatchDeps => ({
    schedules,
    lookbackMinutes,
    createBackup: async (request, createOptions): Promise<CreatedBackup> => {
      calls.push({ request, options: createOptions });
      const { name: scheduleName, slot } = createOptions.schedule!;
      if (scheduleName === options.failFor) throw new RemoteError('object store', 'connection reset');
      const name = defaultBackupName(scheduleName, slot);
      if (names.includes(name)) throw new ConflictError(`backup "${name}" already exists`);
      names.push(name);
      return { name, phase: 'New', cluster: (request as { cluster: string }).cluster, storageLocation: 'default' };
    },
    startRun: async (name) => {
      if (name.startsWith(`${options.failStartFor}-`)) throw new Error('invoke throttled');
      started.push(name);
    },
  });
  return { names, calls, started, deps };
}

/** Every minute from `from` (inclusive) to `to` (exclusive), `secondsLate` after the minute. */
function ticksEveryMinute(from: string, to: string, secondsLate = 3): Date[] {
  const ticks: Date[] = [];
  for (let t = Date.parse(from); t < Date.parse(to); t += 60_000) ticks.push(new Date(t + secondsLate * 1000));
  return ticks;
}

async function runTicks(deps: DispatchDeps, ticks: Date[]): Promise<DispatchReport[]> {
  const reports: DispatchReport[] = [];
  for (const tick of ticks) reports.push(await dispatchSchedules(deps, tick));
  return reports;
}

/** What a test's readiness gate answers per backup name: the blocking reasons, or a failure. */
type Answers = Record<string, string[] | Error>;

describe('Module: schedule/dispatch', () => {
  describe('dispatchSchedules', () => {
    it.each([
      [
        'a slot seen by two ticks makes one backup',
        [{ name: 'nightly', schedule: '0 10 * * *' }],
        ['2026-06-01T10:00:05Z', '2026-06-01T10:01:05Z'],
        ['nightly-20260601100000'],
      ],
      [
        'a retried tick makes no second backup',
        [{ name: 'nightly', schedule: '0 10 * * *' }],
        ['2026-06-01T10:00:05Z', '2026-06-01T10:00:05Z'],
        ['nightly-20260601100000'],
      ],
      [
        'a missed tick is made up by the next one inside the lookback',
        [{ name: 'often', schedule: '0,5 10 * * *' }],
        ['2026-06-01T10:00:05Z', '2026-06-01T10:08:40Z'],
        ['often-20260601100000', 'often-20260601100500'],
      ],
      [
        'a slot older than the lookback is not made up',
        [{ name: 'nightly', schedule: '0 10 * * *' }],
        ['2026-06-01T10:10:01Z'],
        [],
      ],
      [
        'a paused schedule makes nothing',
        [{ name: 'nightly', schedule: '* * * * *', paused: true }],
        ['2026-06-01T10:00:05Z', '2026-06-01T10:01:05Z'],
        [],
      ],
      [
        'schedules are independent',
        [
          { name: 'paused', schedule: '* * * * *', paused: true },
          { name: 'hourly', schedule: '@hourly' },
          { name: 'tokyo', schedule: '0 19 * * *', timeZone: 'Asia/Tokyo' },
        ],
        ['2026-06-01T10:00:05Z'],
        ['hourly-20260601100000', 'tokyo-20260601100000'],
      ],
    ])('%s', async (_case, schedules, ticks, expected) => {
      const fake = fakeBackups();

      await runTicks(fake.deps(schedules.map(schedule)), ticks.map((t) => new Date(t)));

      expect(fake.names).toEqual(expected);
      expect(fake.started).toEqual(expected);
    });

    it.each([
      [
        'Berlin, clocks going forward: no 02:00 on 29 March',
        '0 2 * * *',
        'Europe/Berlin',
        ['2026-03-28T00:30:00Z', '2026-03-30T00:30:00Z'],
        ['nightly-20260328010000', 'nightly-20260330000000'],
      ],
      [
        'Berlin, clocks going back: 02:00 twice on 25 October',
        '0 2 * * *',
        'Europe/Berlin',
        ['2026-10-24T23:30:00Z', '2026-10-26T01:30:00Z'],
        ['nightly-20261025000000', 'nightly-20261025010000', 'nightly-20261026010000'],
      ],
      [
        'a CRON_TZ prefix wins over timeZone',
        'CRON_TZ=Europe/Berlin 0 2 * * *',
        'UTC',
        ['2026-03-29T23:30:00Z', '2026-03-30T02:30:00Z'],
        ['nightly-20260330000000'],
      ],
      [
        '@every 6h, aligned to the epoch',
        '@every 6h',
        'America/New_York',
        ['2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z'],
        ['nightly-20260601000000', 'nightly-20260601060000', 'nightly-20260601120000', 'nightly-20260601180000'],
      ],
    ])('ticking every minute: %s', async (_case, expression, timeZone, [from, to], expected) => {
      const fake = fakeBackups();

      const reports = await runTicks(
        fake.deps([schedule({ name: 'nightly', schedule: expression, timeZone })]),
        ticksEveryMinute(from!, to!),
      );

      expect(fake.names).toEqual(expected);
      expect(reports.flatMap((r) => r.created)).toEqual(expected);
      expect(reports.flatMap((r) => r.failed)).toEqual([]);
    });

    it('asks for the template, the cluster, the ttl override and the template labels', async () => {
      const fake = fakeBackups();
      const nightly = schedule({
        name: 'nightly',
        cluster: 'beta',
        schedule: '0 10 * * *',
        template: { includedNamespaces: ['shop'], ttl: '24h', metadata: { labels: { team: 'payments' } } },
        ttl: '168h',
      });

      await dispatchSchedules(fake.deps([nightly]), new Date('2026-06-01T10:00:05Z'));

      expect(fake.calls).toEqual([
        {
          request: {
            cluster: 'beta',
            includedNamespaces: ['shop'],
            ttl: '168h',
            metadata: { labels: { team: 'payments' } },
          },
          options: {
            schedule: { name: 'nightly', slot: new Date('2026-06-01T10:00:00Z') },
            labels: { team: 'payments' },
          },
        },
      ]);
    });

    it('keeps the template ttl when the schedule sets none', async () => {
      const fake = fakeBackups();

      await dispatchSchedules(
        fake.deps([schedule({ name: 'nightly', schedule: '0 10 * * *', template: { ttl: '24h' } })]),
        new Date('2026-06-01T10:00:05Z'),
      );

      expect(fake.calls[0]?.request).toEqual({ cluster: 'alpha', ttl: '24h' });
      expect(fake.calls[0]?.options.labels).toEqual({});
    });

    it('reports created, already existing and failed backups, and goes on after a failure', async () => {
      const fake = fakeBackups({ failFor: 'broken', failStartFor: 'unstartable' });
      const deps = fake.deps([
        schedule({ name: 'broken', schedule: '0 10 * * *' }),
        schedule({ name: 'unstartable', schedule: '0 10 * * *' }),
        schedule({ name: 'healthy', schedule: '0 10 * * *' }),
      ]);

      const first = await dispatchSchedules(deps, new Date('2026-06-01T10:00:05Z'));
      const second = await dispatchSchedules(deps, new Date('2026-06-01T10:01:05Z'));

      expect(first).toEqual({
        created: ['healthy-20260601100000'],
        skipped: [],
        failed: [
          {
            schedule: 'broken',
            name: 'broken-20260601100000',
            error: 'object store: connection reset',
          },
          {
            schedule: 'unstartable',
            name: 'unstartable-20260601100000',
            error: 'recorded, but its run could not be started: invoke throttled',
          },
        ],
      });
      expect(second.created).toEqual([]);
      expect(second.skipped).toEqual(['unstartable-20260601100000', 'healthy-20260601100000']);
      expect(second.failed.map((f) => f.name)).toEqual(['broken-20260601100000']);
    });

    it.each([
      {
        name: 'a blocked slot is not created and is reported with the reasons',
        answers: { 'gated-20260601100000': ['volumes at risk'] } as Answers,
        created: ['free-20260601100000'],
        blocked: [{ schedule: 'gated', name: 'gated-20260601100000', reasons: ['volumes at risk'] }],
        failed: [],
      },
      {
        name: 'a gate that fails fails only its slot',
        answers: { 'gated-20260601100000': new Error('store down') } as Answers,
        created: ['free-20260601100000'],
        blocked: undefined,
        failed: [{ schedule: 'gated', name: 'gated-20260601100000', error: 'the readiness gate failed: store down' }],
      },
      {
        name: 'an open gate starts every slot',
        answers: {} as Answers,
        created: ['gated-20260601100000', 'free-20260601100000'],
        blocked: undefined,
        failed: [],
      },
    ])('readiness gate: $name', async ({ answers, created, blocked, failed }) => {
      const fake = fakeBackups();
      const asked: string[] = [];
      const deps: DispatchDeps = {
        ...fake.deps([schedule({ name: 'gated', schedule: '0 10 * * *', readiness: 'block' }), schedule({ name: 'free', schedule: '0 10 * * *' })]),
        readinessGate: async (_schedule, { name }) => {
          asked.push(name);
          const answer = answers[name];
          if (answer instanceof Error) throw answer;
          return answer ? { blocked: true, reasons: answer } : { blocked: false };
        },
      };

      const report = await dispatchSchedules(deps, new Date('2026-06-01T10:00:05Z'));

      expect(asked).toEqual(['gated-20260601100000', 'free-20260601100000']);
      expect(report.created).toEqual(created);
      expect(fake.names).toEqual(created);
      expect(report.blocked).toEqual(blocked);
      expect(report.failed).toEqual(failed);
    });

    it('reports a schedule it cannot evaluate and still runs the others', async () => {
      const fake = fakeBackups();
      // The configuration refuses such text; dispatch must not trust that it never sees one.
      const unreadable: ScheduleConfig = { ...schedule({ name: 'unreadable', schedule: '@daily' }), schedule: '61 * * * *' };

      const report = await dispatchSchedules(
        fake.deps([unreadable, schedule({ name: 'hourly', schedule: '@hourly' })]),
        new Date('2026-06-01T10:00:05Z'),
      );

      expect(report.created).toEqual(['hourly-20260601100000']);
      expect(report.failed).toEqual([
        { schedule: 'unreadable', error: expect.stringMatching(/minute field "61": 61 is above 59/) },
      ]);
    });

    it('uses the lookback it is given', async () => {
      const fake = fakeBackups();

      await dispatchSchedules(fake.deps([schedule({ name: 'nightly', schedule: '0 10 * * *' })], 30), new Date('2026-06-01T10:25:00Z'));

      expect(fake.names).toEqual(['nightly-20260601100000']);
    });
  });
});
