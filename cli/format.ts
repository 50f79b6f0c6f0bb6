import type { Backup } from '../lib/velero/backup';
import { elapsedText, type RunProgress } from '../lib/backup/progress-view';
import type { SkippedSlot } from '../lib/store/skipped-slots';
import type { Restore } from '../lib/velero/restore';

/** Rows as columns padded to their widest cell, three spaces apart; the first row is the header. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('   ').trimEnd()).join('\n');
}

/** A one-line progress bar: `[#####.....]  512/1024 items`. */
export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(done).padStart(String(total).length)}/${total} items`;
}

/**
 * The CLI's progress line while a backup runs: phase, the stage in words and the time
 * it has been running, and a bar once resources are being written.
 */
export function progressLine(b: Backup): string {
  const progress = b.status.progress as Partial<RunProgress> | undefined;
  const phase = b.status.phase ?? 'New';
  if (progress?.message === undefined) return `${phase} ${progressBar(progress?.itemsBackedUp ?? 0, progress?.totalItems ?? 0)}`;
  const bar = progress.stage === 'Resources' ? ` ${progressBar(progress.itemsBackedUp ?? 0, progress.totalItems ?? 0)}` : '';
  return `${phase} [${elapsedText(progress.elapsedSeconds ?? 0)}] ${progress.message}${bar}`;
}

/** A schedule's slots that a readiness check kept from starting: one line each, the reasons below. */
export function skippedSlotsTable(slots: readonly SkippedSlot[]): string {
  const lines = ['SKIPPED SLOT (readiness: block)'];
  const width = Math.max(...slots.map((s) => s.backup.length));
  for (const slot of slots) {
    lines.push(`${slot.backup.padEnd(width)}   ${slot.slot}   cluster ${slot.cluster}`);
    for (const reason of slot.reasons) lines.push(`${' '.repeat(width + 3)}- ${reason}`);
  }
  return lines.join('\n');
}

/** `velero restore get`'s table: one line per restore. */
export function restoreTable(restores: readonly Restore[]): string {
  const rows = [
    ['NAME', 'BACKUP', 'STATUS', 'STARTED', 'COMPLETED', 'ERRORS', 'WARNINGS', 'CREATED'],
    ...restores.map((r) => [
      r.metadata.name,
      r.spec.backupName,
      r.status.phase,
      r.status.startTimestamp ?? '<nil>',
      r.status.completionTimestamp ?? '<nil>',
      String(r.status.errors ?? 0),
      String(r.status.warnings ?? 0),
      r.metadata.creationTimestamp,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('   ').trimEnd()).join('\n');
}

/** `velero restore describe`'s essentials, for people, with the warnings and errors per namespace. */
export function describeRestore(r: Restore & { results?: { errors: ResultLike; warnings: ResultLike } }): string {
  const s = r.status;
  const messages = (title: string, result: ResultLike | undefined) => {
    if (!result) return [];
    const lines = [...result.velero.map((m) => `  Velero:   ${m}`), ...result.cluster.map((m) => `  Cluster:  ${m}`)];
    for (const [namespace, list] of Object.entries(result.namespaces)) lines.push(...list.map((m) => `  ${namespace}:  ${m}`));
    return lines.length > 0 ? ['', `${title}:`, ...lines] : [];
  };
  return [
    `Name:         ${r.metadata.name}`,
    `Backup:       ${r.spec.backupName}`,
    `Phase:        ${s.phase}`,
    ...(s.failureReason ? [`Failure:      ${s.failureReason}`] : []),
    ...(s.validationErrors ?? []).map((m) => `Validation error: ${m}`),
    `Total items to be restored:  ${s.progress?.totalItems ?? 0}`,
    `Items restored:              ${s.progress?.itemsRestored ?? 0}`,
    `Started:      ${s.startTimestamp ?? '<n/a>'}`,
    `Completed:    ${s.completionTimestamp ?? '<n/a>'}`,
    `Namespace mappings: ${Object.entries(r.spec.namespaceMapping ?? {}).map(([a, b]) => `${a}:${b}`).join(', ') || '<none>'}`,
    `Existing resource policy: ${r.spec.existingResourcePolicy ?? 'none'}`,
    ...messages('Warnings', r.results?.warnings),
    ...messages('Errors', r.results?.errors),
  ].join('\n');
}

interface ResultLike {
  velero: string[];
  cluster: string[];
  namespaces: Record<string, string[]>;
}
