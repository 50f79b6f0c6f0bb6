/**
 * A keyed work queue with client-go's guarantees: one key is never processed by
 * two workers at once, a key added while it is processed runs again afterwards,
 * and failures retry with exponential backoff. Storage delays are awaited inside
 * the handler, so a slow operation holds only its own key.
 */

export interface QueueOptions {
  /** Keys processed at the same time. */
  concurrency?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Errors that only mean "look again" (a write conflict): retried soon, not logged, no backoff growth. */
  isTransient?: (err: unknown) => boolean;
  onError?: (key: string, err: unknown) => void;
}

const TRANSIENT_RETRY_MS = 100;

/** What a handler may ask for besides success: come back later. */
export interface Outcome {
  requeueAfterMs?: number;
}

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly order: string[] = [];
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private running = 0;
  private stopped = false;
  private readonly concurrency: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly handler: (key: string) => Promise<Outcome | void>,
    private readonly opts: QueueOptions = {},
  ) {
    this.concurrency = opts.concurrency ?? 16;
    this.baseBackoffMs = opts.baseBackoffMs ?? 500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5000;
  }

  /**
   * Queues a key now. A key waiting out a failure backoff stays waiting: periodic
   * resyncs must not turn a failing operation into a busy loop.
   */
  add(key: string): void {
    if (this.stopped || this.timers.has(key)) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.pending.has(key)) return;
    this.pending.add(key);
    this.order.push(key);
    this.pump();
  }

  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.add(key);
      }, ms),
    );
  }

  get size(): number {
    return this.pending.size + this.active.size;
  }

  /** Resolves once nothing is queued or running (used by tests). */
  async drain(): Promise<void> {
    while (this.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.concurrency && this.order.length > 0) {
      const key = this.order.shift()!;
      this.pending.delete(key);
      this.active.add(key);
      this.running++;
      void this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    let retryMs: number | undefined;
    let failed = false;
    try {
      const outcome = await this.handler(key);
      this.failures.delete(key);
      retryMs = outcome?.requeueAfterMs;
    } catch (err) {
      failed = true;
      if (this.opts.isTransient?.(err)) {
        retryMs = TRANSIENT_RETRY_MS;
      } else {
        const count = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, count);
        retryMs = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** (count - 1));
        this.opts.onError?.(key, err);
      }
    }
    this.finish(key, failed, retryMs);
  }

  private finish(key: string, failed: boolean, retryMs: number | undefined): void {
    this.active.delete(key);
    this.running--;
    // A change that arrived while the key was processed is looked at right away,
    // unless the key just failed (then the retry timer decides).
    if (this.dirty.delete(key) && !failed) {
      this.add(key);
    } else if (retryMs !== undefined) {
      this.addAfter(key, retryMs);
    }
    this.pump();
  }
}
