import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { resolveSecret, type SecretSources, type StorageLocationConfig } from '../config';

/**
 * Builds the S3 client of one storage location, counting the requests it sends so that
 * benchmarks (and tests) can report S3 requests by operation.
 */

export type ChecksumMode = 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';

/**
 * The SDK's checksum behaviour for a location. Newer SDKs send CRC32 checksums and
 * aws-chunked bodies by default, which many S3-compatible servers mishandle (some store
 * the chunk framing as data), so a custom endpoint gets checksums only where S3 requires
 * them unless the location says otherwise.
 */
export function checksumModeFor(location: Pick<StorageLocationConfig, 'checksumMode' | 'endpoint'>): ChecksumMode {
  return location.checksumMode ?? (location.endpoint ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED');
}

/** One request as sent: its S3 operation and the key it names (none for bucket-wide ones). */
export interface S3RequestRecord {
  operation: string;
  key?: string;
}

/** Most requests `log()` keeps; older ones are dropped so a long-lived client stays small. */
const MAX_LOGGED_REQUESTS = 10_000;

/** Requests sent by one client, by S3 operation (`ListObjectsV2`, `PutObject`, `UploadPart`, ...). */
export interface S3RequestCounter {
  /** Count of each operation sent so far; retries count as requests. */
  byOperation(): Record<string, number>;
  /** Count of one operation (0 when never sent). */
  count(operation: string): number;
  /** All requests sent so far. */
  total(): number;
  /** The latest requests in the order they were sent (at most 10,000), e.g. to check write order. */
  log(): S3RequestRecord[];
  /** Starts counting from zero, e.g. before the part of a benchmark being measured. */
  reset(): void;
}

/** An S3 client with its request counter. */
export interface StoreClient {
  readonly s3: S3Client;
  readonly requests: S3RequestCounter;
}

/**
 * Adds a counting middleware to `client`. It sits in the deserialize step, below the
 * retry middleware, so each HTTP attempt counts once: what a bill or a rate limit sees.
 */
function countRequests(client: S3Client): S3RequestCounter {
  const counts = new Map<string, number>();
  let sent: S3RequestRecord[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
      const key = (args.input as { Key?: unknown } | undefined)?.Key;
      sent.push(typeof key === 'string' ? { operation, key } : { operation });
      if (sent.length > MAX_LOGGED_REQUESTS) sent = sent.slice(-MAX_LOGGED_REQUESTS / 2);
      return next(args);
    },
    { step: 'deserialize', name: 'skiffRequestCounter' },
  );
  return {
    byOperation: () => Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b))),
    count: (operation) => counts.get(operation) ?? 0,
    total: () => [...counts.values()].reduce((sum, n) => sum + n, 0),
    log: () => [...sent],
    reset: () => {
      counts.clear();
      sent = [];
    },
  };
}

/**
 * Resolves the location's configured secrets on the first request, not at construction,
 * so building a client never fails or waits; the result is kept for the life of the
 * client (a Lambda container), and a failed resolution is retried on the next request.
 */
function credentialsOf(
  credentials: NonNullable<StorageLocationConfig['credentials']>,
  sources: SecretSources,
): NonNullable<S3ClientConfig['credentials']> {
  let resolved: Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }> | undefined;
  const resolve = async () => {
    const [accessKeyId, secretAccessKey, sessionToken] = await Promise.all([
      resolveSecret(credentials.accessKeyId, sources),
      resolveSecret(credentials.secretAccessKey, sources),
      credentials.sessionToken ? resolveSecret(credentials.sessionToken, sources) : undefined,
    ]);
    return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
  };
  return () => {
    resolved ??= resolve().catch((error: unknown) => {
      resolved = undefined;
      throw error;
    });
    return resolved;
  };
}

/**
 * How long an S3 request may wait, in ms: to connect, and without a byte moving on its
 * socket (@smithy/node-http-handler's socketTimeout; its requestTimeout bounds a whole
 * request, which a long streaming upload must not have).
 */
export interface S3Timeouts {
  connectionTimeout: number;
  socketTimeout: number;
}

/**
 * The SDK waits forever by default: a store that accepts a connection and never answers
 * would hold a run until its function's 15-minute limit. A request silent this long is
 * failed (and retried by the SDK, as timeouts are transient); streaming uploads and
 * downloads keep bytes moving, and S3 keeps even a long CompleteMultipartUpload alive.
 */
export const DEFAULT_S3_TIMEOUTS: S3Timeouts = { connectionTimeout: 10_000, socketTimeout: 120_000 };

/**
 * Creates the S3 client for `location`: its region, endpoint and path style, its
 * credentials (or the default AWS chain, e.g. the Lambda role, when it names none), its
 * checksum mode (see checksumModeFor) and its timeouts. Build one per location at cold start.
 */
export function createS3Client(location: StorageLocationConfig, sources: SecretSources = {}, timeouts: S3Timeouts = DEFAULT_S3_TIMEOUTS): StoreClient {
  const checksums = checksumModeFor(location);
  const s3 = new S3Client({
    requestHandler: { connectionTimeout: timeouts.connectionTimeout, socketTimeout: timeouts.socketTimeout },
    region: location.region,
    ...(location.endpoint ? { endpoint: location.endpoint } : {}),
    forcePathStyle: location.forcePathStyle,
    ...(location.credentials ? { credentials: credentialsOf(location.credentials, sources) } : {}),
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
  });
  return { s3, requests: countRequests(s3) };
}
