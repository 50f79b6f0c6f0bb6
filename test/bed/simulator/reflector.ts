/**
 * A local cache of one kind of object, kept current by a watch and rebuilt by a
 * full, paginated list every `resyncMs`. The watch gives low latency; the relist
 * makes sure nothing is missed (a dropped watch, a compacted resourceVersion), and
 * it re-announces every key, so controllers retry what they could not do before.
 * (client-node's informer does not paginate its lists, hence this one.)
 *
 * The cache only triggers work: controllers re-read an object before changing it.
 */

import type { Cluster } from './kube';
import { errorText } from './kube';
import type { KubeObject } from './types';
import { keyOf } from './types';
import { RepeatLog } from './log';

export interface ReflectorOptions {
  cluster: Cluster;
  /** Collection path, e.g. `/api/v1/persistentvolumeclaims`. */
  path: string;
  /** apiVersion and kind of the objects; list items of built-in types come without them. */
  apiVersion: string;
  kind: string;
  resyncMs: number;
  /** Called for every key that changed, disappeared or was relisted. */
  onKey: (key: string) => void;
}

/** Compares resourceVersions as numbers where they are (etcd revisions), so a late list never overwrites a newer watch event. */
function newer(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = Number(a);
  const y = Number(b);
  return Number.isSafeInteger(x) && Number.isSafeInteger(y) && x > y;
}

export class Reflector<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private resourceVersion = '';
  private watchAbort: AbortController | undefined;
  private watchRunning = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly failures: RepeatLog;

  constructor(private readonly opts: ReflectorOptions) {
    this.failures = new RepeatLog(opts.cluster.name);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** Resolves after the first full list. */
  async start(): Promise<void> {
    await this.relist();
    this.startWatch();
    this.scheduleResync();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.resyncTimer);
    this.watchAbort?.abort();
  }

  private scheduleResync(): void {
    if (this.stopped) return;
    this.resyncTimer = setTimeout(async () => {
      try {
        await this.relist();
      } catch (err) {
        this.failures.failed(this.opts.kind, `relist failed: ${errorText(err)}`);
      }
      if (!this.watchRunning) this.startWatch();
      this.scheduleResync();
    }, this.opts.resyncMs);
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.opts.cluster.listAll<T>(this.opts.path);
    const seen = new Set<string>();
    for (const item of items) {
      item.apiVersion ??= this.opts.apiVersion;
      item.kind ??= this.opts.kind;
      const key = keyOf(item);
      seen.add(key);
      const cached = this.cache.get(key);
      if (cached && newer(cached.metadata.resourceVersion, item.metadata.resourceVersion)) continue;
      this.cache.set(key, item);
    }
    const vanished: string[] = [];
    for (const [key, cached] of this.cache) {
      // Keep objects a watch added after the list was taken.
      if (!seen.has(key) && !newer(cached.metadata.resourceVersion, resourceVersion)) vanished.push(key);
    }
    for (const key of vanished) this.cache.delete(key);
    if (!this.resourceVersion || newer(resourceVersion, this.resourceVersion)) this.resourceVersion = resourceVersion;
    // Vanished keys are announced too, so controllers can forget them.
    for (const key of new Set([...this.cache.keys(), ...vanished])) this.opts.onKey(key);
  }

  private startWatch(): void {
    if (this.stopped || this.watchRunning) return;
    this.watchRunning = true;
    const done = (err: unknown): void => {
      this.watchRunning = false;
      this.watchAbort = undefined;
      if (this.stopped) return;
      const text = err ? errorText(err) : '';
      if (/410|Gone|too old/i.test(text)) this.resourceVersion = '';
      // A compacted resourceVersion (410 Gone) needs a fresh list first: the next
      // resync relists and restarts the watch. (A watch without resourceVersion
      // would replay every object.) Normal ends (server timeout) restart now.
      if (!this.resourceVersion) return;
      if (err && !/abort/i.test(text)) this.failures.failed(this.opts.kind, `watch ended: ${text}`);
      setTimeout(() => this.startWatch(), err ? 1000 : 0);
    };
    this.opts.cluster
      .watch(
        this.opts.path,
        // Server-side timeout below the client's 30 s inactivity limit: a quiet
        // watch ends cleanly and is restarted from the last resourceVersion.
        { resourceVersion: this.resourceVersion || undefined, allowWatchBookmarks: true, timeoutSeconds: 25 },
        (type, object) => this.onEvent(type, object),
        done,
      )
      .then(
        (abort) => {
          this.watchAbort = abort;
        },
        (err: unknown) => done(err),
      );
  }

  private onEvent(type: string, raw: unknown): void {
    const object = raw as T & { code?: number };
    if (type === 'ERROR') {
      // The server reports an expired resourceVersion as an ERROR event, then closes.
      if (object?.code === 410) this.resourceVersion = '';
      return;
    }
    const rv = object?.metadata?.resourceVersion;
    if (rv && (!this.resourceVersion || !newer(this.resourceVersion, rv))) this.resourceVersion = rv;
    if (type === 'BOOKMARK' || !object?.metadata?.name) return;
    const key = keyOf(object);
    if (type === 'DELETED') {
      this.cache.delete(key);
    } else {
      const cached = this.cache.get(key);
      if (cached && newer(cached.metadata.resourceVersion, rv)) return;
      object.apiVersion ??= this.opts.apiVersion;
      object.kind ??= this.opts.kind;
      this.cache.set(key, object);
    }
    this.opts.onKey(key);
  }
}
