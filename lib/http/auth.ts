import { createHmac, timingSafeEqual } from 'node:crypto';
import type middy from '@middy/core';
import { AuthenticationError, ForbiddenError } from '../core/errors';
import { logger } from '../core/logger';
import { resolveSecret, type ApiConfig, type SecretSources } from '../config';

/** The API's credentials: the accepted bearer tokens and the webhook signing secret. */
export interface ApiCredentials {
  bearerTokens: string[];
  hmacSecret?: string;
}

/** Resolves every configured API credential now; throws ConfigError naming the source that failed. */
export async function resolveApiCredentials(api: ApiConfig, sources: SecretSources = {}): Promise<ApiCredentials> {
  const bearerTokens = await Promise.all(api.bearerTokens.map((t) => resolveSecret(t, sources)));
  return {
    bearerTokens,
    ...(api.hmacSecret ? { hmacSecret: await resolveSecret(api.hmacSecret, sources) } : {}),
  };
}

/**
 * The API's credentials for each request, resolved anew every time rather than once
 * per cold start: a failed resolution (Secrets Manager unreachable) is logged and
 * thrown, and the next request tries again instead of inheriting the failure; a
 * rotated token is accepted once the cached value is older than
 * SECRET_MAX_AGE_SECONDS. Secrets Manager values come from the reader's cache, so a
 * request costs no call to it while they are fresh.
 */
export function apiCredentialsSource(api: ApiConfig, sources: SecretSources = {}): () => Promise<ApiCredentials> {
  return async function currentApiCredentials() {
    try {
      return await resolveApiCredentials(api, sources);
    } catch (error) {
      logger.error('cannot read the API credentials; requests are refused until they can be read', { error });
      throw error;
    }
  };
}

/** Headers of a signed webhook call: `sha256=<hex>` of `<timestamp>.<body>`. */
export const SIGNATURE_HEADER = 'x-skiff-signature';
export const TIMESTAMP_HEADER = 'x-skiff-timestamp';
/** A signed request older or newer than this is refused, so a captured one cannot be replayed later. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

interface HttpEventLike {
  headers?: Record<string, string | undefined>;
  requestContext?: { http?: { method?: string } };
  body?: string | null;
  isBase64Encoded?: boolean;
}

/** The signature a caller computes for a webhook body; exported for clients and tests. */
export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * The Authorization scheme of a signed call: `Skiff-Signature t=<unix seconds>,
 * sig=sha256=<hex>`, the same timestamp and signature as the two x-skiff headers. Through
 * the deployed HTTP API a signed call must use this form: API Gateway answers 401 itself,
 * without asking the authorizer, to any request without an Authorization header.
 */
const SIGNATURE_SCHEME = /^Skiff-Signature\s+t=(\d+)\s*,\s*sig=(sha256=[0-9a-f]+)\s*$/i;

/** The timestamp and signature a request carries, in either form; undefined when unsigned. */
export function signatureOf(headers: Record<string, string | undefined>): { timestamp: string; signature: string } | undefined {
  const lower = lowerCaseKeys(headers);
  const scheme = SIGNATURE_SCHEME.exec(lower.authorization ?? '');
  if (scheme) return { timestamp: scheme[1]!, signature: scheme[2]! };
  const signature = lower[SIGNATURE_HEADER];
  return signature ? { timestamp: lower[TIMESTAMP_HEADER] ?? '', signature } : undefined;
}

/**
 * The only method a signed call may use. The HMAC secret sits in webhook senders (CI
 * systems, alerting hooks) whose job is to start a backup, restore or sync; reading
 * every backup, its logs and the cluster's state, or deleting, takes a bearer token.
 */
const SIGNED_METHOD = 'POST';

/**
 * Checks a request's credentials: `Authorization: Bearer <token>` against the
 * configured tokens (any route), or an HMAC signature of the body (see signatureOf),
 * which only creates: a signed call with another method than POST is ForbiddenError
 * (403). Throws AuthenticationError (401) for missing or wrong credentials.
 * Comparisons are constant-time.
 */
export function authenticate(event: HttpEventLike, credentials: ApiCredentials, now: Date): void {
  const headers = lowerCaseKeys(event.headers ?? {});
  const signed = signatureOf(headers);
  if (signed) {
    const method = (event.requestContext?.http?.method ?? '').toUpperCase();
    if (method !== SIGNED_METHOD) {
      throw new ForbiddenError(
        `a signed call may only create (POST /backups, POST /restores, POST /sync), not ${method || 'this method'}; read or delete with "Authorization: Bearer <token>"`,
      );
    }
    if (!credentials.hmacSecret) throw new AuthenticationError('signed requests are not enabled (no api.hmacSecret configured)');
    const sentAt = Number(signed.timestamp) * 1000;
    if (signed.timestamp === '' || !Number.isFinite(sentAt) || Math.abs(now.getTime() - sentAt) > MAX_CLOCK_SKEW_MS) {
      throw new AuthenticationError('the signature timestamp must be the Unix time in seconds, within 5 minutes of now');
    }
    const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    if (safeEqual(signBody(credentials.hmacSecret, signed.timestamp, body), signed.signature)) return;
    throw new AuthenticationError('the signature does not match the body');
  }
  if (headers.authorization) {
    if (authenticateBearer(headers, credentials)) return;
    throw new AuthenticationError('the Authorization header holds neither a valid bearer token nor a Skiff-Signature');
  }
  throw new AuthenticationError(
    'authentication required: send "Authorization: Bearer <token>" or sign the body ("Authorization: Skiff-Signature t=<unix seconds>,sig=sha256=<hex>")',
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


function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function lowerCaseKeys(headers: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
