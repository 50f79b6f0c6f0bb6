/**
 * When the client sends a request again, as pure decisions.
 *
 * A retry is only safe when sending the request twice cannot do more than sending it
 * once. client-go draws the same line (k8s.io/client-go/rest/request.go): it retries
 * any verb on 429 (and on 5xx that carry Retry-After), but a broken connection only
 * for GET, since writes are not idempotent. Skiff's requests are mostly reads and
 * merge patches, so it retries a little more than client-go, and a little less for
 * creates:
 *
 * - GET reads; PUT replaces the object with the same body, so a second PUT leaves it
 *   as the first did (with a resourceVersion it is refused as a 409 Conflict instead,
 *   which callers already treat as "read it again"); DELETE of something deleted is a
 *   404, which callers treat as gone. Merge patches (RFC 7386) and strategic merge
 *   patches set fields, merge lists by key and delete by key: applying one twice gives
 *   the object applying it once gives. These are retried on throttling, on the 5xx
 *   codes a server or proxy in front of it gives for a passing fault, and on a broken
 *   connection.
 * - POST is not: a create the server applied but whose answer was lost (a proxy's
 *   502/503/504, a reset connection) creates a second object when sent again, and
 *   with `metadata.generateName` that second object has another name, so nothing
 *   refuses it (the duplicate VolumeSnapshot, whose storage snapshot nothing deletes).
 *   JSON patches (RFC 6902) are not either: `add` to `/items/-` appends once per try.
 *   Both are retried only when the server provably did nothing: a 429 (the API
 *   server's priority and fairness filter, and its max-in-flight limit, reject a
 *   request before any handler runs) or a connection that failed before any byte of
 *   the request left. Any other failure after sending is ambiguous, and surfaces as
 *   such (KubeAmbiguousWriteError).
 */

/** How one attempt of a request ended, when it did not succeed. */
export type AttemptFailure =
  /** The server answered with this HTTP status (300 or more). */
  | { kind: 'answered'; status: number }
  /** The connection failed before the request was sent: DNS, TCP connect, TLS handshake. */
  | { kind: 'unsent' }
  /** The server's TLS certificate was refused: a configuration problem, no passing one. */
  | { kind: 'untrusted' }
  /** The connection broke after the request may have reached the server (reset, closed, mid-answer). */
  | { kind: 'lost' }
  /** No answer within the request timeout; `sent` unless the connection was never up. */
  | { kind: 'timed-out'; sent: boolean };

/**
 * What to do after a failed attempt: send again (after a backoff), give up with the
 * error the failure stands for, or give up saying the server may have applied it.
 */
export type RetryVerdict = 'retry' | 'fail' | 'ambiguous';

/** How many times one request is sent at most, first try included. */
export const MAX_ATTEMPTS = 5;

/** 5xx codes that proxies and API servers give for a passing fault (and that were always retried). */
const TRANSIENT_SERVER_ERRORS = new Set([500, 502, 503, 504]);

/** The request's method and content type, which is all idempotency depends on. */
export interface RequestKind {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  contentType?: string;
}

/** Whether sending `request` twice leaves the cluster as sending it once does (see above). */
export function isIdempotent(request: RequestKind): boolean {
  switch (request.method) {
    case 'GET':
    case 'PUT':
    case 'DELETE':
      return true;
    case 'PATCH':
      return request.contentType !== 'application/json-patch+json';
    case 'POST':
      return false;
  }
}

/**
 * Decides what follows a failed attempt (1-based `attempt`, of `maxAttempts` in all) of `request`.
 *
 * A timeout is never retried, for reads neither: a server that takes the whole
 * timeout (60 s) to not answer would take minutes over several tries, longer than an
 * invocation can wait; the caller's own retry (the next poll, the next run) is the
 * better place. A refused certificate will not change between tries.
 */
export function retryVerdict(request: RequestKind, failure: AttemptFailure, attempt: number, maxAttempts = MAX_ATTEMPTS): RetryVerdict {
  const again: RetryVerdict = attempt < maxAttempts ? 'retry' : 'fail';
  const idempotent = isIdempotent(request);
  switch (failure.kind) {
    case 'answered':
      if (failure.status === 429) return again;
      if (idempotent) return TRANSIENT_SERVER_ERRORS.has(failure.status) ? again : 'fail';
      // Any 5xx of a write may come after the write was stored (a 504 from the API
      // server's own timeout filter while the handler goes on, a proxy's 502 after it).
      return failure.status >= 500 ? 'ambiguous' : 'fail';
    case 'unsent':
      return again;
    case 'untrusted':
      return 'fail';
    case 'lost':
      return idempotent ? again : 'ambiguous';
    case 'timed-out':
      return idempotent || !failure.sent ? 'fail' : 'ambiguous';
  }
}

/**
 * How long to wait before the next attempt, in milliseconds: the server's Retry-After
 * (seconds, capped at 30 s) when it gave one, else 400 ms doubling per attempt up to
 * 5 s.
 */
export function retryDelayMs(retryAfter: string | undefined, attempt: number): number {
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds > 0) return Math.min(seconds, 30) * 1000;
  return Math.min(200 * 2 ** attempt, 5000);
}
