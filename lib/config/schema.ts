import { z } from 'zod';
import { secretValueSchema } from './secret-value';
import { durationSchema } from './duration-field';

/**
 * The one schema of Skiff's configuration. Objects are strict so that a typo in a
 * field name fails at cold start instead of silently falling back to a default.
 */

/** A strict object whose "unknown field" error also lists the allowed fields. */
function strictObject<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed: ${allowed}`
        : undefined,
  });
}

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
    error: 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending alphanumeric, at most 63 characters',
  });

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://10.0.0.1:6443' });

const clusterAuthSchema = z.union(
  [
    strictObject({
      /** A whole kubeconfig; its current context (or `context`) names server and credentials. */
      kubeconfig: secretValueSchema,
      context: z.string().min(1).optional(),
    }),
    strictObject({ token: secretValueSchema }),
    strictObject({
      clientCertificate: strictObject({ cert: secretValueSchema, key: secretValueSchema }),
    }),
  ],
  { error: 'expected exactly one of {kubeconfig: ...}, {token: ...} or {clientCertificate: {cert, key}}' },
);

export const clusterSchema = strictObject({
  name: dnsLabel,
  /** API server URL; may be omitted when `auth.kubeconfig` names one. */
  server: httpUrl.optional(),
  /** PEM of the CA that signed the API server's certificate (not a secret). */
  caData: z.string().min(1).optional(),
  caFile: z.string().min(1).optional(),
  insecureSkipTLSVerify: z.boolean().default(false),
  auth: clusterAuthSchema,
  /** Names of storage locations this cluster's backups go to; the first is the default. */
  storageLocations: z.array(dnsLabel).min(1, { error: 'name at least one storage location' }),
  /** Client-side rate limit toward this API server, to stay inside its fairness limits. */
  qps: z.number().positive().max(1000).default(50),
  burst: z.number().int().positive().max(2000).default(100),
});

export const storageLocationSchema = strictObject({
  name: dnsLabel,
  provider: z.literal('aws', { error: 'only "aws" (S3 and S3-compatible stores) is supported' }).default('aws'),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
      error: 'must be an S3 bucket name: 3-63 lowercase letters, digits, "." and "-"',
    }),
  /** Optional folder inside the bucket; Velero's layout lives below it. */
  prefix: z
    .string()
    .regex(/^[^/](.*[^/])?$/, { error: 'must not start or end with "/"' })
    .optional(),
  region: z.string().min(1).default('us-east-1'),
  /** Endpoint of an S3-compatible store (MinIO, Ceph RGW); omit for AWS S3. */
  endpoint: httpUrl.optional(),
  forcePathStyle: z.boolean().default(false),
  credentials: strictObject({
    accessKeyId: secretValueSchema,
    secretAccessKey: secretValueSchema,
    sessionToken: secretValueSchema.optional(),
  }).optional(),
  /**
   * Newer S3 SDKs send CRC32 checksums and aws-chunked bodies that many
   * S3-compatible servers mishandle. Default: WHEN_REQUIRED with a custom endpoint,
   * WHEN_SUPPORTED on AWS.
   */
  checksumMode: z.enum(['WHEN_REQUIRED', 'WHEN_SUPPORTED']).optional(),
  accessMode: z.enum(['ReadWrite', 'ReadOnly']).default('ReadWrite'),
  /** How often clusters rediscover backups stored here (Velero's backupSyncPeriod); 0 turns it off. */
  refreshInterval: durationSchema.default('1m'),
});

export const defaultsSchema = strictObject({
  backupTTL: durationSchema.default('720h0m0s'),
  gcFrequency: durationSchema.default('60m'),
  csiSnapshotTimeout: durationSchema.default('10m'),
});

export const configSchema = strictObject({
  clusters: z.array(clusterSchema).default([]),
  storageLocations: z.array(storageLocationSchema).default([]),
  defaults: defaultsSchema.default({
    backupTTL: '720h0m0s',
    gcFrequency: '60m',
    csiSnapshotTimeout: '10m',
  }),
}).superRefine((config, ctx) => {
  const locationNames = new Set(config.storageLocations.map((l) => l.name));
  reportDuplicates(config.clusters, 'clusters', ctx);
  reportDuplicates(config.storageLocations, 'storageLocations', ctx);
  config.clusters.forEach((cluster, i) => {
    if (!cluster.server && !('kubeconfig' in cluster.auth)) {
      ctx.addIssue({
        code: 'custom',
        path: ['clusters', i, 'server'],
        message: 'required unless auth.kubeconfig names the server',
      });
    }
    if (cluster.caData && cluster.caFile) {
      ctx.addIssue({ code: 'custom', path: ['clusters', i, 'caFile'], message: 'give caData or caFile, not both' });
    }
    cluster.storageLocations.forEach((name, j) => {
      if (!locationNames.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['clusters', i, 'storageLocations', j],
          message: `no storage location named "${name}"; defined: ${[...locationNames].join(', ') || '(none)'}`,
        });
      }
    });
  });
});

function reportDuplicates(items: { name: string }[], field: string, ctx: z.RefinementCtx) {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name)) {
      ctx.addIssue({ code: 'custom', path: [field, i, 'name'], message: `duplicate name "${item.name}"` });
    }
    seen.add(item.name);
  });
}

export type SkiffConfig = z.infer<typeof configSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type StorageLocationConfig = z.infer<typeof storageLocationSchema>;
export type ClusterAuth = ClusterConfig['auth'];
