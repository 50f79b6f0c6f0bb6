/** Startup progress of the bed; one line per event, never secrets. */
export function log(message: string): void {
  console.log(`[bed] ${message}`);
}

export function seconds(sinceMs: number): string {
  return `${((performance.now() - sinceMs) / 1000).toFixed(1)}s`;
}

/** Runs one startup step and prints how long it took, so slow components stand out. */
export async function timed<T>(component: string, step: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await step();
  log(`${component.padEnd(28)} ready in ${seconds(start)}`);
  return result;
}
