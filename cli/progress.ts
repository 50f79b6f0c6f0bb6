/**
 * A one-line progress display on stderr, redrawn every second from `line()` (a fresh
 * read of the run), when stderr is a terminal; a failed read skips that redraw. The line
 * is cleared before each redraw: a stage's message changes length as it goes.
 */
export function showProgress(line: () => Promise<string>): { stop: () => void } {
  if (!process.stderr.isTTY) return { stop: () => undefined };
  const timer = setInterval(() => {
    line().then(
      (text) => process.stderr.write(`\r\x1b[2K${text}`),
      () => undefined,
    );
  }, 1000);
  return {
    stop: () => {
      clearInterval(timer);
      process.stderr.write('\n');
    },
  };
}
