import { describe, expect, it } from 'vitest';
import type { ClusterInventory } from '../../../lib/expiry/inventory';
import type { DeletionCandidate } from '../../../lib/expiry/plan';
import { inPhaseOrder } from '../../../lib/expiry/plan';
import { planDeletion } from '../../../lib/expiry/plan-deletion';
import { selectForDeletion, type BackupSummary, type SelectionInput } from '../../../lib/expiry/select';
import { snapshotUsage } from '../../../lib/expiry/usage';
import { objectStoreLayout } from '../../../lib/store/layout';
import { progressRecordView, type ProgressRecordView } from '../../../lib/store/progress-records';
import { BACKUP_NAME_LABEL } from '../../../lib/velero/labels';
import { forVolumeSnapshot, forVolumeSnapshotContent } from '../../builders';

const NOW = new Date('2025-06-01T12:00:00Z');
const PAST = '2025-06-01T11:59:59Z';
const FUTURE = '2025-06-01T12:00:01Z';

function record(name: string, fields: Partial<ProgressRecordView> = {}): ProgressRecordView {
  return { name, stage: 'Failed', phase: 'Failed', expiration: PAST, cluster: 'alpha', resourceListParts: 0, ...fields };
}

function input(records: ProgressRecordView[], backups: BackupSummary[] = [], overrides: Partial<SelectionInput> = {}): SelectionInput {
  return {
    backups,
    marked: new Map(),
    inProgress: new Set(records.map((r) => r.name)),
    progressRecords: records,
    now: NOW,
    policy: { keepLast: new Map(), maxDeletions: 50, readOnly: false },
    ...overrides,
  };
}

describe('Function: selectForDeletion, progress records of failed backups', () => {
  it.each([
    { case: 'stage Failed, expired, no lease', fields: {}, verdict: 'delete', why: /the backup failed .*expired at 2025-06-01T11:59:59Z/ },
    { case: 'phase Failed with an older stage, expired', fields: { stage: 'Snapshots' }, verdict: 'delete', why: /expired at/ },
    { case: 'stage Failed, phase not rewritten, expired', fields: { phase: 'InProgress' }, verdict: 'delete', why: /expired at/ },
    { case: 'failure reason is named', fields: { failureReason: 'cluster refused the credentials' }, verdict: 'delete', why: /failed \(cluster refused the credentials\)/ },
    { case: 'lease run out', fields: { leaseUntil: PAST }, verdict: 'delete', why: /expired at/ },
    { case: 'live lease: its writer may still be discarding snapshots', fields: { leaseUntil: FUTURE }, verdict: 'keep', why: /holds it until 2025-06-01T12:00:01Z/ },
    { case: 'lease that is no time counts as live', fields: { leaseUntil: 'later' }, verdict: 'keep', why: /holds it until later/ },
    { case: 'not expired yet', fields: { expiration: FUTURE }, verdict: 'keep', why: /expires at 2025-06-01T12:00:01Z/ },
    { case: 'no expiration', fields: { expiration: undefined }, verdict: 'keep', why: /no expiration/ },
    { case: 'expiration that is no time', fields: { expiration: 'soon' }, verdict: 'keep', why: /not a time/ },
    { case: 'still being written (Snapshots, InProgress)', fields: { stage: 'Snapshots', phase: 'InProgress' }, verdict: undefined, why: undefined },
    { case: 'New, not started yet', fields: { stage: 'New', phase: 'New' }, verdict: undefined, why: undefined },
    { case: 'Done (its velero-backup.json is written, the record not yet removed)', fields: { stage: 'Done', phase: 'Completed' }, verdict: undefined, why: undefined },
  ])('$case → $verdict', ({ fields, verdict, why }) => {
    // Prepare
    const r = record('f1', fields as Partial<ProgressRecordView>);
    if ('expiration' in fields && fields.expiration === undefined) delete r.expiration;
    // Act
    const selection = selectForDeletion(input([r]));
    // Assess
    if (verdict === undefined) expect(selection).toEqual([]);
    else expect(selection).toEqual([{ backup: 'f1', verdict, progressRecord: true, why: expect.stringMatching(why!), ...(verdict === 'delete' ? { cause: 'failedRecord' } : {}) }]);
  });

  it('counts against the cap with the stored backups, oldest expiration first', () => {
    const selection = selectForDeletion(
      input([record('f-new', { expiration: '2025-03-01T00:00:00Z' }), record('f-old', { expiration: '2025-01-01T00:00:00Z' })], [
        { name: 'b', phase: 'Completed', expiration: '2025-02-01T00:00:00Z' },
      ], { policy: { keepLast: new Map(), maxDeletions: 2, readOnly: false } }),
    );
    expect(selection.map((v) => [v.backup, v.verdict])).toEqual([
      ['b', 'delete'],
      ['f-new', 'deferred'],
      ['f-old', 'delete'],
    ]);
  });

  it('nothing is deleted from a ReadOnly location, records included', () => {
    const selection = selectForDeletion(input([record('f1')], [], { policy: { keepLast: new Map(), maxDeletions: 50, readOnly: true } }));
    expect(selection).toEqual([{ backup: 'f1', verdict: 'keep', progressRecord: true, why: expect.stringMatching(/ReadOnly/) }]);
  });

  it('a record beside a stored backup of the same name gets no verdict of its own; the backup is kept as being written', () => {
    const selection = selectForDeletion(input([record('b1')], [{ name: 'b1', phase: 'Completed', expiration: PAST }]));
    expect(selection).toEqual([{ backup: 'b1', verdict: 'keep', why: expect.stringMatching(/still being written/) }]);
  });
});

