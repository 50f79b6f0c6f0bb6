/** The object store: one location's backups (BackupStore), its keys, and its client. */
export { createBackupStore, deleteBatches, type BackupStore, type ObjectInfo, type ProgressSnapshot, type PutObjectOptions } from './backup-store';
export { objectStoreLayout, TOP_LEVEL_DIRS, type ObjectStoreLayout, type TopLevelDir } from './layout';
export { MAX_KEYS_PER_REQUEST, MAX_PARTS, MIN_PART_SIZE } from './limits';
export {
  MultipartUploads,
  partListIssues,
  type MultipartState,
  type UploadedPart,
} from './multipart';
export { checksumModeFor, createS3Client, type ChecksumMode, type S3RequestCounter, type StoreClient } from './s3-client';
export { readSkippedSlots, recordSkippedSlot, MAX_SKIPPED_SLOTS, type SkippedSlot } from './skipped-slots';
