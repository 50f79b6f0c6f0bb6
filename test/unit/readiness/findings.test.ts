import { describe, expect, it } from 'vitest';
import { blockingReasons, readinessReport, type Finding } from '../../../lib/readiness/findings';
import { scheduledNamespaces } from '../../../lib/readiness/service';
import type { ScheduleConfig } from '../../../lib/config';

const finding = (severity: Finding['severity'], message: string): Finding => ({ check: 'access', severity, message, objects: ['x'], action: '' });

describe('readinessReport', () => {
  it.each([
    { findings: [], ready: true, counts: { block: 0, warn: 0, info: 0 } },
    { findings: [finding('info', 'i'), finding('warn', 'w')], ready: true, counts: { block: 0, warn: 1, info: 1 } },
    { findings: [finding('warn', 'w'), finding('block', 'b')], ready: false, counts: { block: 1, warn: 1, info: 0 } },
  ])('$counts: ready $ready', ({ findings, ready, counts }) => {
    const report = readinessReport('alpha', new Date('2026-01-01T00:00:00Z'), findings);
    expect(report).toMatchObject({ cluster: 'alpha', checkedAt: '2026-01-01T00:00:00.000Z', ready, counts });
    expect(report.findings.map((f) => f.severity)).toEqual(
      [...findings.map((f) => f.severity)].sort((a, b) => ['block', 'warn', 'info'].indexOf(a) - ['block', 'warn', 'info'].indexOf(b)),
    );
  });

  it('gives the blocking findings as reasons', () => {
    const report = readinessReport('alpha', new Date(), [finding('block', 'volumes at risk'), finding('warn', 'w')]);
    expect(blockingReasons(report)).toEqual(['volumes at risk: x']);
  });
});

describe('scheduledNamespaces', () => {
  const schedule = (cluster: string, includedNamespaces?: string[]) =>
    ({ name: 's', cluster, schedule: '@daily', timeZone: 'UTC', template: { includedNamespaces }, paused: false }) as ScheduleConfig;
  it.each([
    { schedules: [], expected: undefined },
    { schedules: [schedule('alpha', ['shop']), schedule('alpha', ['blog', 'shop']), schedule('beta', ['x'])], expected: ['blog', 'shop'] },
    { schedules: [schedule('alpha', ['shop']), schedule('alpha')], expected: undefined },
    { schedules: [schedule('alpha', ['shop-*'])], expected: undefined },
    { schedules: [schedule('alpha', ['*'])], expected: undefined },
  ])('$expected', ({ schedules, expected }) => {
    expect(scheduledNamespaces(schedules, 'alpha')).toEqual(expected);
  });
});
