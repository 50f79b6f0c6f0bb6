import { checkHandle, type StorageBackupRecord } from '../csi/handles';
import type { VolumeSnapshotContent } from '../csi/snapshot-api';
import type { Finding } from './findings';

/**
 * Handle health: VolumeSnapshotContents whose snapshot handle does not match its
 * driver's format (the per-driver rules of lib/csi/handles.ts). A wrong handle restores
 * nothing elsewhere and, once deleted, leaves the storage system's backup orphaned
 * (Harvester #7539). Where the storage system's records name the right backup volume,
 * the finding gives the handle rediscovery repairs it to: a new content with that
 * handle, the wrong one retired with Retain (a content's source cannot be edited).
 */

/** The handle a content points at: the driver's answer, else the pre-provisioned source. */
export function contentHandle(content: Pick<VolumeSnapshotContent, 'spec' | 'status'>): string | undefined {
  return content.status?.snapshotHandle || content.spec.source?.snapshotHandle || undefined;
}

/**
 * One finding per bad content, a warning: the backups are there, but restoring or
 * expiring them through that content goes wrong. `records` are the storage system's
 * backups by name (undefined when they could not be read: only shapes are checked).
 */
export function handleFindings(
  contents: readonly Pick<VolumeSnapshotContent, 'metadata' | 'spec' | 'status'>[],
  records: ReadonlyMap<string, StorageBackupRecord> | undefined,
): Finding[] {
  const findings: Finding[] = [];
  for (const content of contents) {
    const handle = contentHandle(content);
    if (!handle) continue;
    const verdict = checkHandle(content.spec.driver, handle, records);
    if (verdict.kind === 'valid' || verdict.kind === 'unchecked') continue;
    const object = `VolumeSnapshotContent ${content.metadata.name} (handle ${handle})`;
    if (verdict.kind === 'malformed') {
      findings.push({
        check: 'handles',
        severity: 'warn',
        message: `snapshot handle "${handle}" of driver ${content.spec.driver} is malformed: ${verdict.reason}`,
        objects: [object],
        action:
          'restores from this content will fail and rediscovery cannot repair it; find the storage backup it stands for and ' +
          'create a content with the right handle, keeping this one (deletionPolicy Retain) until then',
      });
      continue;
    }
    findings.push({
      check: 'handles',
      severity: 'warn',
      message: `snapshot handle "${handle}" of driver ${content.spec.driver} is wrong: ${verdict.reason}`,
      objects: [object],
      action: verdict.repair
        ? `rediscovery (sync) repairs it: a new content with handle ${verdict.repair}, this one retired with deletionPolicy Retain`
        : 'the storage system has no record that confirms the backup volume; find the backup in the storage system and create a content with its bak:// handle',
    });
  }
  return findings;
}
