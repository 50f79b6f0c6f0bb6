import { describe, expect, it } from 'vitest';
import { keptByRetention, selectForDeletion, type BackupSummary, type ExpiryPolicy, type SelectionInput } from '../../../lib/expiry/select';

const NOW = new Date('2025-06-01T12:00:00Z');
const PAST = '2025-06-01T11:59:59Z';
const FUTURE = '2025-06-01T12:00:01Z';

function backup(name: string, fields: Partial<BackupSummary> = {}): BackupSummary {
  return { name, phase: 'Completed', expiration: PAST, startTimestamp: '2025-05-01T00:00:00Z', ...fields };
}

function input(backups: BackupSummary[], overrides: Partial<SelectionInput> = {}, policy: Partial<ExpiryPolicy> = {}): SelectionInput {
  return {
    backups,
    marked: new Map(),
    inProgress: new Set(),
    now: NOW,
    policy: { keepLast: new Map(), maxDeletions: 50, readOnly: false, ...policy },
    ...overrides,
  };
}

function verdictOf(selection: ReturnType<typeof selectForDeletion>, name: string) {
  return selection.find((v) => v.backup === name);
}

describe('Function: selectForDeletion', () => {
  it.each([
    { case: 'Completed, expired a second ago', fields: {}, verdict: 'delete', why: /expired at 2025-06-01T11:59:59Z/ },
    { case: 'expiration exactly now (Velero: not after now)', fields: { expiration: '2025-06-01T12:00:00Z' }, verdict: 'delete', why: /expired/ },
    { case: 'not expired yet', fields: { expiration: FUTURE }, verdict: 'keep', why: /expires at 2025-06-01T12:00:01Z/ },
    { case: 'no expiration', fields: { expiration: undefined }, verdict: 'keep', why: /no expiration/ },
    { case: 'expiration that is no time', fields: { expiration: 'soon' }, verdict: 'keep', why: /not a time/ },
    { case: 'PartiallyFailed', fields: { phase: 'PartiallyFailed' }, verdict: 'delete', why: /expired/ },
    { case: 'Failed', fields: { phase: 'Failed' }, verdict: 'delete', why: /expired/ },
    { case: 'FailedValidation', fields: { phase: 'FailedValidation' }, verdict: 'delete', why: /expired/ },
    { case: 'InProgress', fields: { phase: 'InProgress' }, verdict: 'keep', why: /phase InProgress/ },
    { case: 'New', fields: { phase: 'New' }, verdict: 'keep', why: /phase New/ },
    { case: 'WaitingForPluginOperations', fields: { phase: 'WaitingForPluginOperations' }, verdict: 'keep', why: /only finished backups/ },
    { case: 'Finalizing', fields: { phase: 'Finalizing' }, verdict: 'keep', why: /phase Finalizing/ },
  ])('$case → $verdict', ({ fields, verdict, why }) => {
    // Prepare
    const b = backup('b1', fields as Partial<BackupSummary>);
    if ('expiration' in fields && fields.expiration === undefined) delete b.expiration;
    // Act
    const selection = selectForDeletion(input([b]));
    // Assess
    expect(verdictOf(selection, 'b1')).toMatchObject({ verdict, why: expect.stringMatching(why) });
  });

  it('never touches a backup still being written, whatever its phase and expiration says', () => {
    const selection = selectForDeletion(input([backup('b1')], { inProgress: new Set(['b1']) }));
    expect(verdictOf(selection, 'b1')).toMatchObject({ verdict: 'keep', why: expect.stringMatching(/still being written/) });
  });

  it.each([
    { case: 'an expired backup', marked: false },
    { case: 'a deletion under way', marked: true },
  ])('deletes nothing from a ReadOnly location: $case', ({ marked }) => {
    const selection = selectForDeletion(
      input([backup('b1')], marked ? { marked: new Map([['b1', { since: PAST, why: 'expired' }]]) } : {}, { readOnly: true }),
    );
    expect(selection).toEqual([{ backup: 'b1', verdict: 'keep', why: expect.stringMatching(/ReadOnly/) }]);
  });

  it('continues every marked deletion, also one whose objects are gone, before new ones', () => {
    const selection = selectForDeletion(
      input([backup('old', { expiration: '2020-01-01T00:00:00Z' }), backup('half')], {
        marked: new Map([
          ['half', { since: '2025-05-31T00:00:00Z', why: 'expired at x' }],
          ['gone', { since: '2025-05-30T00:00:00Z', why: 'its deletion was requested' }],
        ]),
      }, { maxDeletions: 2 }),
    );
    expect(selection.map((v) => [v.backup, v.verdict])).toEqual([
      ['gone', 'delete'],
      ['half', 'delete'],
      ['old', 'deferred'],
    ]);
    expect(verdictOf(selection, 'gone')).toMatchObject({ cause: 'marked', why: expect.stringMatching(/being deleted since 2025-05-30.*requested/) });
  });

  it.each([
    { cap: 1, deleted: ['a'] },
    { cap: 2, deleted: ['a', 'c'] },
    { cap: 3, deleted: ['a', 'b', 'c'] },
  ])('deletes at most $cap per run, oldest expiration first; the rest wait and say so', ({ cap, deleted }) => {
    const backups = [
      backup('a', { expiration: '2025-01-01T00:00:00Z' }),
      backup('b', { expiration: '2025-03-01T00:00:00Z' }),
      backup('c', { expiration: '2025-02-01T00:00:00Z' }),
    ];
    const selection = selectForDeletion(input(backups, {}, { maxDeletions: cap }));
    expect(selection.filter((v) => v.verdict === 'delete').map((v) => v.backup).sort()).toEqual(deleted);
    for (const v of selection.filter((v) => v.verdict !== 'delete')) {
      expect(v).toMatchObject({ verdict: 'deferred', why: expect.stringMatching(new RegExp(`at most ${cap} backups \\(defaults.maxDeletionsPerRun\\)`)) });
    }
  });
});

