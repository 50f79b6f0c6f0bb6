/**
 * The simulator's window for tests, on 127.0.0.1 only:
 *   GET  /ledger   the storage's books: {volumes, snapshots, events}
 *   GET  /config   current delays and failure pattern
 *   POST /config   change some of them (JSON; unknown fields are refused)
 *   GET  /healthz  "ok"
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ConfigStore } from './config';
import { parseConfigPatch } from './config';
import type { Ledger } from './ledger';
import { log } from './log';

const MAX_BODY = 64 * 1024;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function createHttpServer(ledger: Ledger, config: ConfigStore): Server {
  return createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const route = `${req.method} ${path}`;
      switch (route) {
        case 'GET /ledger':
          return send(res, 200, ledger.toJSON());
        case 'GET /config':
          return send(res, 200, config.current);
        case 'POST /config': {
          let input: unknown;
          try {
            input = JSON.parse(await readBody(req));
          } catch (err) {
            return send(res, 400, { error: `body is not JSON: ${(err as Error).message}` });
          }
          const parsed = parseConfigPatch(input);
          if (!parsed.ok) return send(res, 400, { error: 'invalid config', issues: parsed.issues });
          const next = config.update(parsed.patch);
          log(undefined, `config: ${JSON.stringify(next)}`);
          return send(res, 200, next);
        }
        case 'GET /healthz':
          return send(res, 200, 'ok');
        default:
          if (['/ledger', '/config', '/healthz'].includes(path)) return send(res, 405, { error: `${req.method} not allowed on ${path}` });
          return send(res, 404, { error: `no route ${path}; try GET /ledger, GET|POST /config, GET /healthz` });
      }
    })().catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: (err as Error).message });
    });
  });
}

export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
