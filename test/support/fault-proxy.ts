import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';

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
  /** Sets `fault` beside those already set; a request meets the first set one that matches it. */
  add(fault: ProxyFault, forMs: number, onlyIf?: (method: string, path: string) => boolean): void;
  /** Closes the connections of requests in flight that match (a watch being streamed, say); returns how many. */
  cut(onlyIf: (method: string, path: string) => boolean): number;
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
  type Matcher = (method: string, path: string) => boolean;
  let faults: { fault: ProxyFault; until: number; onlyIf?: Matcher }[] = [];
  const inFlight = new Map<IncomingMessage, Socket>();
  let faulted = 0;
  let forwarded = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const current = (req: IncomingMessage): ProxyFault | undefined => {
    const now = Date.now();
    return faults.find((f) => now < f.until && (!f.onlyIf || f.onlyIf(req.method ?? 'GET', req.url ?? '/')))?.fault;
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
    inFlight.set(req, req.socket);
    res.on('close', () => inFlight.delete(req));
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
  const add = (f: ProxyFault, forMs: number, onlyIf?: Matcher) => {
    faults.push({ fault: f, until: Date.now() + forMs, ...(onlyIf ? { onlyIf } : {}) });
    // Connections kept alive from before the fault would otherwise slip past a drop.
    if (f.kind === 'drop') for (const socket of sockets) socket.destroy();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${secure ? 'https' : 'http'}://127.0.0.1:${port}`,
    inject(f, forMs, onlyIf) {
      faults = [];
      add(f, forMs, onlyIf);
    },
    add,
    cut(onlyIf) {
      let cut = 0;
      for (const [req, socket] of inFlight) {
        if (!onlyIf(req.method ?? 'GET', req.url ?? '/')) continue;
        socket.destroy();
        cut += 1;
      }
      return cut;
    },
    clear() {
      faults = [];
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

/**
 * A fault proxy in front of a bed cluster's API server. Its serving certificate is for
 * 127.0.0.1, where the proxy listens too, so the proxy serves with it and clients keep
 * the cluster's CA. The proxy ends TLS: clients must authenticate with a token (the
 * admin token, say), which it forwards; a client certificate does not pass it.
 */
export function startApiServerProxy(workDir: string, cluster: { name: string; server: string; caFile: string }): Promise<FaultProxy> {
  const pki = join(workDir, cluster.name, 'pki');
  return startFaultProxy({
    upstream: cluster.server,
    tls: { cert: readFileSync(join(pki, 'apiserver.crt'), 'utf8'), key: readFileSync(join(pki, 'apiserver.key'), 'utf8'), upstreamCa: readFileSync(cluster.caFile, 'utf8') },
  });
}
