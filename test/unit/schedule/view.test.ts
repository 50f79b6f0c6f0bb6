import { describe, expect, it } from 'vitest';
import { scheduleSchema, type ScheduleConfig } from '../../../lib/config/schema';
import { scheduleStorageLocation, scheduleView } from '../../../lib/schedule/view';
import type { SkippedSlot } from '../../../lib/store/skipped-slots';
import { forBackup } from '../../builders';

const config = {
  clusters: [{ storageLocations: ['primary', 'secondary'], name: 'prod' }],
  defaults: { backupTTL: '720h0m0s', csiSnapshotTimeout: '10m', gcFrequency: '60m', maxDeletionsPerRun: 50 },
} as unknown as Parameters<typeof scheduleView>[0];

function schedule(fields: Record<string, unknown> = {}): ScheduleConfig {
  return scheduleSchema.parse({ name: 'nightly', cluster: 'prod', schedule: '0 2 * * *', ...fields });
}

const now = new Date('2026-06-01T12:00:00Z');
const slot = (backup: string, at: string): SkippedSlot => ({ schedule: 'nightly', backup, slot: at, cluster: 'prod', reasons: ['r'], recordedAt: at });

describe('Module: schedule/view', () => {
  describe('scheduleView', () => {
    it.each([
      {
        case: 'no backup yet',
        backups: [],
        expected: { phase: 'Enabled', nextRun: '2026-06-02T02:00:00Z' },
      },
      {
        case: 'the newest by name (the slot), whatever order the store lists them in',
        backups: [
          forBackup('velero', 'nightly-20260531020000').fromSchedule('nightly').phase('Completed').startTimestamp(new Date('2026-05-31T02:00:05Z')).result(),
          forBackup('velero', 'nightly-20260601020000').fromSchedule('nightly').phase('PartiallyFailed').startTimestamp(new Date('2026-06-01T02:00:07Z')).result(),
          forBackup('velero', 'nightly-20260530020000').fromSchedule('nightly').phase('Completed').result(),
        ],
        expected: { lastBackup: '2026-06-01T02:00:07Z', lastBackupName: 'nightly-20260601020000', lastBackupPhase: 'PartiallyFailed' },
      },
      {
        case: "another schedule's backups and unlabelled ones are not this schedule's",
        backups: [
          forBackup('velero', 'weekly-20260601020000').fromSchedule('weekly').phase('Completed').result(),
          forBackup('velero', 'nightly-by-hand').phase('Completed').result(),
        ],
        expected: { phase: 'Enabled' },
        absent: ['lastBackup', 'lastBackupName', 'lastBackupPhase'],
      },
      {
        case: 'a backup just recorded, still New (no phase yet in its record)',
        backups: [forBackup('velero', 'nightly-20260601020000').fromSchedule('nightly').result()],
        expected: { lastBackupName: 'nightly-20260601020000', lastBackupPhase: 'New' },
      },
    ])('last backup: $case', ({ backups, expected, absent }) => {
      const view = scheduleView(config, schedule(), { backups, skippedSlots: [] }, now);
      expect(view.status).toMatchObject(expected);
      for (const key of absent ?? []) expect(view.status).not.toHaveProperty(key);
    });

    it.each([
      { case: 'paused: no next run', fields: { paused: true }, nextRun: undefined },
      { case: 'a zone', fields: { timeZone: 'Europe/Berlin' }, nextRun: '2026-06-02T00:00:00Z' },
      { case: 'a CRON_TZ prefix', fields: { schedule: 'CRON_TZ=Asia/Kolkata 0 9 * * *' }, nextRun: '2026-06-02T03:30:00Z' },
      { case: 'a cron that never fires', fields: { schedule: '0 0 30 2 *' }, nextRun: undefined },
    ])('next run: $case', ({ fields, nextRun }) => {
      const view = scheduleView(config, schedule(fields), { backups: [], skippedSlots: [] }, now);
      expect(view.status.nextRun).toBe(nextRun);
    });

    it.each([
      { case: 'UTC by default', fields: {}, zone: 'UTC' },
      { case: 'the configured zone', fields: { timeZone: 'Europe/Berlin' }, zone: 'Europe/Berlin' },
      { case: 'a CRON_TZ prefix wins over the configured zone', fields: { timeZone: 'Europe/Berlin', schedule: 'CRON_TZ=Asia/Kolkata 0 9 * * *' }, zone: 'Asia/Kolkata' },
    ])('time zone: $case', ({ fields, zone }) => {
      expect(scheduleView(config, schedule(fields), { backups: [], skippedSlots: [] }, now).spec.timeZone).toBe(zone);
    });

    it.each([
      { case: 'server defaults', fields: {}, template: { ttl: '720h0m0s', storageLocation: 'primary', csiSnapshotTimeout: '10m0s', includedNamespaces: ['*'] } },
      { case: "the template's TTL", fields: { template: { ttl: '72h' } }, template: { ttl: '72h0m0s' } },
      { case: "the schedule's TTL over the template's", fields: { template: { ttl: '72h' }, ttl: '24h' }, template: { ttl: '24h0m0s' } },
      {
        case: "the template's location, namespaces and selector",
        fields: { template: { storageLocation: 'secondary', includedNamespaces: ['shop'], labelSelector: { matchLabels: { app: 'shop' } } } },
        template: { storageLocation: 'secondary', includedNamespaces: ['shop'], labelSelector: { matchLabels: { app: 'shop' } } },
      },
    ])('template as each backup gets it: $case', ({ fields, template }) => {
      expect(scheduleView(config, schedule(fields), { backups: [], skippedSlots: [] }, now).spec.template).toMatchObject(template);
    });

    it('names the newest skipped slot, the cluster, keepLast and readiness', () => {
      const skippedSlots = [slot('nightly-20260531020000', '2026-05-31T02:00:00Z'), slot('nightly-20260530020000', '2026-05-30T02:00:00Z')];
      const view = scheduleView(config, schedule({ keepLast: 3, readiness: 'block' }), { backups: [], skippedSlots }, now);
      expect(view).toMatchObject({
        apiVersion: 'velero.io/v1',
        kind: 'Schedule',
        metadata: { name: 'nightly', labels: { 'skiff.io/cluster': 'prod' } },
        spec: { schedule: '0 2 * * *', paused: false, keepLast: 3, readiness: 'block' },
        status: { lastSkipped: '2026-05-31T02:00:00Z' },
      });
    });

    it('says which storage locations could not be read, so a missing last backup is not taken for "never"', () => {
      const view = scheduleView(config, schedule(), { backups: [], skippedSlots: [], unreadable: ['primary'] }, now);
      expect(view.status.unreadableStorageLocations).toEqual(['primary']);
    });
  });

  describe('scheduleStorageLocation', () => {
    it.each([
      ['the template names one', { template: { storageLocation: 'secondary' } }, 'secondary'],
      ["the cluster's first otherwise", {}, 'primary'],
    ])('%s', (_case, fields, expected) => {
      expect(scheduleStorageLocation(config, schedule(fields))).toBe(expected);
    });
  });
});
