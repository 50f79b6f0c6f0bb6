import { StringDecoder } from 'node:string_decoder';
import type { Agent, RequestOptions } from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { KubeAmbiguousWriteError, KubeApiError, KubeUnreachableError } from './errors';
import type { RateLimiter } from './rate-limiter';
import { retryDelayMs, retryVerdict, type AttemptFailure } from './retry';

export interface KubeTransport {
  server: string;
  agent: Agent;
  /** Authorization and other headers; never logged. */
  headers: Record<string, string>;
  send: (options: RequestOptions, callback: (response: IncomingMessage) => void) => ClientRequest;
}

export type PatchType = 'merge' | 'json' | 'strategic';
const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export interface KubeRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  /** Attempts in all, retries included (default MAX_ATTEMPTS); fewer where a slow failure costs more than a missing answer. */
  maxAttempts?: number;
}

/** What a KubeClient may be given besides its transport and rate limit. */
export interface KubeClientOptions {
  /** Waits between attempts; tests pass one that records the delays instead. */
  sleep?: (ms: number) => Promise<void>;
}

const REQUEST_TIMEOUT_MS = 60_000;

/** One attempt: the server's answer, or how the connection failed. */
type Attempt =
  | { kind: 'answered'; status: number; body: string; retryAfter?: string }
  | (Exclude<AttemptFailure, { kind: 'answered' }> & { error: Error });

/**
 * A small JSON REST client for one cluster. Every call goes through the cluster's
 * rate limiter and is counted, so benchmarks and logs can report API requests per
 * backed-up object. Failed attempts are sent again, with backoff honouring
 * Retry-After, only where a second send cannot do more than the first (retry.ts):
 * throttling (429) and connections that failed before sending, for every method;
 * transient 5xx and broken connections only for reads, replaces, deletes and merge
 * patches. A create or JSON patch that may have been applied all the same fails with
 * KubeAmbiguousWriteError.
 */
