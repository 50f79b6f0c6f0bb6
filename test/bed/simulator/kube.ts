/**
 * A small JSON client for one API server. The simulator acts like controllers
 * written against client-go: it needs raw objects (timestamps as strings, unknown
 * fields kept), exact patch types and status subresources, which the generated
 * model classes get in the way of. Authentication and TLS come from the
 * kubeconfig through @kubernetes/client-node; watches use its Watch.
 */

import http from 'node:http';
import https from 'node:https';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import type { KubeList, KubeObject } from './types';

/** An error status from the API server, with client-go's notion of reason. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function errorCode(err: unknown): number | undefined {
  if (err instanceof ApiError) return err.code;
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; statusCode?: unknown };
    if (typeof e.code === 'number') return e.code;
    if (typeof e.statusCode === 'number') return e.statusCode;
  }
  return undefined;
}

export const isNotFound = (err: unknown): boolean => errorCode(err) === 404;
/** 409 covers both a stale resourceVersion (Conflict) and AlreadyExists. */
export const isConflict = (err: unknown): boolean => errorCode(err) === 409;
export const isGone = (err: unknown): boolean => errorCode(err) === 410;

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** Escapes one JSON pointer segment (annotation keys contain `/`). */
export function pointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** `/api/v1/...` for the core group, `/apis/<group>/<version>/...` otherwise. */
export function resourcePath(
  groupVersion: string,
  resource: string,
  opts: { namespace?: string | undefined; name?: string | undefined; subresource?: string } = {},
): string {
  const base = groupVersion === 'v1' ? '/api/v1' : `/apis/${groupVersion}`;
  const ns = opts.namespace ? `/namespaces/${encodeURIComponent(opts.namespace)}` : '';
  const name = opts.name ? `/${encodeURIComponent(opts.name)}` : '';
  const sub = opts.subresource ? `/${opts.subresource}` : '';
  return `${base}${ns}/${resource}${name}${sub}`;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
}

const REQUEST_TIMEOUT_MS = 30_000;
const PAGE_SIZE = 250;

export class Cluster {
  readonly kc = new KubeConfig();
  private readonly server: URL;
  private agent: http.Agent | undefined;

  constructor(
    readonly name: string,
    kubeconfigPath: string,
  ) {
    this.kc.loadFromFile(kubeconfigPath);
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error(`kubeconfig ${kubeconfigPath} of cluster ${name} has no current cluster`);
    this.server = new URL(cluster.server);
  }

