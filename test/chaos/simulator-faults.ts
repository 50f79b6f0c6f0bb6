import type { BedState } from '../bed/state';

/**
 * The storage simulator's fault knobs shared by the lanes of a chaos run. The simulator
 * has one configuration (test/bed/simulator/config.ts); each lane asks for its own
 * fault and gives it back, and this keeps the configuration the union of what is asked:
 * failures for every namespace that wants them, the slowest delay anyone wants. Changes
 * are sent one at a time, in order.
 */
export class SimulatorFaults {
  private readonly failSnapshots = new Set<string>();
  private readonly failDeletes = new Set<string>();
  private readonly slow = new Set<{ snapshotDelayMs: number; deleteDelayMs: number }>();
  private sending: Promise<unknown> = Promise.resolve();

  constructor(private readonly configUrl: string) {}

  static forBed(state: BedState): SimulatorFaults {
    return new SimulatorFaults(state.simulator!.ledgerUrl.replace(/\/ledger$/, '/config'));
  }

  /** CreateSnapshot fails for the PVCs of `namespace` until the returned function is called. */
  async failSnapshotsIn(namespace: string): Promise<() => Promise<void>> {
    return this.hold(this.failSnapshots, namespace);
  }

  /** DeleteSnapshot fails for snapshots of the PVCs of `namespace` until released. */
  async failDeletesIn(namespace: string): Promise<() => Promise<void>> {
    return this.hold(this.failDeletes, namespace);
  }

  /** Snapshots and deletions take this long (at least) until released. */
  async slowDown(delays: { snapshotDelayMs: number; deleteDelayMs: number }): Promise<() => Promise<void>> {
    return this.hold(this.slow, { ...delays });
  }

  private async hold<T>(set: Set<T>, item: T): Promise<() => Promise<void>> {
    set.add(item);
    await this.send();
    return async () => {
      set.delete(item);
      await this.send();
    };
  }

  private send(): Promise<void> {
    const body = {
      failSnapshotsFor: namespacesPattern(this.failSnapshots),
      failDeletesFor: namespacesPattern(this.failDeletes),
      snapshotDelayMs: Math.max(0, ...[...this.slow].map((s) => s.snapshotDelayMs)),
      deleteDelayMs: Math.max(0, ...[...this.slow].map((s) => s.deleteDelayMs)),
    };
    const sent = this.sending.then(async () => {
      const res = await fetch(this.configUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`POST ${this.configUrl} answered ${res.status}: ${await res.text()}`);
    });
    this.sending = sent.catch(() => undefined);
    return sent;
  }
}

/** `^(a|b)/`: the PVCs of those namespaces (names are DNS labels, no escaping needed); null for none. */
function namespacesPattern(namespaces: Set<string>): string | null {
  return namespaces.size === 0 ? null : `^(${[...namespaces].join('|')})/`;
}
