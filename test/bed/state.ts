import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * What tests need to reach the bed: written once by the bed at startup, read by
 * test helpers (test/bed/context.ts) through SKIFF_BED_STATE. It holds credentials,
 * so the file is readable by its owner only and its contents are never logged.
 */
export const clusterStateSchema = z.object({
  name: z.string(),
  /** https://127.0.0.1:<port> */
  server: z.string(),
  /** PEM file of the cluster's CA. */
  caFile: z.string(),
  /** The same CA, base64 of the PEM, as in a kubeconfig's certificate-authority-data. */
  caData: z.string(),
  /** Kubeconfig with an admin client certificate (group system:masters). */
  adminKubeconfigPath: z.string(),
  /** Bearer token of an admin user (group system:masters). */
  adminToken: z.string(),
  /** Bearer token of a user with no RBAC grants beyond what every authenticated user has. */
  limitedToken: z.string(),
  limitedUser: z.string(),
});

export const bedStateSchema = z.object({
  /** The process that owns the bed; it stops the bed when it ends. */
  ownerPid: z.number(),
  workDir: z.string(),
  clusters: z.record(z.string(), clusterStateSchema),
  minio: z.object({
    endpoint: z.string(),
    accessKey: z.string(),
    secretKey: z.string(),
    region: z.literal('us-east-1'),
  }),
  /** Null when the storage simulator is not part of this bed. */
  simulator: z.object({ ledgerUrl: z.string() }).nullable(),
});

export type ClusterState = z.infer<typeof clusterStateSchema>;
export type BedState = z.infer<typeof bedStateSchema>;

export function writeBedState(path: string, state: BedState): void {
  writeFileSync(path, JSON.stringify(state, null, 2), { mode: 0o600 });
}

export function readBedState(path: string): BedState {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the test bed state ${path}: ${(error as Error).message}`);
  }
  const parsed = bedStateSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`test bed state ${path} is not valid: ${parsed.error.message}`);
  return parsed.data;
}
