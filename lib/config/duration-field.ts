import { z } from 'zod';
import { parseDuration, tryParseDuration } from '../velero/duration';

/**
 * A duration written the way Velero writes them (`720h0m0s`, `10m`, `0`). Kept as
 * text in the configuration (it is shown back to people); `durationMs` converts.
 */
export const durationSchema = z.preprocess(
  // YAML reads a bare `0` as a number; it is the one duration that needs no unit.
  (value) => (typeof value === 'number' ? String(value) : value),
  z.string().superRefine((text, ctx) => {
    const result = tryParseDuration(text);
    if (!result.ok) ctx.addIssue({ code: 'custom', message: `${result.message}; write e.g. 30s, 10m, 720h0m0s or 0` });
    else if (result.nanoseconds < 0n) ctx.addIssue({ code: 'custom', message: 'must not be negative' });
  }),
);

export function durationMs(text: string): number {
  return parseDuration(text);
}
