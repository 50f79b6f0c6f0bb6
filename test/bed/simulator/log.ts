/**
 * One concise line per storage action or problem, on stderr (stdout carries only
 * the `simulator ready` line the bed waits for). Never logs object bodies, so
 * Secret data read for deletion credentials cannot leak.
 */
export function log(cluster: string | undefined, message: string): void {
  const time = new Date().toISOString().slice(11, 23);
  process.stderr.write(`${time} sim${cluster ? `[${cluster}]` : ''} ${message}\n`);
}
