/**
 * Lanes of a chaos run share one bed. Restarting MinIO or an API server pulls the floor
 * from under every lane: other lanes' jobs meet it like any fault (that is the point),
 * but the harness's own calls and checks must not, or a restart in one lane would fail
 * another lane's lifecycle. So the harness's sections are shared, and a restart is
 * exclusive: it waits for the sections in flight and holds new ones until the component
 * is back. Waiters are served in arrival order, so a restart is not starved.
 */
export class Gate {
  private shared = 0;
  private exclusive = false;
  private readonly waiting: { exclusive: boolean; enter: () => void }[] = [];

  /** Runs `work` beside other shared steps. */
  async withShared<T>(work: () => Promise<T>): Promise<T> {
    return this.run(false, work);
  }

  /** Runs `work` with no other step in flight. */
  async withExclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.run(true, work);
  }

  private async run<T>(exclusive: boolean, work: () => Promise<T>): Promise<T> {
    await new Promise<void>((enter) => {
      this.waiting.push({ exclusive, enter });
      this.admit();
    });
    try {
      return await work();
    } finally {
      if (exclusive) this.exclusive = false;
      else this.shared -= 1;
      this.admit();
    }
  }

  /** Lets in the waiters at the head of the queue that may enter now. */
  private admit(): void {
    while (this.waiting.length > 0 && !this.exclusive) {
      const next = this.waiting[0]!;
      if (next.exclusive && this.shared > 0) return;
      this.waiting.shift();
      if (next.exclusive) this.exclusive = true;
      else this.shared += 1;
      next.enter();
    }
  }
}
