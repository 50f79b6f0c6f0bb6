import { existsSync } from 'node:fs';
import { ownerAlive, terminateRun } from './runs';

/**
 * Runs beside a bed, in its own process group, and stops the bed's processes when
 * the bed's owner dies without doing so (SIGKILL, a crash, an out-of-memory kill):
 * exit hooks cannot run then. Ends by itself once the run file is gone (clean stop).
 * Usage: node --import tsx test/bed/watchdog.ts <run file>
 */
const runFile = process.argv[2];
if (!runFile) throw new Error('usage: watchdog.ts <run file>');

for (;;) {
  if (!existsSync(runFile)) break;
  if (!ownerAlive(runFile)) {
    await terminateRun(runFile, 3_000);
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
}
