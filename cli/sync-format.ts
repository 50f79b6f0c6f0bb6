import type { ClusterReport, LocationReport } from '../lib/sync/report';

/** Text for people of sync runs and reports; `-o json` prints the objects instead. */

function clusterLines(c: ClusterReport): string[] {
  if (c.failed) return [`  cluster ${c.cluster}: FAILED: ${c.failed}`];
  const lines = [
    `  cluster ${c.cluster} (mode ${c.mode}): ${c.created.length} created, ${c.alreadyThere.length} already there, ` +
      `${c.ready} ready, ${c.notReady.length} not ready, ${c.waiting} waiting for the next runs, ${c.planned.length} planned`,
  ];
  for (const r of c.repairs) lines.push(`    repaired ${r.content} (backup ${r.backup}): ${r.oldHandle} -> ${r.newHandle}`);
  for (const n of c.notReady) lines.push(`    not ready: ${n.content} (backup ${n.backup}): ${n.error}`);
  for (const d of c.driversMissing) lines.push(`    ${d.message}`);
  for (const w of c.wrongHandles) {
    lines.push(`    wrong handle: ${w.content} (backup ${w.backup}) has ${w.handle}: ${w.reason}${w.repair ? `; the right one is ${w.repair}` : ''}`);
  }
  for (const s of c.skipped) lines.push(`    skipped backup ${s.backup}: ${s.reason}`);
  for (const o of c.orphans) lines.push(`    orphan: ${o.content} is labelled for backup ${o.backup}, which exists in no location`);
  for (const p of c.problems) lines.push(`    ${p}`);
  return lines;
}

function locationLines(name: string, report: LocationReport | null | undefined, clusters: readonly ClusterReport[], warning?: string): string[] {
  const lines = [`storage location ${name}:`];
  if (warning) lines.push(`  WARNING: ${warning}`);
  if (!report) return [...lines, '  no sync has run yet'];
  if (report.failed) lines.push(`  FAILED at ${report.lastRun}: ${report.failed}`);
  else {
    lines.push(
      `  last run ${report.lastRun} (${report.durationMs} ms): ${report.found} backups, ${report.new.length} new, ${report.gone.length} gone` +
        (report.gone.length > 0 ? ` (${report.gone.join(', ')})` : ''),
    );
  }
  for (const s of report.skipped) lines.push(`  skipped ${s.backup}: ${s.reason}`);
  if (report.catalogDamaged) lines.push(`  the catalog was damaged and rebuilt: ${report.catalogDamaged}`);
  if (report.catalogNotWritten) lines.push(`  the catalog was not written: ${report.catalogNotWritten}`);
  for (const c of clusters) lines.push(...clusterLines(c));
  return lines;
}

export function syncRunText(result: { locations: { location: string; warning?: string; dryRun: boolean; report: LocationReport; clusters: ClusterReport[] }[] }): string {
  return result.locations
    .flatMap((l) => [...(l.dryRun ? ['(dry run: nothing was written)'] : []), ...locationLines(l.location, l.report, l.clusters, l.warning)])
    .join('\n');
}

export function syncReportText(report: { locations: { location: string; warning?: string; lastRun: LocationReport | null; clusters: ClusterReport[] }[] }): string {
  return report.locations.flatMap((l) => locationLines(l.location, l.lastRun, l.clusters, l.warning)).join('\n');
}
