import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startBed } from './bed';
import { log } from './log';
import { readBedState } from './state';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the bed's state file (see test/bed/state.ts). */
    skiffBedState: string;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the test bed once per vitest run and stops it after the last test. With
 * SKIFF_BED_STATE already set (a bed from `npm run bed:up` in another terminal),
 * the run uses that bed instead and leaves it running.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const existing = process.env.SKIFF_BED_STATE;
  if (existing) {
    // A stopped bed deletes its state file; a crashed one leaves it behind.
    if (!existsSync(existing) || !isRunning(readBedState(existing).ownerPid)) {
      throw new Error(`SKIFF_BED_STATE=${existing} belongs to a bed that is no longer running: unset it or start the bed again`);
    }
    log(`using the running bed of ${existing}`);
    project.provide('skiffBedState', existing);
    return undefined;
  }

  const bed = await startBed();
  // Test workers read the path from the environment they inherit, or from inject().
  process.env.SKIFF_BED_STATE = bed.statePath;
  project.provide('skiffBedState', bed.statePath);
  return async () => {
    delete process.env.SKIFF_BED_STATE;
    await bed.stop();
  };
}
