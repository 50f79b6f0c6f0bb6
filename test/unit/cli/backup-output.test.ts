import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupRequestFromFlags, orderedResources } from '../../../cli/backup-request';
import { backupGetTable, humanReadableTimeFromNow, shortHumanDuration } from '../../../cli/backup-table';
import { forBackup } from '../../builders';

const NOW = new Date('2026-03-01T12:00:00Z');
const DAY = 86_400_000;

/** Three backups as velero's docs show them: two of one schedule (newest first), one with a selector, one being deleted. */
function backups() {
  const at = (ms: number) => new Date(NOW.getTime() + ms);
  return [
    forBackup('velero', 'nightly-20260228020000')
      .phase('Completed')
      .storageLocation('default')
      .labels({ 'skiff.io/cluster': 'prod', 'velero.io/schedule-name': 'nightly' })
      .startTimestamp(at(-34 * 3_600_000))
      .expiration(at(6 * DAY))
      .result(),
    forBackup('velero', 'shop-1')
      .phase('PartiallyFailed')
      .storageLocation('default')
      .labels({ 'skiff.io/cluster': 'prod', team: 'shop' })
      .labelSelector({ matchLabels: { app: 'shop' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['cache'] }] })
      .counts(2, 1)
      .startTimestamp(at(-2 * DAY))
      .expiration(at(-3_600_000))
      .result(),
    forBackup('velero', 'nightly-20260301020000')
      .phase('InProgress')
      .storageLocation('default')
      .labels({ 'skiff.io/cluster': 'prod', 'velero.io/schedule-name': 'nightly' })
      .startTimestamp(at(-10 * 3_600_000))
      .expiration(at(29 * DAY))
      .result(),
  ];
}

describe('Module: cli/backup-table (golden output next to velero backup get)', () => {
  const tz = process.env.TZ;
  beforeAll(() => void (process.env.TZ = 'UTC'));
  afterAll(() => void (process.env.TZ = tz));

  it("prints velero's columns in velero's order and layout, then CLUSTER", () => {
    // velero v1.18 pkg/cmd/util/output/backup_printer.go through kubectl's tabwriter (min width 6, padding 3):
    // schedule backups newest first, CREATED as Go prints a time, EXPIRES relative, SELECTOR as FormatLabelSelector.
    expect(backupGetTable(backups(), { now: NOW })).toBe(
      [
        'NAME                     STATUS            ERRORS   WARNINGS   CREATED                         EXPIRES   STORAGE LOCATION   SELECTOR                      CLUSTER',
        'nightly-20260301020000   InProgress        0        0          2026-03-01 02:00:00 +0000 UTC   29d       default            <none>                        prod',
        'nightly-20260228020000   Completed         0        0          2026-02-28 02:00:00 +0000 UTC   6d        default            <none>                        prod',
        'shop-1                   PartiallyFailed   2        1          2026-02-27 12:00:00 +0000 UTC   1h ago    default            app=shop,tier notin (cache)   prod',
      ].join('\n'),
    );
  });

  it('adds wide columns, -L columns and --show-labels', () => {
    const table = backupGetTable(backups().slice(1, 2), { now: NOW, wide: true, labelColumns: ['team'], showLabels: true });
    const [header, row] = table.split('\n');
    expect(header).toMatch(/SELECTOR\s+CLUSTER\s+ITEMS\s+SNAPSHOTS\s+TEAM\s+LABELS$/);
    expect(row).toMatch(/prod\s+0\/0\s+0\/0\s+shop\s+skiff\.io\/cluster=prod,team=shop$/);
  });

  it.each([
    [0, '0s'],
    [59_000, '59s'],
    [60_000, '1m'],
    [3_599_000, '59m'],
    [3_600_000, '1h'],
    [DAY - 1000, '23h'],
    [DAY, '1d'],
    [364 * DAY, '364d'],
    [365 * DAY, '1y'],
    [-1500, '0s'],
    [-2000, '<invalid>'],
  ])("shortHumanDuration(%d ms) is Kubernetes' %s", (ms, text) => {
    expect(shortHumanDuration(ms)).toBe(text);
  });

  it.each([
    [undefined, 'n/a'],
    [new Date(NOW.getTime() + 30 * DAY), '30d'],
    [new Date(NOW.getTime() - 5 * 3_600_000), '5h ago'],
  ])('EXPIRES of %s is %s', (when, text) => {
    expect(humanReadableTimeFromNow(when, NOW)).toBe(text);
  });
});

describe('Function: backupRequestFromFlags', () => {
  it.each([
    [{ cluster: 'c', selector: 'app in (a,b),!old' }, { cluster: 'c', labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }, { key: 'old', operator: 'DoesNotExist' }] } }],
    [{ cluster: 'c', orSelector: 'a=1 or b=2' }, { cluster: 'c', orLabelSelectors: [{ matchLabels: { a: '1' } }, { matchLabels: { b: '2' } }] }],
    [{ cluster: 'c', labels: 'team=x,env=prod', annotations: 'note=a=b' }, { cluster: 'c', labels: { team: 'x', env: 'prod' }, annotations: { note: 'a=b' } }],
    [{ cluster: 'c', snapshotVolumes: false, includeClusterResources: true }, { cluster: 'c', snapshotVolumes: false, includeClusterResources: true }],
    [{ cluster: 'c', csiSnapshotTimeout: '20m', itemOperationTimeout: '1h' }, { cluster: 'c', csiSnapshotTimeout: '20m', itemOperationTimeout: '1h' }],
    [{ fromSchedule: 'nightly' }, { fromSchedule: 'nightly' }],
    [{ cluster: 'c', includeClusterScopedResources: 'storageclasses', excludeNamespaceScopedResources: 'secrets' }, { cluster: 'c', includedClusterScopedResources: ['storageclasses'], excludedNamespaceScopedResources: ['secrets'] }],
  ])('turns %j into the request %j', (flags, request) => {
    expect(backupRequestFromFlags(undefined, flags)).toEqual(request);
  });

  it.each([
    [{ selector: 'a=1', orSelector: 'b=2' }, 'not both'],
    [{ labels: 'novalue' }, '--labels'],
    [{ orderedResources: 'pods' }, '--ordered-resources'],
    [{ selector: 'a in (' }, '--selector'],
  ])('refuses %j naming the flag', (flags, message) => {
    expect(() => backupRequestFromFlags('b', flags)).toThrow(message);
  });

  it('reads --ordered-resources as velero does', () => {
    expect(orderedResources('pods=ns1/a,ns1/b; persistentvolumes=pv1')).toEqual({ pods: 'ns1/a,ns1/b', persistentvolumes: 'pv1' });
  });
});