export class KubeClient {
  private sent = 0;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly cluster: string,
    private readonly transport: KubeTransport,
    private readonly limiter: RateLimiter,
    options: KubeClientOptions = {},
  ) {
    this.sleep = options.sleep ?? sleep;
  }

  /** How many HTTP requests this client has sent, retries included. */
  get requestCount(): number {
    return this.sent;
  }

  get server(): string {
    return this.transport.server;
  }

  get<T>(path: string, query?: KubeRequest['query']): Promise<T> {
    return this.request<T>({ path, query });
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>({ method: 'POST', path, body });
  }

  replace<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>({ method: 'PUT', path, body });
  }

  patch<T>(path: string, body: unknown, type: PatchType = 'merge'): Promise<T> {
    return this.request<T>({ method: 'PATCH', path, body, contentType: PATCH_CONTENT_TYPES[type] });
  }

  delete<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>({ method: 'DELETE', path, body });
  }

  /**
   * Sends one request and answers the parsed JSON body (undefined for an empty one).
   *
   * @throws KubeApiError when the server refused it (with its code and reason), after
   *   the retries described on the class.
   * @throws KubeAmbiguousWriteError when a POST or JSON patch failed in a way that
   *   leaves open whether it was applied; it is not sent again.
   * @throws KubeUnreachableError when no connection could be made, the connection
   *   broke, or no answer came within 60 s.
   */
  async request<T>(request: KubeRequest): Promise<T> {
    const kind = { method: request.method ?? 'GET', contentType: request.contentType };
    for (let attempt = 1; ; attempt++) {
      await this.limiter.take();
      const outcome = await this.sendOnce(request);
      if (outcome.kind === 'answered' && outcome.status < 300) {
        return (outcome.body ? JSON.parse(outcome.body) : undefined) as T;
      }
      const verdict = retryVerdict(kind, outcome, attempt, request.maxAttempts);
      if (verdict === 'retry') {
        await this.sleep(retryDelayMs(outcome.kind === 'answered' ? outcome.retryAfter : undefined, attempt));
        continue;
      }
      if (outcome.kind === 'answered') throw this.apiError(request, outcome, verdict === 'ambiguous');
      throw verdict === 'ambiguous' ? this.lostWrite(request, outcome.error) : this.unreachable(outcome.error);
    }
  }

  /** Stops keeping idle connections open, so a finished invocation does not hold sockets. */
  close(): void {
    this.transport.agent.destroy();
  }

  /** Sends one attempt; never rejects: a failed connection is an outcome like an answer. */
  private sendOnce(request: KubeRequest): Promise<Attempt> {
    const url = new URL(this.transport.server + request.path);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
    const headers: Record<string, string> = {
      ...this.transport.headers,
      accept: request.accept ?? 'application/json',
      ...(payload ? { 'content-type': request.contentType ?? 'application/json', 'content-length': String(payload.length) } : {}),
    };
    this.sent += 1;
    return new Promise((resolve) => {
      // Whether any of the request may have reached the server. Node writes a request
      // only once its socket is connected (for TLS, once the handshake is done), so
      // until then a failure provably left the server untouched. The agent hands out
      // either a new socket, still connecting, or an idle keep-alive one, connected:
      // a failure on that one (the server closing it just as the request went out,
      // see Node's `request.reusedSocket`) may come after the server read the request.
      let socket: Socket | undefined;
      let connected = false;
      let timedOut = false;
      const failed = (error: Error) => {
        if (timedOut) resolve({ kind: 'timed-out', sent: connected, error });
        else if (connected) resolve({ kind: 'lost', error });
        // Refused certificates end the TLS handshake with the socket's authorizationError set.
        else if (socket instanceof TLSSocket && socket.authorizationError) resolve({ kind: 'untrusted', error });
        else resolve({ kind: 'unsent', error });
      };
      const outgoing = this.transport.send(
        {
          method: request.method ?? 'GET',
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          headers,
          agent: this.transport.agent,
          timeout: REQUEST_TIMEOUT_MS,
        },
        (response) => {
          // Decoded chunk by chunk: joining a list page's chunks into one buffer first
          // costs as much as decoding it (a fresh ~1 MB allocation per page).
          const decoder = new StringDecoder('utf8');
          let body = '';
          response.on('data', (chunk: Buffer) => {
            body += decoder.write(chunk);
          });
          response.on('error', failed);
          response.on('end', () =>
            resolve({
              kind: 'answered',
              status: response.statusCode ?? 0,
              body: body + decoder.end(),
              retryAfter: response.headers['retry-after'],
            }),
          );
        },
      );
      outgoing.on('socket', (assigned: Socket) => {
        socket = assigned;
        if (!assigned.connecting) {
          connected = true;
          return;
        }
        assigned.once(assigned instanceof TLSSocket ? 'secureConnect' : 'connect', () => {
          connected = true;
        });
      });
      outgoing.on('timeout', () => {
        timedOut = true;
        outgoing.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000}s`));
      });
      outgoing.on('error', failed);
      outgoing.end(payload);
    });
  }

  private unreachable(error: Error): KubeUnreachableError {
    const code = (error as NodeJS.ErrnoException).code;
    return new KubeUnreachableError(this.cluster, this.transport.server, code ? `${code} (${error.message})` : error.message, {
      cause: error,
    });
  }

  /** A write sent whose answer was lost: it may have been applied. */
  private lostWrite(request: KubeRequest, error: Error): KubeAmbiguousWriteError {
    const code = (error as NodeJS.ErrnoException).code;
    return new KubeAmbiguousWriteError(
      this.cluster,
      0,
      '',
      `${describe(request)}: the request was sent but no answer came (${code ? `${code}, ` : ''}${error.message}); ` +
        'the server may have applied it',
      { cause: error },
    );
  }

  private apiError(request: KubeRequest, response: { status: number; body: string }, ambiguous: boolean): KubeApiError {
    let status: { reason?: string; message?: string; metadata?: { continue?: string } } = {};
    try {
      status = JSON.parse(response.body);
    } catch {
      // Not a Kubernetes Status (a proxy in between, say): fall back to the HTTP code.
    }
    const message = `${describe(request)}: ${status.message ?? `HTTP ${response.status}`}`;
    if (ambiguous) {
      return new KubeAmbiguousWriteError(this.cluster, response.status, status.reason ?? '', `${message}; the server may have applied it`);
    }
    return new KubeApiError(this.cluster, response.status, status.reason ?? '', message, status.metadata?.continue);
  }
}

function describe(request: KubeRequest): string {
  return `${request.method ?? 'GET'} ${request.path}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
