import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS, isIdempotent, retryDelayMs, retryVerdict, type AttemptFailure, type RequestKind, type RetryVerdict } from '../../../lib/kube/retry';

const GET: RequestKind = { method: 'GET' };
const POST: RequestKind = { method: 'POST' };
const MERGE_PATCH: RequestKind = { method: 'PATCH', contentType: 'application/merge-patch+json' };
const JSON_PATCH: RequestKind = { method: 'PATCH', contentType: 'application/json-patch+json' };

describe('Function: isIdempotent', () => {
  it.each<[RequestKind, boolean]>([
    [GET, true],
    [{ method: 'PUT' }, true],
    [{ method: 'DELETE' }, true],
    [MERGE_PATCH, true],
    [{ method: 'PATCH', contentType: 'application/strategic-merge-patch+json' }, true],
    [JSON_PATCH, false],
    [POST, false],
  ])('%o -> %s', (request, expected) => {
    expect(isIdempotent(request)).toBe(expected);
  });
});

describe('Function: retryVerdict', () => {
  it.each<[string, RetryVerdict, RequestKind, AttemptFailure, number]>([
    ['a throttled read', 'retry', GET, { kind: 'answered', status: 429 }, 1],
    ['a throttled create (APF rejects before any handler runs)', 'retry', POST, { kind: 'answered', status: 429 }, 1],
    ['a create throttled on its last attempt', 'fail', POST, { kind: 'answered', status: 429 }, MAX_ATTEMPTS],
    ['a read answered 503', 'retry', GET, { kind: 'answered', status: 503 }, 1],
    ['a merge patch answered 500', 'retry', MERGE_PATCH, { kind: 'answered', status: 500 }, 4],
    ['a read answered 503 on its last attempt', 'fail', GET, { kind: 'answered', status: 503 }, MAX_ATTEMPTS],
    ['a read answered 501', 'fail', GET, { kind: 'answered', status: 501 }, 1],
    ['a create answered 503', 'ambiguous', POST, { kind: 'answered', status: 503 }, 1],
    ['a create answered 504', 'ambiguous', POST, { kind: 'answered', status: 504 }, 1],
    ['a JSON patch answered 500', 'ambiguous', JSON_PATCH, { kind: 'answered', status: 500 }, 1],
    ['a create answered 409', 'fail', POST, { kind: 'answered', status: 409 }, 1],
    ['a create whose connection failed before sending', 'retry', POST, { kind: 'unsent' }, 1],
    ['a create whose connection failed before sending, on its last attempt', 'fail', POST, { kind: 'unsent' }, MAX_ATTEMPTS],
    ['a read whose connection failed before sending', 'retry', GET, { kind: 'unsent' }, 2],
    ['a read to a server with a refused certificate', 'fail', GET, { kind: 'untrusted' }, 1],
    ['a read whose connection broke', 'retry', GET, { kind: 'lost' }, 1],
    ['a create whose connection broke after sending', 'ambiguous', POST, { kind: 'lost' }, 1],
    ['a JSON patch whose connection broke after sending', 'ambiguous', JSON_PATCH, { kind: 'lost' }, 1],
    ['a read that timed out', 'fail', GET, { kind: 'timed-out', sent: true }, 1],
    ['a create that timed out after sending', 'ambiguous', POST, { kind: 'timed-out', sent: true }, 1],
    ['a create that timed out connecting', 'fail', POST, { kind: 'timed-out', sent: false }, 1],
  ])('%s -> %s', (_case, expected, request, failure, attempt) => {
    expect(retryVerdict(request, failure, attempt)).toBe(expected);
  });
});

describe('Function: retryDelayMs', () => {
  it.each<[string | undefined, number, number]>([
    [undefined, 1, 400],
    [undefined, 3, 1600],
    [undefined, 10, 5000],
    ['2', 1, 2000],
    ['120', 1, 30_000],
    ['soon', 2, 800],
  ])('Retry-After %s on attempt %i -> %i ms', (retryAfter, attempt, expected) => {
    expect(retryDelayMs(retryAfter, attempt)).toBe(expected);
  });
});
