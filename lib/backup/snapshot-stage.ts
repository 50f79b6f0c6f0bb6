import type { KubeObject } from '../kube/list-all';
import { volumeSnapshotBackupItem, volumeSnapshotContentBackupItem } from '../csi/backup-items';
import { takeCsiSnapshots } from './csi-snapshots';
import type { SnapshotStageResult } from './progress-record';
import { mergeResult } from '../velero/results';
import type { SnapshotTaker } from './run-backup';
import { readVolumePolicies } from './volume-policies';

/**
 * The backup's snapshot stage: its volume policies (volume-policies.ts), the CSI
 * snapshots of its PVCs (lib/backup/csi-snapshots.ts),
 * their warnings and errors merged into the backup's results, and the objects the
 * tarball and the CSI lists need.
 */
export const takeSnapshotsForBackup: SnapshotTaker = async ({ client, record, pvcs, log, onProgress, shouldPause }) => {
  const { metadata, spec } = record.backup;
  const volumePolicies = await readVolumePolicies(client, record.backup);
  log.info('taking CSI snapshots', { pvcs: pvcs.length, ...(volumePolicies ? { volumePolicies: volumePolicies.source } : {}) });
  const result = await takeCsiSnapshots({
    client,
    ...(volumePolicies ? { volumePolicies } : {}),
    backup: { name: metadata.name, ...(metadata.annotations ? { annotations: metadata.annotations } : {}), spec },
    pvcs: pvcs as Parameters<typeof takeCsiSnapshots>[0]['pvcs'],
    onProgress: (progress) => onProgress({ ...progress }),
    shouldPause,
  });
  if (result === 'paused') return 'paused';
  mergeResult(record.results.errors, result.results.errors);
  mergeResult(record.results.warnings, result.results.warnings);
  const pvcAdditions: SnapshotStageResult['pvcAdditions'] = {};
  for (const outcome of result.outcomes) {
    const pvc = `${outcome.pvc.namespace}/${outcome.pvc.name}`;
    if (outcome.kind === 'completed') {
      pvcAdditions[pvc] = outcome.pvcAdditions;
      log.info('snapshot ready', { pvc, volumeSnapshot: outcome.volumeSnapshot.metadata.name, driver: outcome.driver });
    } else if (outcome.kind === 'failed') {
      log.error(`snapshot of ${pvc} failed: ${outcome.message}`);
    } else if (outcome.warning) {
      log.warn(`snapshot of ${pvc} skipped: ${outcome.warning}`);
    } else if (outcome.detail) {
      log.info(`snapshot of ${pvc} ${outcome.detail}`);
    }
  }
  return {
    volumeSnapshots: result.volumeSnapshots,
    volumeSnapshotContents: result.volumeSnapshotContents,
    volumeSnapshotClasses: result.volumeSnapshotClasses,
    tarballItems: [
      ...result.volumeSnapshotClasses,
      ...result.volumeSnapshotContents.map(volumeSnapshotContentBackupItem),
      ...result.volumeSnapshots.map(volumeSnapshotBackupItem),
    ],
    pvcAdditions,
    volumeInfos: result.volumeInfos,
    attempted: result.attempted,
    completed: result.completed,
    relatedPersistentVolumes: pvcs
      .map((pvc: KubeObject) => (pvc.spec as { volumeName?: string } | undefined)?.volumeName)
      .filter((name): name is string => !!name),
  };
};