describe('Function: progressRecordView', () => {
  it.each([
    {
      case: 'a failed record with parts',
      raw: { stage: 'Failed', cluster: 'alpha', attempts: 1, lease: { owner: 'x', until: PAST }, backup: { metadata: {}, status: { phase: 'Failed', expiration: PAST, failureReason: 'no' } }, tarball: { resourceListParts: 3 } },
      view: { name: 'f1', stage: 'Failed', phase: 'Failed', expiration: PAST, failureReason: 'no', cluster: 'alpha', leaseUntil: PAST, resourceListParts: 3 },
    },
    {
      case: 'a new record: no status fields, no tarball',
      raw: { stage: 'New', cluster: 'alpha', backup: { metadata: {}, status: {} } },
      view: { name: 'f1', stage: 'New', cluster: 'alpha', resourceListParts: 0 },
    },
    {
      case: 'nulls as Velero writes them',
      raw: { stage: 'Failed', backup: { status: { phase: 'Failed', expiration: null } }, tarball: null },
      view: { name: 'f1', stage: 'Failed', phase: 'Failed', resourceListParts: 0 },
    },
  ])('$case', ({ raw, view }) => {
    expect(progressRecordView('f1', raw)).toEqual(view);
  });

  it.each([
    { case: 'no stage', raw: { backup: {} }, message: /stage/ },
    { case: 'no backup', raw: { stage: 'Failed' }, message: /backup/ },
    { case: 'parts not a count', raw: { stage: 'Failed', backup: {}, tarball: { resourceListParts: -1 } }, message: /tarball\.resourceListParts/ },
  ])('refuses a record that is not one Skiff wrote: $case', ({ raw, message }) => {
    expect(() => progressRecordView('f1', raw)).toThrow(message);
    expect(() => progressRecordView('f1', raw)).toThrow(/backup "f1"/);
  });
});

describe('Function: planDeletion, a failed backup\'s progress record', () => {
  const layout = objectStoreLayout('');
  const failed = (fields: Partial<DeletionCandidate> = {}): DeletionCandidate => ({
    backup: 'f1',
    cause: 'expired',
    why: 'failed; expired at x',
    marked: false,
    hasData: false,
    inCatalog: false,
    storedContents: [],
    cluster: 'alpha',
    progressRecord: { resourceListParts: 2 },
    ...fields,
  });
  const cluster = (name: string, fields: Partial<ClusterInventory> = {}): ClusterInventory => ({ cluster: name, contents: [], snapshots: [], claims: [], volumes: [], drivers: ['driver.longhorn.io'], ...fields });
  const steps = (c: DeletionCandidate, views: ClusterInventory[]) => {
    const planned = planDeletion(c, views, snapshotUsage(views), layout);
    return { ...planned, steps: inPhaseOrder(planned.actions).map((a) => [a.kind, a.cluster, a.object].filter(Boolean).join(' ')) };
  };
  const left = (name: string) =>
    forVolumeSnapshotContent(name).driver('driver.longhorn.io').deletionPolicy('Retain').labels({ [BACKUP_NAME_LABEL]: 'f1' }).forSnapshot('app', `vs-${name}`).handle(`bak://v/${name}`).ready();

  it.each([
    {
      case: 'nothing left in any cluster: only the record goes, no marker',
      alpha: {},
      steps: ['deleteProgressRecord metadata/skiff/backups-in-progress/f1.json'],
      waitingOn: [],
    },
    {
      case: 'a content left by a crash mid-cleanup: freed as a stored backup\'s, then the record',
      alpha: { contents: [left('c1').result()], snapshots: [forVolumeSnapshot('app', 'vs-c1').labels({ [BACKUP_NAME_LABEL]: 'f1' }).boundTo('c1').ready().result()] },
      steps: [
        'setDeletionPolicyDelete alpha VolumeSnapshotContent/c1',
        'deleteVolumeSnapshot alpha VolumeSnapshot/app/vs-c1',
        'waitUntilContentGone alpha VolumeSnapshotContent/c1',
        'deleteProgressRecord metadata/skiff/backups-in-progress/f1.json',
      ],
      waitingOn: [],
    },
    {
      case: 'a labelled VolumeSnapshot with no content of the backup: the record stays and it is reported',
      alpha: { snapshots: [forVolumeSnapshot('app', 'vs-x').labels({ [BACKUP_NAME_LABEL]: 'f1' }).result()] },
      steps: [],
      waitingOn: [expect.stringMatching(/VolumeSnapshot app\/vs-x in cluster alpha is labelled for the failed backup but bound to no content of it/)],
    },
  ])('$case', ({ alpha, steps: expected, waitingOn }) => {
    const result = steps(failed(), [cluster('alpha', alpha)]);
    expect(result.steps).toEqual(expected);
    expect(result.waitingOn).toEqual(waitingOn);
  });

  it('deletes the record with its resource-list parts', () => {
    const { actions } = steps(failed(), [cluster('alpha')]);
    expect(actions).toEqual([expect.objectContaining({ kind: 'deleteProgressRecord', resourceListParts: 2, why: expect.stringMatching(/2 resource-list part\(s\), in one DeleteObjects/) })]);
  });

  it('its cluster unreadable: nothing is touched', () => {
    const planned = planDeletion(failed(), [{ cluster: 'alpha', unreachable: 'refused' }], snapshotUsage([]), layout);
    expect(planned).toMatchObject({ blocked: true, actions: [] });
  });
});
