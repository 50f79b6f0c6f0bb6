import { StringDecoder } from 'node:string_decoder';
import type { Agent, RequestOptions } from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { KubeApiError, KubeUnreachableError } from './errors';
import type { RateLimiter } from './rate-limiter';

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
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);
const MAX_ATTEMPTS = 5;

/**
 * A small JSON REST client for one cluster. Every call goes through the cluster's
 * rate limiter and is counted, so benchmarks and logs can report API requests per
 * backed-up object. Throttling (429) and transient server errors are retried with
 * backoff, honouring Retry-After.
 */
export class KubeClient {
  private sent = 0;

  constructor(
    readonly cluster: string,
    private readonly transport: KubeTransport,
    private readonly limiter: RateLimiter,
  ) {}

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

  async request<T>(request: KubeRequest): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.limiter.take();
      const response = await this.sendOnce(request);
      if (response.status < 300) return (response.body ? JSON.parse(response.body) : undefined) as T;
      if (RETRYABLE.has(response.status) && attempt < MAX_ATTEMPTS) {
        await sleep(retryDelayMs(response.retryAfter, attempt));
        continue;
      }
      throw this.apiError(request, response);
    }
  }

  /** Stops keeping idle connections open, so a finished invocation does not hold sockets. */
  close(): void {
    this.transport.agent.destroy();
  }

  private sendOnce(request: KubeRequest): Promise<{ status: number; body: string; retryAfter?: string }> {
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
    return new Promise((resolve, reject) => {
      const outgoing = this.transport.send(
        {
          method: request.method ?? 'GET',
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          headers,
          agent: this.transport.agent,
          timeout: 60_000,
        },
        (response) => {
          // Decoded chunk by chunk: joining a list page's chunks into one buffer first
          // costs as much as decoding it (a fresh ~1 MB allocation per page).
          const decoder = new StringDecoder('utf8');
          let body = '';
          response.on('data', (chunk: Buffer) => {
            body += decoder.write(chunk);
          });
          response.on('error', (error) => reject(this.unreachable(error)));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: body + decoder.end(),
              retryAfter: response.headers['retry-after'],
            }),
          );
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error('no answer within 60s')));
      outgoing.on('error', (error) => reject(this.unreachable(error)));
      outgoing.end(payload);
    });
  }

  private unreachable(error: Error): KubeUnreachableError {
    const code = (error as NodeJS.ErrnoException).code;
    return new KubeUnreachableError(this.cluster, this.transport.server, code ? `${code} (${error.message})` : error.message, {
      cause: error,
    });
  }

  private apiError(request: KubeRequest, response: { status: number; body: string }): KubeApiError {
    let status: { reason?: string; message?: string; metadata?: { continue?: string } } = {};
    try {
      status = JSON.parse(response.body);
    } catch {
      // Not a Kubernetes Status (a proxy in between, say): fall back to the HTTP code.
    }
    const what = `${request.method ?? 'GET'} ${request.path}`;
    return new KubeApiError(
      this.cluster,
      response.status,
      status.reason ?? '',
      `${what}: ${status.message ?? `HTTP ${response.status}`}`,
      status.metadata?.continue,
    );
  }
}

function retryDelayMs(retryAfter: string | undefined, attempt: number): number {
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds > 0) return Math.min(seconds, 30) * 1000;
  return Math.min(200 * 2 ** attempt, 5000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
