import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent as HttpsAgent } from 'node:https';
import { KubeClient, type KubeTransport } from '../../lib/kube/client';
import { RateLimiter } from '../../lib/kube/rate-limiter';

/** A request as a stand-in API server received it: the body parsed when it was JSON. */
export interface ReceivedRequest {
  method: string;
  path: string;
  body: unknown;
}

/** Answers one request; may also destroy `req.socket` instead, to break the connection. */
export type KubeServerHandler = (received: ReceivedRequest, res: ServerResponse, req: IncomingMessage) => void;

/** A stand-in API server on 127.0.0.1: its URL, the requests it received in order, and how to stop it. */
export interface KubeServer {
  url: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a plain-HTTP server on a free loopback port that reads each request's whole
 * body, records it, and hands it to `handler`. Plain HTTP keeps the tests about the
 * client's own decisions; the transport is the one connectCluster builds, minus TLS.
 */
export async function startKubeServer(handler: KubeServerHandler): Promise<KubeServer> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request = { method: req.method ?? 'GET', path: req.url ?? '/', body: text ? JSON.parse(text) : undefined };
      received.push(request);
      handler(request, res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback URL where nothing listens: connecting to it is refused (ECONNREFUSED). */
export async function closedPortUrl(): Promise<string> {
  const server = await startKubeServer(() => undefined);
  await server.close();
  return server.url;
}

/** Writes a JSON answer. */
export function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A Kubernetes Status object, as the API server sends with an error code. */
export function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message };
}

/**
 * A KubeClient of cluster "test" to `url`, over a keep-alive agent as connectCluster
 * builds, with a rate limit that never waits. Backoff waits are recorded in `sleeps`
 * (milliseconds) and skipped.
 */
export function kubeClientFor(url: string): { client: KubeClient; sleeps: number[] } {
  const transport: KubeTransport = {
    server: url,
    agent: new Agent({ keepAlive: true }) as unknown as HttpsAgent,
    headers: {},
    send: httpRequest as unknown as KubeTransport['send'],
  };
  const sleeps: number[] = [];
  const client = new KubeClient('test', transport, new RateLimiter(1000, 1000), {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { client, sleeps };
}
