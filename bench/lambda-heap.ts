import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * The V8 heap flags the Lambda Node.js runtime starts a function with, derived from its
 * memory size (the runtime's bootstrap: a tenth of the memory for the young generation,
 * half of that per semi-space, the rest for the old generation). The bench runs its
 * children with the flags of the backupRunner function, so their memory behaves like the
 * deployed function's: without them, Node's defaults (16 MiB semi-spaces) promote far
 * more short-lived list pages to the old generation, which then grows until a full
 * collection.
 * (CloudFormation tags such as !Sub are left unresolved: only memorySize is read.)
 */
export function lambdaHeapFlags(repoRoot: string, functionName = 'backupRunner'): { memoryMb: number; flags: string[] } {
  const manifest = parse(readFileSync(join(repoRoot, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as {
    provider?: { memorySize?: number };
    functions?: Record<string, { memorySize?: number }>;
  };
  const memoryMb = manifest.functions?.[functionName]?.memorySize ?? manifest.provider?.memorySize ?? 1024;
  const newSpace = Math.floor(memoryMb / 10);
  return {
    memoryMb,
    flags: [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`],
  };
}
