import { describe, expect, it } from 'vitest';
import { describeSchedule, scheduleTable, timeFromNow } from '../../../cli/schedule-format';
import { scheduleSchema } from '../../../lib/config/schema';
import { scheduleView, type ScheduleView } from '../../../lib/schedule/view';
import { forBackup } from '../../builders';

const now = new Date('2026-06-01T12:00:00Z');
const config = {
  clusters: [{ name: 'alpha', storageLocations: ['default'] }],
  defaults: { backupTTL: '720h0m0s', csiSnapshotTimeout: '10m', gcFrequency: '60m', maxDeletionsPerRun: 50 },
} as unknown as Parameters<typeof scheduleView>[0];

function view(fields: Record<string, unknown>, backups = [] as ReturnType<ReturnType<typeof forBackup>['result']>[], unreadable?: string[]): ScheduleView {
  const schedule = scheduleSchema.parse({ cluster: 'alpha', ...fields });
  return scheduleView(config, schedule, { backups, skippedSlots: [], ...(unreadable ? { unreadable } : {}) }, now);
}

const ran = forBackup('velero', 'nightly-20260601020000').fromSchedule('nightly').phase('Completed').startTimestamp(new Date('2026-06-01T02:00:04Z')).result();
const nightly = view({ name: 'nightly', schedule: '0 2 * * *', ttl: '72h', template: { includedNamespaces: ['shop'], labelSelector: { matchLabels: { app: 'shop' } } } }, [ran]);
const paused = view({ name: 'weekly', schedule: '0 3 * * 0', timeZone: 'Europe/Berlin', paused: true });

describe('Module: cli/schedule-format', () => {
  describe('timeFromNow', () => {
    it.each([
      [undefined, 'n/a'],
      ['2026-06-01T12:00:00Z', 'in 0s'],
      ['2026-06-01T11:59:01Z', '59s ago'],
      ['2026-06-01T11:55:00Z', '5m ago'],
      ['2026-06-01T02:00:04Z', '9h ago'],
      ['2026-06-02T02:00:00Z', 'in 14h'],
      ['2026-06-09T12:00:00Z', 'in 8d'],
      ['2024-05-31T12:00:00Z', '2y ago'],
    ])('%s is %s', (time, expected) => {
      expect(timeFromNow(time, now)).toBe(expected);
    });
  });

  describe('scheduleTable', () => {
    it("has Velero's columns (but CREATED) and Skiff's, one line per schedule", () => {
      const lines = scheduleTable([nightly, paused], now).split('\n');

      expect(lines[0]!.split(/\s{2,}/)).toEqual(['NAME', 'STATUS', 'CLUSTER', 'SCHEDULE', 'TIME ZONE', 'BACKUP TTL', 'LAST BACKUP', 'PHASE', 'NEXT RUN', 'SELECTOR', 'PAUSED']);
      expect(lines[1]!.split(/\s{2,}/)).toEqual([
        'nightly', 'Enabled', 'alpha', '0 2 * * *', 'UTC', '72h0m0s', '9h ago', 'Completed', '2026-06-02T02:00:00Z (in 14h)', 'app=shop', 'false',
      ]);
      expect(lines[2]!.split(/\s{2,}/)).toEqual(['weekly', 'Enabled', 'alpha', '0 3 * * 0', 'Europe/Berlin', '720h0m0s', 'n/a', '<paused>', '<none>', 'true']);
    });

    it('shows an unknown last backup, not "n/a", when a storage location could not be read', () => {
      const line = scheduleTable([view({ name: 'nightly', schedule: '0 2 * * *' }, [], ['default'])], now).split('\n')[1]!;
      expect(line.split(/\s{2,}/)[6]).toBe('unknown');
    });
  });

  describe('describeSchedule', () => {
    it("follows Velero's layout: metadata, phase, paused, schedule, template, then the last backup and what Skiff adds", () => {
      const text = describeSchedule(nightly, now);

      expect(text).toContain('Name:         nightly\nNamespace:    velero\nLabels:       skiff.io/cluster=alpha');
      expect(text).toContain('Phase:  Enabled\n\nPaused:  false\n\nSchedule:   0 2 * * *\nTime zone:  UTC\n\nBackup Template:\n  Namespaces:\n    Included:  shop\n    Excluded:  <none>');
      expect(text).toContain('  Label selector:  app=shop');
      expect(text).toContain('  Storage Location:  default');
      expect(text).toContain('  TTL:  72h0m0s');
      expect(text).toContain('  CSISnapshotTimeout:    10m0s\n  ItemOperationTimeout:  4h0m0s');
      expect(text).toContain(
        [
          'Last Backup:        2026-06-01T02:00:04Z (9h ago)',
          'Last Backup Name:   nightly-20260601020000',
          'Last Backup Phase:  Completed',
          'Last Skipped:       <never>',
          'Next Run:           2026-06-02T02:00:00Z (in 14h)',
        ].join('\n'),
      );
    });

    it.each([
      ['paused', paused, 'Next Run:           <paused>'],
      ['never run', paused, 'Last Backup:        <never>'],
      ['never fires', view({ name: 'feb30', schedule: '0 0 30 2 *' }), 'Next Run:           <never>'],
      ['storage unreadable', view({ name: 'nightly', schedule: '0 2 * * *' }, [], ['default']), 'Last Backup:        <never>; unknown whether newer: storage location default could not be read'],
    ])('%s', (_case, schedule, line) => {
      expect(describeSchedule(schedule, now).split('\n')).toContain(line);
    });
  });
});
