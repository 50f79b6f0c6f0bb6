/**
 * How long at least one request of a kind was in flight: where a run's wall time went
 * (waiting for the API server, for S3, or neither: our own CPU and waits).
 */
export class BusyTimer {
  private inFlight = 0;
  private since = 0;
  private busy = 0;
  private requests = 0;

  start(): void {
    if (this.inFlight === 0) this.since = performance.now();
    this.inFlight += 1;
    this.requests += 1;
  }

  end(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0) this.busy += performance.now() - this.since;
  }

  async time<T>(work: () => Promise<T>): Promise<T> {
    this.start();
    try {
      return await work();
    } finally {
      this.end();
    }
  }

  /** Milliseconds with at least one request in flight. */
  get busyMs(): number {
    return this.busy + (this.inFlight > 0 ? performance.now() - this.since : 0);
  }
}
