import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fault proxy in front of one upstream (MinIO over HTTP, or a kube-apiserver over
 * TLS): it forwards requests unchanged (headers included, so S3 signatures and bearer
 * tokens stay valid) until a fault is set, then for the fault's duration answers with
 * an error status, holds requests longer than the client waits, or drops connections.
 * Clients are pointed at `url` instead of the upstream.
 */

export type ProxyFault =
  /** Answer `status` (500, 503, 429...) with an S3- or Kubernetes-shaped body; 429 and 503 carry Retry-After. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  /** Hold each request `delayMs` before forwarding it (past a client's timeout when long enough). */
  | { kind: 'delay'; delayMs: number }
  /** Close the connection without an answer. */
  | { kind: 'drop' }
  /** Forward the request, then close the connection instead of passing the answer on: the write happened, the client cannot know. */
  | { kind: 'lose-answer' };

export interface FaultProxy {
  readonly url: string;
  /** Sets `fault` for `forMs` milliseconds (or until cleared); `onlyIf` limits it to matching requests. */
  inject(fault: ProxyFault, forMs: number, onlyIf?: (method: string, path: string) => boolean): void;
  clear(): void;
  /** Requests that met a fault since the start. */
  readonly faulted: number;
  /** Requests forwarded since the start. */
  readonly forwarded: number;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** http://127.0.0.1:9000 or https://127.0.0.1:6443 */
  upstream: string;
  /** For a TLS upstream: the proxy's own certificate and key (PEM), and the CA that signed the upstream's. */
  tls?: { cert: string; key: string; upstreamCa: string };
}

function errorBody(status: number, path: string): { type: string; body: string } {
  if (path.startsWith('/api') || path.startsWith('/readyz')) {
    const reason = status === 429 ? 'TooManyRequests' : status === 503 ? 'ServiceUnavailable' : 'InternalError';
    return { type: 'application/json', body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `fault proxy: ${status}`, reason, code: status }) };
  }
  const code = status === 503 ? 'SlowDown' : status === 429 ? 'TooManyRequests' : 'InternalError';
  return { type: 'application/xml', body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>fault proxy ${status}</Message></Error>` };
}

/** Starts a fault proxy on 127.0.0.1 (a free port) in front of `options.upstream`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  const secure = upstream.protocol === 'https:';
  let fault: { fault: ProxyFault; until: number; onlyIf?: (method: string, path: string) => boolean } | undefined;
  let faulted = 0;
  let forwarded = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const current = (req: IncomingMessage): ProxyFault | undefined => {
    if (!fault || Date.now() >= fault.until) return undefined;
    if (fault.onlyIf && !fault.onlyIf(req.method ?? 'GET', req.url ?? '/')) return undefined;
    return fault.fault;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, loseAnswer = false) => {
    forwarded += 1;
    const send = secure ? httpsRequest : httpRequest;
    const out = send(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        ...(options.tls ? { ca: options.tls.upstreamCa } : {}),
      },
      (answer) => {
        if (loseAnswer) {
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const f = current(req);
    if (!f) return forward(req, res);
    faulted += 1;
    if (f.kind === 'lose-answer') return forward(req, res, true);
    if (f.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (f.kind === 'delay') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) forward(req, res);
      }, f.delayMs);
      timers.add(timer);
      return;
    }
    req.resume();
    const { type, body } = errorBody(f.status, req.url ?? '/');
    const headers: Record<string, string> = { 'content-type': type, 'content-length': String(Buffer.byteLength(body)) };
    if (f.retryAfterSeconds !== undefined) headers['retry-after'] = String(f.retryAfterSeconds);
    res.writeHead(f.status, headers);
    res.end(body);
  };

  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handle) : createHttpServer(handle);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${secure ? 'https' : 'http'}://127.0.0.1:${port}`,
    inject(f, forMs, onlyIf) {
      fault = { fault: f, until: Date.now() + forMs, ...(onlyIf ? { onlyIf } : {}) };
      // Connections kept alive from before the fault would otherwise slip past a drop.
      if (f.kind === 'drop') for (const socket of sockets) socket.destroy();
    },
    clear() {
      fault = undefined;
    },
    get faulted() {
      return faulted;
    },
    get forwarded() {
      return forwarded;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