  /**
   * One API call. 429 (API priority and fairness, or a CRD whose storage is still
   * initialising) is retried a few times after the server's Retry-After.
   */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.requestOnce<T>(method, path, opts);
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== 429 || attempt >= 5) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, (err.retryAfterSeconds ?? 1) * 1000)));
      }
    }
  }

  private async requestOnce<T>(method: string, path: string, opts: RequestOptions): Promise<T> {
    const url = new URL(this.server.pathname.replace(/\/$/, '') + path, this.server);
    for (const [key, value] of Object.entries(opts.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const requestOptions: https.RequestOptions = { method, headers: {} };
    await this.kc.applyToHTTPSOptions(requestOptions);
    // One keep-alive connection pool per cluster instead of a TLS handshake per call.
    this.agent ??= this.makeAgent(requestOptions);
    requestOptions.agent = this.agent;
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers = requestOptions.headers as Record<string, string>;
    headers.Accept = 'application/json';
    if (body !== undefined) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const transport = url.protocol === 'http:' ? http : https;
    return new Promise<T>((resolve, reject) => {
      const req = transport.request(url, requestOptions, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300) {
            resolve(parsed as T);
            return;
          }
          const statusObject = (parsed ?? {}) as { reason?: string; message?: string };
          const retryAfter = Number(res.headers['retry-after']);
          reject(
            new ApiError(
              status,
              statusObject.reason ?? 'Unknown',
              `${method} ${url.pathname}: ${status} ${statusObject.message ?? text.slice(0, 200)}`,
              Number.isFinite(retryAfter) ? retryAfter : undefined,
            ),
          );
        });
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** GET that answers undefined for a missing object. */
  async find<T>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  create<T>(collectionPath: string, body: unknown): Promise<T> {
    return this.request<T>('POST', collectionPath, { body });
  }

  /** JSON patch (RFC 6902); pair with a `test` of resourceVersion for optimistic concurrency. */
  patch<T>(path: string, ops: JsonPatchOp[]): Promise<T> {
    return this.request<T>('PATCH', path, { body: ops, contentType: 'application/json-patch+json' });
  }

  mergePatch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body, contentType: 'application/merge-patch+json' });
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  /**
   * Applies JSON patch operations only if the object is still at `resourceVersion`:
   * setting it in the patch makes the API server answer 409 Conflict otherwise.
   */
  patchIfUnchanged<T>(path: string, resourceVersion: string | undefined, ops: JsonPatchOp[]): Promise<T> {
    const guard: JsonPatchOp[] =
      resourceVersion === undefined ? [] : [{ op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }];
    return this.patch<T>(path, [...guard, ...ops]);
  }

  /**
   * Removes one finalizer, re-reading and retrying on conflicts, as controllers do
   * when other controllers edit the same object. A missing object is done.
   */
  async removeFinalizer(path: string, finalizer: string): Promise<boolean> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const object = await this.find<KubeObject>(path);
      const finalizers = object?.metadata.finalizers ?? [];
      if (!object || !finalizers.includes(finalizer)) return false;
      try {
        await this.patchIfUnchanged(path, object.metadata.resourceVersion, [
          { op: 'replace', path: '/metadata/finalizers', value: finalizers.filter((f) => f !== finalizer) },
        ]);
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        if (!isConflict(err)) throw err;
      }
    }
    throw new Error(`could not remove finalizer ${finalizer} from ${path}: the object kept changing`);
  }

  /** DELETE that treats an already missing object as done. */
  async remove(path: string): Promise<void> {
    try {
      await this.request('DELETE', path);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * Lists a whole collection, following `continue` to the end; an expired continue
   * token (410) restarts the list, since pages of different snapshots do not mix.
   */
  async listAll<T extends KubeObject>(path: string, query: Query = {}): Promise<{ items: T[]; resourceVersion: string }> {
    for (let attempt = 0; ; attempt++) {
      const items: T[] = [];
      let token: string | undefined;
      let resourceVersion = '';
      try {
        do {
          const page: KubeList<T> = await this.request<KubeList<T>>('GET', path, {
            query: { ...query, limit: PAGE_SIZE, continue: token },
          });
          items.push(...(page.items ?? []));
          token = page.metadata?.continue || undefined;
          // The first page's resourceVersion is the list's snapshot.
          resourceVersion ||= page.metadata?.resourceVersion ?? '';
        } while (token);
        return { items, resourceVersion };
      } catch (err) {
        if (isGone(err) && attempt < 5) continue;
        throw err;
      }
    }
  }

  /**
   * Starts a watch; `onEvent` gets each event's type and object, `onDone` the end
   * (normal close, timeout or error). Returns the handle to stop it.
   */
  watch(
    path: string,
    query: Query,
    onEvent: (type: string, object: unknown) => void,
    onDone: (err: unknown) => void,
  ): Promise<AbortController> {
    return new Watch(this.kc).watch(path, query, (type, object) => onEvent(type, object), onDone);
  }

  close(): void {
    this.agent?.destroy();
  }

  private makeAgent(options: https.RequestOptions): http.Agent {
    if (this.server.protocol === 'http:') return new http.Agent({ keepAlive: true, maxSockets: 16 });
    return new https.Agent({
      keepAlive: true,
      maxSockets: 16,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.cert !== undefined ? { cert: options.cert } : {}),
      ...(options.key !== undefined ? { key: options.key } : {}),
      ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
      ...(options.servername !== undefined ? { servername: options.servername } : {}),
    });
  }
}
