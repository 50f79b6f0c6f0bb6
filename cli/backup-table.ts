import type { Backup } from '../lib/velero/backup';
import { formatLabelSelector } from '../lib/velero/label-selector';
import { CLUSTER_LABEL } from '../lib/velero/labels';

/**
 * `velero backup get`'s table (velero pkg/cmd/util/output/backup_printer.go): NAME,
 * STATUS, ERRORS, WARNINGS, CREATED (the start time, as Go prints a time), EXPIRES
 * (relative to now, Kubernetes' short human duration), STORAGE LOCATION, SELECTOR, in
 * velero's order; then Skiff's CLUSTER; `wide` adds ITEMS and SNAPSHOTS; then a column
 * per `labelColumns` key (kubectl's -L) and LABELS with `showLabels`. Backups sorted as
 * velero sorts them: by name, and newest first within one schedule.
 */
export interface BackupTableOptions {
  now: Date;
  wide?: boolean;
  showLabels?: boolean;
  labelColumns?: readonly string[];
}

export function backupGetTable(backups: readonly Backup[], options: BackupTableOptions): string {
  const labelColumns = options.labelColumns ?? [];
  const header = ['NAME', 'STATUS', 'ERRORS', 'WARNINGS', 'CREATED', 'EXPIRES', 'STORAGE LOCATION', 'SELECTOR', 'CLUSTER'];
  if (options.wide) header.push('ITEMS', 'SNAPSHOTS');
  header.push(...labelColumns.map((key) => key.split('/').pop()!.toUpperCase()));
  if (options.showLabels) header.push('LABELS');
  const rows = sortedAsVelero(backups).map((b) => {
    const s = b.status;
    const row = [
      b.metadata.name,
      s.phase || 'New',
      String(s.errors ?? 0),
      String(s.warnings ?? 0),
      s.startTimestamp ? goTime(new Date(s.startTimestamp)) : '<nil>',
      humanReadableTimeFromNow(expirationOf(b), options.now),
      b.spec.storageLocation ?? '',
      formatLabelSelector(b.spec.labelSelector),
      b.metadata.labels?.[CLUSTER_LABEL] ?? '',
    ];
    if (options.wide) {
      row.push(`${s.progress?.itemsBackedUp ?? 0}/${s.progress?.totalItems ?? 0}`, `${s.csiVolumeSnapshotsCompleted ?? 0}/${s.csiVolumeSnapshotsAttempted ?? 0}`);
    }
    row.push(...labelColumns.map((key) => b.metadata.labels?.[key] ?? ''));
    if (options.showLabels) row.push(labelsText(b.metadata.labels));
    return row;
  });
  return kubeTable([header, ...rows]);
}

/**
 * Columns as Kubernetes' table printer writes them (a tabwriter with minimum width 6
 * and padding 3, k8s.io/cli-runtime printers.GetNewTabWriter): each cell padded to its column's widest cell plus 3, at least 6; the
 * last column unpadded.
 */
export function kubeTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(6, ...rows.map((r) => r[i]!.length + 3)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('').trimEnd()).join('\n');
}

/** `k=v,k2=v2` sorted by key, as kubectl --show-labels; `<none>` for none. */
export function labelsText(labels: Readonly<Record<string, string>> | undefined): string {
  const pairs = Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join(',') || '<none>';
}

const TIMESTAMP_SUFFIX = /-[0-9]{14}$/;

/** velero's sortBackupsByPrefixAndTimestamp: by name; within one prefix with a 14-digit timestamp, newest first. */
function sortedAsVelero(backups: readonly Backup[]): Backup[] {
  return [...backups].sort((x, y) => {
    const a = x.metadata.name;
    const b = y.metadata.name;
    const ai = TIMESTAMP_SUFFIX.exec(a)?.index;
    const bi = TIMESTAMP_SUFFIX.exec(b)?.index;
    if (ai === undefined || bi === undefined || a.slice(0, ai) !== b.slice(0, bi)) return a < b ? -1 : a > b ? 1 : 0;
    return a.slice(ai) > b.slice(bi) ? -1 : a.slice(ai) < b.slice(bi) ? 1 : 0;
  });
}

/** The expiration, else creation + TTL (velero's printBackup). */
function expirationOf(b: Backup): Date | undefined {
  if (b.status.expiration) return new Date(b.status.expiration);
  const ttl = b.spec.ttl ? goDurationMs(b.spec.ttl) : 0;
  if (ttl > 0 && b.metadata.creationTimestamp) return new Date(Date.parse(b.metadata.creationTimestamp) + ttl);
  return undefined;
}

function goDurationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/([0-9.]+)(ms|h|m|s)/g)) total += Number(n) * units[unit!]!;
  return total;
}

/** velero's humanReadableTimeFromNow: `29d`, `5h ago`, `n/a` without a time. */
export function humanReadableTimeFromNow(when: Date | undefined, now: Date): string {
  if (!when || Number.isNaN(when.getTime())) return 'n/a';
  const ms = when.getTime() - now.getTime();
  return ms >= 0 ? shortHumanDuration(ms) : `${shortHumanDuration(-ms)} ago`;
}

/** Kubernetes' duration.ShortHumanDuration (k8s.io/apimachinery pkg/util/duration). */
export function shortHumanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/**
 * A time as Go's time.Time.String() writes it in the local zone, as velero's CREATED
 * column shows it: `2026-01-02 15:04:05 +0100 CET` (the zone's short name as Node knows it).
 */
export function goTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const zoneOffset = `${sign}${pad(Math.trunc(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
  const zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? '';
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return `${day} ${time} ${zoneOffset} ${zone}`;
}
