export interface WaitOptions {
  /** Says what is awaited, for the timeout message: "PVC ns/data to be Bound". */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** Returns a reason when further waiting is pointless, e.g. the awaited process exited. */
  giveUpIf?: () => string | undefined;
}

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 500 ? `${text.slice(0, 500)}...` : text;
}

/**
 * Polls `check` until it returns a truthy value and returns that value. A check
 * that throws counts as "not yet" (the API may be starting, the object may not
 * exist yet); on timeout the error says what was awaited and shows the last error
 * or result, which is usually the reason.
 */
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let last: { error: unknown } | { result: unknown } = { result: undefined };
  for (;;) {
    const reason = options.giveUpIf?.();
    if (reason) throw new Error(`gave up waiting for ${options.what}: ${reason}`);
    try {
      const result = await check();
      if (result) return result;
      last = { result };
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline) {
      const detail = 'error' in last ? `last error: ${describe(last.error)}` : `last result: ${describe(last.result)}`;
      throw new WaitTimeoutError(`timed out after ${(timeoutMs / 1000).toFixed(0)}s waiting for ${options.what} (${detail})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
