import { describe, expect, it } from 'vitest';
import { authenticate, signBody, signatureOf } from '../../../lib/http/auth';
import { AuthenticationError, ForbiddenError } from '../../../lib/core/errors';

const credentials = { bearerTokens: ['token-a', 'token-b'], hmacSecret: 'hmac-secret' };
const NOW = new Date('2026-11-25T05:00:00Z');
const nowSeconds = String(NOW.getTime() / 1000);
const body = '{"cluster":"alpha"}';

function signedScheme(timestamp: string, secret = 'hmac-secret', signedBody = body): string {
  return `Skiff-Signature t=${timestamp},sig=${signBody(secret, timestamp, signedBody)}`;
}

function check(headers: Record<string, string>, requestBody = body, method = 'POST'): void {
  authenticate({ headers, body: requestBody, requestContext: { http: { method } } }, credentials, NOW);
}

describe('Function: authenticate', () => {
  it.each([
    ['a configured bearer token', { Authorization: 'Bearer token-b' }],
    ['a signature in the Authorization header', { authorization: signedScheme(nowSeconds) }],
    ['a signature in the x-skiff headers', { 'x-skiff-timestamp': nowSeconds, 'x-skiff-signature': signBody('hmac-secret', nowSeconds, body) }],
  ])('accepts %s', (_what, headers) => {
    expect(() => check(headers)).not.toThrow();
  });

  it.each([
    ['no credentials', {}, /authentication required.*Bearer.*Skiff-Signature/],
    ['a wrong bearer token', { authorization: 'Bearer token-c' }, /neither a valid bearer token nor a Skiff-Signature/],
    ['a malformed signature scheme', { authorization: 'Skiff-Signature t=1' }, /neither a valid bearer token nor a Skiff-Signature/],
    ['a signature made with another secret', { authorization: signedScheme(nowSeconds, 'other-secret') }, /does not match the body/],
    ['a signature of another body', { authorization: signedScheme(nowSeconds, 'hmac-secret', '{}') }, /does not match the body/],
    ['a timestamp six minutes old', { authorization: signedScheme(String(Number(nowSeconds) - 360)) }, /within 5 minutes/],
    ['x-skiff-signature without a timestamp', { 'x-skiff-signature': signBody('hmac-secret', nowSeconds, body) }, /within 5 minutes/],
  ])('refuses %s with 401 and says why', (_what, headers, reason) => {
    let thrown: unknown;
    try {
      check(headers);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AuthenticationError);
    expect((thrown as Error).message).toMatch(reason);
    // The credentials themselves are never repeated back.
    expect((thrown as Error).message).not.toMatch(/token-c|other-secret|hmac-secret/);
  });

  it.each([
    ['GET', 'a signature in the Authorization header', { authorization: signedScheme(nowSeconds) }],
    ['GET', 'a signature in the x-skiff headers', { 'x-skiff-timestamp': nowSeconds, 'x-skiff-signature': signBody('hmac-secret', nowSeconds, body) }],
    ['DELETE', 'a signature in the Authorization header', { authorization: signedScheme(nowSeconds) }],
    ['PUT', 'a signature in the Authorization header', { authorization: signedScheme(nowSeconds) }],
    ['', 'a signature on an event without a method', { authorization: signedScheme(nowSeconds) }],
  ])('refuses a valid signature on %s (%s) with 403: signed calls only create', (method, _what, headers) => {
    let thrown: unknown;
    try {
      check(headers, body, method);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ForbiddenError);
    expect((thrown as ForbiddenError).status).toBe(403);
    expect((thrown as Error).message).toMatch(/may only create \(POST .*Bearer <token>/);
    expect((thrown as Error).message).not.toContain('hmac-secret');
  });

  it.each([
    ['GET', 'Bearer token-a'],
    ['DELETE', 'Bearer token-b'],
    ['POST', 'Bearer token-a'],
  ])('accepts a bearer token on %s', (method, authorization) => {
    expect(() => check({ authorization }, '', method)).not.toThrow();
  });

  it('refuses signed calls when no HMAC secret is configured', () => {
    expect(() => authenticate({ headers: { authorization: signedScheme(nowSeconds) }, body, requestContext: { http: { method: 'POST' } } }, { bearerTokens: [] }, NOW)).toThrow(
      /signed requests are not enabled/,
    );
  });
});

describe('Function: signatureOf', () => {
  it('reads the scheme case-insensitively and prefers it to the x-skiff headers', () => {
    expect(signatureOf({ AUTHORIZATION: 'skiff-signature t=12, sig=sha256=ab01' , 'x-skiff-timestamp': '99', 'x-skiff-signature': 'sha256=ff' })).toEqual({
      timestamp: '12',
      signature: 'sha256=ab01',
    });
  });

  it('finds nothing in a bearer token', () => {
    expect(signatureOf({ authorization: 'Bearer token-a' })).toBeUndefined();
  });
});
