/**
 * Whether the one-minute dispatcher starts a location's expiry run at this tick: once
 * per `frequencyMs` (defaults.gcFrequency), at the first tick of each period counted
 * from the Unix epoch, so no state is kept between ticks. Periods are shifted per
 * location by a stable offset, so that locations are not all collected in the same
 * minute. A tick that never comes skips that period's run; the next period's comes
 * (Velero's garbage collection runs on a timer in the same way, pkg/controller/gc_controller.go).
 *
 * @param frequencyMs the period; 0 or less: never.
 * @param tickMs how often the dispatcher runs (one minute).
 */
export function gcDue(location: string, now: Date, frequencyMs: number, tickMs = 60_000): boolean {
  if (frequencyMs <= 0) return false;
  const offset = stableOffset(location) % frequencyMs;
  const t = now.getTime() - offset;
  return Math.floor(t / frequencyMs) !== Math.floor((t - tickMs) / frequencyMs);
}

/** A number from the name, the same in every process (FNV-1a, 32 bits), in whole minutes. */
function stableOffset(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash % 1440) * 60_000;
}
