/**
 * Runtime knobs of the simulated storage: how slow it is and which snapshots it
 * refuses to take or to delete. Tests change them over HTTP while the bed runs, so every
 * operation reads the current values when it starts.
 */

import { z } from 'zod';

export interface SimConfig {
  /** Time CreateVolume takes before the PV appears. */
  provisionDelayMs: number;
  /** Time CreateSnapshot takes before the content becomes ready. */
  snapshotDelayMs: number;
  /** Time DeleteVolume and DeleteSnapshot take. */
  deleteDelayMs: number;
  /**
   * A regular expression; CreateSnapshot fails for source PVCs whose name or
   * `namespace/name` matches it. null: no failures.
   */
  failSnapshotsFor: string | null;
  /**
   * A regular expression; DeleteSnapshot fails for snapshots whose source volume's
   * PVC (deleted or not) has a name or `namespace/name` matching it. null: no failures.
   */
  failDeletesFor: string | null;
}

export const defaultConfig: SimConfig = {
  provisionDelayMs: 0,
  snapshotDelayMs: 0,
  deleteDelayMs: 0,
  failSnapshotsFor: null,
  failDeletesFor: null,
};

const delay = z.number().int().min(0).max(600_000);

const pattern = z
  .string()
  .nullable()
  .refine(
    (value) => {
      if (value === null) return true;
      try {
        new RegExp(value);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'not a valid regular expression' },
  )
  // An empty pattern would match every PVC; treat it as "no failures" instead.
  .transform((value) => (value === '' ? null : value));

export const configPatchSchema = z.strictObject({
  provisionDelayMs: delay.optional(),
  snapshotDelayMs: delay.optional(),
  deleteDelayMs: delay.optional(),
  failSnapshotsFor: pattern.optional(),
  failDeletesFor: pattern.optional(),
});

export type ConfigPatch = z.infer<typeof configPatchSchema>;

/** Validates a patch; returns the issues as `path: message` lines when it is wrong. */
export function parseConfigPatch(input: unknown): { ok: true; patch: ConfigPatch } | { ok: false; issues: string[] } {
  const result = configPatchSchema.safeParse(input);
  if (result.success) return { ok: true, patch: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
  };
}

interface ClaimName {
  namespace: string;
  name: string;
}

/**
 * The one matching rule of every failure pattern, so a test can name a PVC the
 * same way for each: by its name alone or by `namespace/name`.
 */
function claimMatches(source: string | null, claim: ClaimName | undefined): boolean {
  if (source === null || !claim) return false;
  const re = new RegExp(source);
  return re.test(claim.name) || re.test(`${claim.namespace}/${claim.name}`);
}

export class ConfigStore {
  private value: SimConfig;

  constructor(initial: SimConfig = defaultConfig) {
    this.value = { ...initial };
  }

  get current(): SimConfig {
    return { ...this.value };
  }

  update(patch: ConfigPatch): SimConfig {
    const next = { ...this.value };
    if (patch.provisionDelayMs !== undefined) next.provisionDelayMs = patch.provisionDelayMs;
    if (patch.snapshotDelayMs !== undefined) next.snapshotDelayMs = patch.snapshotDelayMs;
    if (patch.deleteDelayMs !== undefined) next.deleteDelayMs = patch.deleteDelayMs;
    if (patch.failSnapshotsFor !== undefined) next.failSnapshotsFor = patch.failSnapshotsFor;
    if (patch.failDeletesFor !== undefined) next.failDeletesFor = patch.failDeletesFor;
    this.value = next;
    return this.current;
  }

  /** Whether a snapshot of the volume of this PVC must fail. */
  snapshotFails(claim: ClaimName | undefined): boolean {
    return claimMatches(this.value.failSnapshotsFor, claim);
  }

  /** Whether deleting a snapshot cut from the volume of this PVC must fail. */
  deleteFails(claim: ClaimName | undefined): boolean {
    return claimMatches(this.value.failDeletesFor, claim);
  }
}
