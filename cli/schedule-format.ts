import { shortHumanDuration } from './backup-table';
import { formatLabelSelector } from '../lib/velero/label-selector';
import type { ScheduleView } from '../lib/schedule/view';
import type { BackupSpec } from '../lib/velero/backup';

/**
 * `skiff schedule get|describe` output, after Velero's schedule printer and describer
 * (pkg/cmd/util/output/schedule_printer.go, schedule_describer.go). Pure: `now` is
 * passed in, so relative times ("5m ago", "in 3h") are testable.
 */

/**
 * `velero schedule get`'s columns, without CREATED (a configured schedule has no
 * creation time) and with CLUSTER, TIME ZONE, the last backup's PHASE and NEXT RUN.
 */
export function scheduleTable(schedules: readonly ScheduleView[], now: Date): string {
  const rows = [
    ['NAME', 'STATUS', 'CLUSTER', 'SCHEDULE', 'TIME ZONE', 'BACKUP TTL', 'LAST BACKUP', 'PHASE', 'NEXT RUN', 'SELECTOR', 'PAUSED'],
    ...schedules.map((s) => [
      s.metadata.name,
      s.status.phase,
      s.metadata.labels['skiff.io/cluster'] ?? '',
      s.spec.schedule,
      s.spec.timeZone,
      s.spec.template.ttl ?? '',
      s.status.unreadableStorageLocations ? 'unknown' : timeFromNow(s.status.lastBackup, now),
      s.status.lastBackupPhase ?? '',
      nextRunCell(s, now),
      formatLabelSelector(s.spec.template.labelSelector),
      String(s.spec.paused),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('   ').trimEnd()).join('\n');
}

/** `velero schedule describe`'s layout, with the Skiff lines (zone, last backup's name and phase, next run) after Velero's. */
export function describeSchedule(s: ScheduleView, now: Date): string {
  const labels = Object.entries(s.metadata.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '<none>';
  const blocks: string[][] = [
    aligned([['Name:', s.metadata.name], ['Namespace:', s.metadata.namespace], ['Labels:', labels], ['Annotations:', '<none>']]),
    aligned([['Phase:', s.status.phase]]),
    ...(s.status.validationErrors ? [['Validation errors:', ...s.status.validationErrors.map((e) => `  ${e}`)]] : []),
    aligned([['Paused:', String(s.spec.paused)]]),
    aligned([['Schedule:', s.spec.schedule], ['Time zone:', s.spec.timeZone]]),
    ['Backup Template:', ...templateLines(s.spec.template).map((line) => (line ? `  ${line}` : line))],
    aligned([
      ['Last Backup:', lastBackupText(s, now)],
      ['Last Backup Name:', s.status.lastBackupName ?? '<none>'],
      ['Last Backup Phase:', s.status.lastBackupPhase ?? '<none>'],
      ['Last Skipped:', s.status.lastSkipped ?? '<never>'],
      ['Next Run:', nextRunCell(s, now)],
      ['Keep Last:', s.spec.keepLast === undefined ? '<none>' : String(s.spec.keepLast)],
      ['Readiness:', s.spec.readiness],
    ]),
  ];
  return blocks.map((block) => block.join('\n')).join('\n\n');
}

/** Velero's DescribeBackupSpec, for the fields a Skiff backup honours. */
function templateLines(t: BackupSpec): string[] {
  const list = (values: readonly string[] | undefined, empty: string) => (values?.length ? values.join(', ') : empty);
  const resources = usesScopedFilters(t)
    ? [
        ['Included cluster-scoped:', list(t.includedClusterScopedResources, '<none>')],
        ['Excluded cluster-scoped:', list(t.excludedClusterScopedResources, '<none>')],
        ['Included namespace-scoped:', list(t.includedNamespaceScopedResources, '*')],
        ['Excluded namespace-scoped:', list(t.excludedNamespaceScopedResources, '<none>')],
      ]
    : [
        ['Included:', list(t.includedResources, '*')],
        ['Excluded:', list(t.excludedResources, '<none>')],
        ['Cluster-scoped:', t.includeClusterResources === undefined ? 'auto' : t.includeClusterResources ? 'included' : 'excluded'],
      ];
  const orSelectors = t.orLabelSelectors?.length ? t.orLabelSelectors.map(formatLabelSelector).join(' or ') : '<none>';
  return [
    'Namespaces:',
    ...indent(aligned([['Included:', list(t.includedNamespaces, '*')], ['Excluded:', list(t.excludedNamespaces, '<none>')]])),
    '',
    'Resources:',
    ...indent(aligned(resources as [string, string][])),
    '',
    ...aligned([['Label selector:', formatLabelSelector(t.labelSelector)]]),
    '',
    ...aligned([['Or label selector:', orSelectors]]),
    '',
    ...aligned([['Storage Location:', t.storageLocation ?? '']]),
    '',
    ...aligned([['Snapshot PVs:', t.snapshotVolumes === undefined ? 'auto' : String(t.snapshotVolumes)]]),
    '',
    ...aligned([['TTL:', t.ttl ?? '']]),
    '',
    ...aligned([['CSISnapshotTimeout:', t.csiSnapshotTimeout ?? ''], ['ItemOperationTimeout:', t.itemOperationTimeout ?? '']]),
    '',
    ...aligned([['Hooks:', t.hooks?.resources?.length ? t.hooks.resources.map((h) => h.name).join(', ') : '<none>']]),
  ];
}

function usesScopedFilters(t: BackupSpec): boolean {
  return [t.includedClusterScopedResources, t.excludedClusterScopedResources, t.includedNamespaceScopedResources, t.excludedNamespaceScopedResources].some(
    (l) => (l?.length ?? 0) > 0,
  );
}

/** Key-value lines with the values in one column, as Velero's tabwriter lays them out. */
function aligned(pairs: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${k.padEnd(width)}${v}`);
}

function indent(lines: string[]): string[] {
  return lines.map((line) => `  ${line}`);
}

function lastBackupText(s: ScheduleView, now: Date): string {
  const unreadable = s.status.unreadableStorageLocations;
  const known = s.status.lastBackup ? `${s.status.lastBackup} (${timeFromNow(s.status.lastBackup, now)})` : '<never>';
  return unreadable ? `${known}; unknown whether newer: storage location ${unreadable.join(', ')} could not be read` : known;
}

function nextRunCell(s: ScheduleView, now: Date): string {
  if (s.spec.paused) return '<paused>';
  if (!s.status.nextRun) return s.status.phase === 'FailedValidation' ? '<invalid>' : '<never>';
  return `${s.status.nextRun} (${timeFromNow(s.status.nextRun, now)})`;
}

/**
 * Velero's humanReadableTimeFromNow with apimachinery's ShortHumanDuration: "n/a" for
 * no time, "5m ago", "in 3h" (seconds under a minute, then minutes, hours, days, years).
 */
export function timeFromNow(time: string | undefined, now: Date): string {
  if (!time) return 'n/a';
  const ms = Date.parse(time) - now.getTime();
  return ms >= 0 ? `in ${shortHumanDuration(ms)}` : `${shortHumanDuration(-ms)} ago`;
}


