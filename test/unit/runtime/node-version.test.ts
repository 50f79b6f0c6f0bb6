import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The Node version scripts/node22.sh fetches, read from the script itself. */
function pinnedVersion(): string {
  const pinned = /^NODE22_VERSION=(\S+)$/m.exec(readFileSync('scripts/node22.sh', 'utf8'))?.[1];
  if (!pinned) throw new Error('scripts/node22.sh pins no NODE22_VERSION');
  return pinned;
}

describe('Node version', () => {
  it('pins, for tests and local runs, the major version the functions have on Lambda', () => {
    const runtime = /^\s*runtime:\s*nodejs(\d+)\.x\s*$/m.exec(readFileSync('serverless.yml', 'utf8'))?.[1];
    expect(runtime).toBeDefined();
    expect(pinnedVersion().split('.')[0]).toBe(runtime);
  });

  // Set by scripts/with-node22.sh (npm test, npm run test:unit, .ci/run): checks that
  // the tests really run on the pinned Node, not on whatever the machine has.
  it.runIf(process.env.SKIFF_REQUIRE_NODE22 === '1')('runs on that Node (SKIFF_REQUIRE_NODE22=1)', () => {
    expect(process.versions.node).toBe(pinnedVersion());
  });
});