describe('Function: keptByRetention (keepLast)', () => {
  const nightly = (name: string, day: number, fields: Partial<BackupSummary> = {}) =>
    backup(name, { schedule: 'nightly', startTimestamp: `2025-05-${String(day).padStart(2, '0')}T02:00:00Z`, ...fields });

  it.each([
    {
      case: 'all expired: the newest N stay',
      keepLast: 2,
      backups: [nightly('n1', 1), nightly('n2', 2), nightly('n3', 3), nightly('n4', 4)],
      deleted: ['n1', 'n2'],
    },
    {
      case: 'newer ones not expired count toward N',
      keepLast: 2,
      backups: [nightly('n1', 1), nightly('n2', 2), nightly('n3', 3, { expiration: FUTURE }), nightly('n4', 4, { expiration: FUTURE })],
      deleted: ['n1', 'n2'],
    },
    {
      case: 'only Completed backups count: a newer PartiallyFailed one does not protect',
      keepLast: 1,
      backups: [nightly('n1', 1), nightly('n2', 2, { phase: 'PartiallyFailed' })],
      deleted: ['n2'],
    },
    {
      case: 'keepLast 0 keeps nothing beyond the TTL',
      keepLast: 0,
      backups: [nightly('n1', 1), nightly('n2', 2)],
      deleted: ['n1', 'n2'],
    },
    {
      case: 'more than exist: all stay',
      keepLast: 5,
      backups: [nightly('n1', 1), nightly('n2', 2)],
      deleted: [],
    },
    {
      case: 'other schedules and unscheduled backups are not counted',
      keepLast: 1,
      backups: [nightly('n1', 1), backup('other', { schedule: 'weekly', startTimestamp: '2025-05-09T00:00:00Z' }), backup('adhoc', { startTimestamp: '2025-05-10T00:00:00Z' })],
      deleted: ['adhoc', 'other'],
    },
  ])('$case', ({ keepLast, backups, deleted }) => {
    const selection = selectForDeletion(input(backups, {}, { keepLast: new Map([['nightly', keepLast]]) }));
    expect(selection.filter((v) => v.verdict === 'delete').map((v) => v.backup).sort()).toEqual(deleted);
    for (const v of selection.filter((v) => v.verdict === 'keep' && v.why.includes('keepLast'))) {
      expect(v.why).toMatch(/expired, but kept by schedule "nightly" keepLast \d+/);
    }
  });

  it('a backup being deleted already does not count toward N', () => {
    const kept = keptByRetention(
      [nightly('n1', 1), nightly('n2', 2), nightly('n3', 3)],
      new Map([['n3', {}]]),
      new Map([['nightly', 2]]),
    );
    expect([...kept.keys()].sort()).toEqual(['n1', 'n2']);
  });
});
