import { createHash, createHmac } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * A stand-in for an S3-compatible store that ignores conditional writes (as some do),
 * made from a real one: an HTTP proxy in front of MinIO that drops `If-Match` and
 * `If-None-Match` from every request and signs it again (SigV4, the headers are part of
 * the signature) with the same keys. Everything else — listing, reads, writes, deletes,
 * errors — is MinIO's own behaviour.
 */
export interface ConditionalIgnoringProxy {
  /** Endpoint to configure a storage location with, e.g. http://127.0.0.1:40123 */
  url: string;
  /** Requests that arrived with a conditional header, which the proxy dropped. */
  strippedRequests(): number;
  close(): Promise<void>;
}

/** Headers the proxy sets itself (the signature and the target's host) or drops. */
const DROPPED = new Set(['authorization', 'x-amz-date', 'host', 'connection', 'if-match', 'if-none-match']);

/** The hash shape the signer expects, from node:crypto (an HMAC when given a secret). */
class NodeSha256 {
  private readonly hash;

  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }

  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** Starts the proxy on a free loopback port, in front of `target` (MinIO) and signing with its keys. */
export async function startConditionalIgnoringProxy(target: {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}): Promise<ConditionalIgnoringProxy> {
  const upstream = new URL(target.endpoint);
  const signer = new SignatureV4({
    service: 's3',
    region: target.region,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    sha256: NodeSha256,
    // As the S3 client signs: the path is already encoded, and the payload hash is in x-amz-content-sha256.
    uriEscapePath: false,
    applyChecksum: false,
  });
  let stripped = 0;

  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://proxy');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (DROPPED.has(name) || value === undefined) continue;
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    if (req.headers['if-match'] !== undefined || req.headers['if-none-match'] !== undefined) stripped++;
    delete headers['transfer-encoding'];
    headers['content-length'] = String(body.length);
    headers.host = upstream.host;
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = value;
    const signed = await signer.sign({
      method: req.method ?? 'GET',
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: Number(upstream.port),
      path: url.pathname,
      query,
      headers,
    });
    const outgoing = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: `${url.pathname}${url.search}`, headers: signed.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    outgoing.on('error', () => res.destroy());
    outgoing.end(body);
  };

  const server = createServer((req, res) => {
    forward(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    strippedRequests: () => stripped,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
