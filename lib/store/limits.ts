/**
 * S3's documented limits that shape how Skiff writes and deletes objects. They hold for
 * AWS S3 and for the S3-compatible stores Skiff supports (MinIO, Ceph RGW).
 */

/** Smallest allowed multipart part, except the last part of an upload. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** Part numbers run from 1 to this. */
export const MAX_PARTS = 10_000;
/** Most keys one ListObjectsV2 page returns, and most keys one DeleteObjects request takes. */
export const MAX_KEYS_PER_REQUEST = 1000;
