import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StorageLocationConfig } from '../config';
import type { Clock } from '../core/clock';
import { ConflictError } from '../core/errors';
import { logger } from '../core/logger';
import { objectStoreLayout } from './layout';
import { createS3Client } from './s3-client';
import { isPreconditionFailed, storeError, type S3Operation, type StoreTarget } from './s3-errors';

/**
 * A live check of one storage location, reported like Velero's BackupStorageLocation
 * status (`phase` Available / Unavailable, `message`, `lastValidationTime`; Velero's
 * pkg/controller/backup_storage_location_controller.go validates a location by listing
 * it). Skiff goes further for a ReadWrite location: it writes, replaces and deletes a
 * small probe object, because its create-once writes (a backup name taken once, a slot
 * fired twice) and its run leases (one invocation owns a backup) stand on the store
 * honouring `If-None-Match: *` and `If-Match` on PutObject. A store that ignores them
 * lets two runs overwrite each other; such a location is refused for writing.
 */

export type LocationPhase = 'Available' | 'Unavailable';

/** Whether the store refused the two conditional writes that must fail (412), or let them through. */
export type ConditionalWrites = 'honoured' | 'ignored';

export interface LocationCheck {
  phase: LocationPhase;
  /** What is wrong and what to do; for an Available location, what was not checked. */
  message?: string;
  /** ReadWrite locations whose probe object could be written: what the store did with conditional writes. */
  conditionalWrites?: ConditionalWrites;
  /** Set when Skiff refuses to write to the location, saying why (the store ignores conditional writes). */
  writesRefused?: string;
  /** When the check ran (RFC 3339). */
  lastValidationTime: string;
}

/** What the two conditional writes over the probe object did. */
export interface ConditionalWriteOutcomes {
  /** `If-None-Match: *` over the existing probe object: must be refused (412). */
  createOverExisting: 'refused' | 'accepted';
  /** `If-Match` with an ETag the probe object does not have: must be refused (412). */
  replaceWithWrongEtag: 'refused' | 'accepted';
}

/**
 * The verdict on a store's conditional writes, and the reason writes are refused when
 * it ignores either of them (Skiff needs both: If-None-Match for create-once names and
 * progress records, If-Match for the run lease and the catalog).
 */
export function conditionalWritesVerdict(
  location: string,
  outcomes: ConditionalWriteOutcomes,
): { conditionalWrites: ConditionalWrites; writesRefused?: string } {
  const ignored = [
    ...(outcomes.createOverExisting === 'accepted' ? ['a PutObject with "If-None-Match: *" over an existing object succeeded'] : []),
    ...(outcomes.replaceWithWrongEtag === 'accepted' ? ['a PutObject with an "If-Match" ETag the object does not have succeeded'] : []),
  ];
  if (ignored.length === 0) return { conditionalWrites: 'honoured' };
  return {
    conditionalWrites: 'ignored',
    writesRefused:
      `storage location "${location}" is refused for writing: its object store ignores conditional writes (${ignored.join('; ')} — both must fail with 412), ` +
      'so two backup runs could overwrite each other; use a store that honours If-None-Match and If-Match on PutObject (AWS S3, a recent MinIO), ' +
      'or set the location\'s accessMode to ReadOnly to keep reading its backups',
  };
}

/** An ETag no object has: quoted hex, as S3 writes them. */
const WRONG_ETAG = '"00000000000000000000000000000000"';

class CheckFailed extends Error {}

/**
 * Checks `location` now: one LIST (reachable, bucket exists, credentials accepted); for
 * a ReadWrite location also a create-only PUT of a probe object under
 * metadata/skiff/write-probes/, the two conditional PUTs that must fail, and a DELETE of
 * the probe (always attempted, so no probe is left behind when the store can delete).
 * Never throws: every failure is an Unavailable phase with a message naming the
 * operation, the location and what to check, never a credential.
 */
