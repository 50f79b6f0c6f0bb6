/** Storage latency is modelled by awaiting; a zero delay still yields once. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
