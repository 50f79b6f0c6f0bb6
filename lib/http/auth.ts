import { createHmac, timingSafeEqual } from 'node:crypto';
import type middy from '@middy/core';
import { AuthenticationError } from '../errors';
import { resolveSecret, type ApiConfig } from '../config';

/** The API's credentials, resolved once per cold start. */
export interface ApiCredentials {
  bearerTokens: string[];
  hmacSecret?: string;
}

export async function resolveApiCredentials(api: ApiConfig): Promise<ApiCredentials> {
  const bearerTokens = await Promise.all(api.bearerTokens.map((t) => resolveSecret(t)));
  return {
    bearerTokens,
    ...(api.hmacSecret ? { hmacSecret: await resolveSecret(api.hmacSecret) } : {}),
  };
}

/** Headers of a signed webhook call: `sha256=<hex>` of `<timestamp>.<body>`. */
export const SIGNATURE_HEADER = 'x-skiff-signature';
export const TIMESTAMP_HEADER = 'x-skiff-timestamp';
/** A signed request older or newer than this is refused, so a captured one cannot be replayed later. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

interface HttpEventLike {
  headers?: Record<string, string | undefined>;
  body?: string | null;
  isBase64Encoded?: boolean;
}

/** The signature a caller computes for a webhook body; exported for clients and tests. */
export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Checks a request's credentials: `Authorization: Bearer <token>` against the
 * configured tokens, or an HMAC signature of the body. Throws AuthenticationError
 * (401) otherwise. Comparisons are constant-time.
 */
export function authenticate(event: HttpEventLike, credentials: ApiCredentials, now: Date): void {
  const headers = lowerCaseKeys(event.headers ?? {});
  if (headers.authorization) {
    if (authenticateBearer(headers, credentials)) return;
    throw new AuthenticationError('the bearer token is not valid');
  }
  const signature = headers[SIGNATURE_HEADER];
  if (signature) {
    if (!credentials.hmacSecret) throw new AuthenticationError('signed requests are not enabled (no api.hmacSecret configured)');
    const timestamp = headers[TIMESTAMP_HEADER] ?? '';
    const sentAt = Number(timestamp) * 1000;
    if (!Number.isFinite(sentAt) || Math.abs(now.getTime() - sentAt) > MAX_CLOCK_SKEW_MS) {
      throw new AuthenticationError(`${TIMESTAMP_HEADER} must be the Unix time in seconds, within 5 minutes of now`);
    }
    const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    if (safeEqual(signBody(credentials.hmacSecret, timestamp, body), signature)) return;
    throw new AuthenticationError(`the ${SIGNATURE_HEADER} signature does not match the body`);
  }
  throw new AuthenticationError(
    `authentication required: send "Authorization: Bearer <token>" or sign the body (${SIGNATURE_HEADER}, ${TIMESTAMP_HEADER})`,
  );
}

/** Middy middleware running `authenticate` before the handler. */
export function httpAuth(credentials: () => Promise<ApiCredentials>, now: () => Date = () => new Date()): middy.MiddlewareObj<HttpEventLike> {
  return {
    before: async function checkCredentials(request) {
      authenticate(request.event, await credentials(), now());
    },
  };
}

/** Whether the headers carry one of the configured bearer tokens. */
export function authenticateBearer(headers: Record<string, string | undefined>, credentials: ApiCredentials): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(lowerCaseKeys(headers).authorization ?? '');
  return !!match && credentials.bearerTokens.some((token) => safeEqual(token, match[1]!.trim()));
}

/** Whether the headers carry a webhook signature (checked where the body is known). */
export function hasSignatureHeaders(headers: Record<string, string | undefined>): boolean {
  const lower = lowerCaseKeys(headers);
  return !!lower[SIGNATURE_HEADER] && !!lower[TIMESTAMP_HEADER];
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function lowerCaseKeys(headers: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