export async function checkLocation(s3: S3Client, location: StorageLocationConfig, clock: Pick<Clock, 'now'>): Promise<LocationCheck> {
  const lastValidationTime = clock.now().toISOString();
  const target: StoreTarget = {
    location: location.name,
    bucket: location.bucket,
    region: location.region,
    ...(location.endpoint ? { endpoint: location.endpoint } : {}),
  };
  const send = async <T>(operation: S3Operation, key: string | undefined, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw new CheckFailed(storeError(target, operation, key, error).message);
    }
  };
  /** 'refused' when the conditional write lost with 412, 'accepted' when it was written. */
  const conditional = async (key: string, condition: { IfNoneMatch: string } | { IfMatch: string }): Promise<'refused' | 'accepted'> => {
    try {
      await s3.send(new PutObjectCommand({ Bucket: location.bucket, Key: key, Body: 'probe', ...condition }));
      return 'accepted';
    } catch (error) {
      if (isPreconditionFailed(error)) return 'refused';
      throw new CheckFailed(storeError(target, 'PutObject', key, error).message);
    }
  };

  const layout = objectStoreLayout(location.prefix ?? '');
  try {
    await send('ListObjectsV2', undefined, () => s3.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: layout.root, MaxKeys: 1 })));
  } catch (error) {
    return { phase: 'Unavailable', message: (error as Error).message, lastValidationTime };
  }
  if (location.accessMode === 'ReadOnly') {
    return { phase: 'Available', message: 'ReadOnly: readable; writes are not checked, as Skiff never writes here', lastValidationTime };
  }

  const key = layout.writeProbeKey(randomUUID());
  let written = false;
  try {
    await send('PutObject', key, () => s3.send(new PutObjectCommand({ Bucket: location.bucket, Key: key, Body: 'probe', IfNoneMatch: '*' })));
    written = true;
    const verdict = conditionalWritesVerdict(location.name, {
      createOverExisting: await conditional(key, { IfNoneMatch: '*' }),
      replaceWithWrongEtag: await conditional(key, { IfMatch: WRONG_ETAG }),
    });
    await send('DeleteObject', key, () => s3.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: key })));
    written = false;
    if (verdict.writesRefused) return { phase: 'Unavailable', message: verdict.writesRefused, ...verdict, lastValidationTime };
    return { phase: 'Available', conditionalWrites: verdict.conditionalWrites, lastValidationTime };
  } catch (error) {
    if (written) await s3.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: key })).catch(() => undefined);
    return { phase: 'Unavailable', message: (error as Error).message, lastValidationTime };
  }
}

/**
 * How long a conditional-write verdict is trusted before a backup run checks again: a
 * store does not change what it does with If-Match between two backups, and a backup
 * start should not pay four extra requests each time.
 */
export const WRITE_CHECK_MAX_AGE_MS = 5 * 60_000;

interface CachedVerdict {
  writesRefused: string | undefined;
  checkedAt: number;
}

/** Verdicts and S3 clients by location, for the life of the function instance (a cold start). */
const verdicts = new Map<string, CachedVerdict>();
const clients = new Map<string, S3Client>();

/** The same name may point elsewhere in another configuration (tests build several in one process). */
function identity(location: StorageLocationConfig): string {
  return JSON.stringify([location.name, location.bucket, location.prefix ?? '', location.endpoint ?? '', location.region]);
}

/**
 * Checks `location` now (see checkLocation) with the location's S3 client of this
 * instance, and remembers what it found about conditional writes, so that a backup run
 * in the same instance within WRITE_CHECK_MAX_AGE_MS need not probe again. A check that
 * never reached the conditional writes (the store could not be read or written) says
 * nothing about them and is not remembered. A refusal is logged each time it is found.
 */
export async function checkLocationNow(location: StorageLocationConfig, clock: Pick<Clock, 'now'>): Promise<LocationCheck> {
  const key = identity(location);
  let s3 = clients.get(key);
  if (!s3) {
    s3 = createS3Client(location).s3;
    clients.set(key, s3);
  }
  const now = clock.now();
  const check = await checkLocation(s3, location, clock);
  if (check.conditionalWrites !== undefined) verdicts.set(key, { writesRefused: check.writesRefused, checkedAt: now.getTime() });
  if (check.writesRefused) logger.error('storage location refused for writing', { storageLocation: location.name, reason: check.writesRefused });
  return check;
}

/**
 * Why Skiff must not write to `location`, or undefined when it may: the store ignores
 * conditional writes (see checkLocation). Checked at most once per
 * WRITE_CHECK_MAX_AGE_MS per function instance; a ReadOnly location is never probed
 * (every write to it is refused anyway), and a check that could not reach the store
 * answers undefined: the run that asked meets the same failure on its own writes and
 * says so there.
 */
export async function writeRefusal(location: StorageLocationConfig, clock: Pick<Clock, 'now'>): Promise<string | undefined> {
  if (location.accessMode === 'ReadOnly') return undefined;
  const cached = verdicts.get(identity(location));
  if (cached && clock.now().getTime() - cached.checkedAt < WRITE_CHECK_MAX_AGE_MS) return cached.writesRefused;
  return (await checkLocationNow(location, clock)).writesRefused;
}

/**
 * Throws ConflictError (409) with writeRefusal's reason when Skiff must not write to
 * `location`, and logs it; for every job that writes (backup, sync, expiry, restore).
 */
export async function assertWritable(location: StorageLocationConfig, clock: Pick<Clock, 'now'>): Promise<void> {
  const refusal = await writeRefusal(location, clock);
  if (!refusal) return;
  logger.error('storage location refused for writing', { storageLocation: location.name, reason: refusal });
  throw new ConflictError(refusal);
}
