import { z } from 'zod';
import { secretValueSchema } from './secret-value';
import { durationSchema } from './duration-field';
import { ValidationError } from '../core/errors';
import { parseBackupSpec, type BackupSpecInput } from '../velero/backup';
import { tryParseCron } from '../schedule/cron';
import { timeZoneIssue } from '../schedule/time-zone';

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

/**
 * Which backups of its storage locations rediscovery makes usable in a cluster:
 * `all` (every backup, as a Velero installation pointed at the location would), `own`
 * (only the backups this cluster made: the disaster case, and what expiry needs) or
 * `none`. The cap keeps a first sync of a large bucket within the API server's
 * fairness limits; the rest follow in the next runs.
 */
export const clusterSyncSchema = strictObject({
  mode: z.enum(['all', 'own', 'none'], {
    error: 'must be "all" (every backup of its storage locations), "own" (only the backups this cluster made) or "none"',
  }).default('all'),
  maxContentsPerRun: z
    .number({ error: 'must be a whole number of VolumeSnapshotContents, e.g. 500' })
    .int({ error: 'must be a whole number of VolumeSnapshotContents, e.g. 500' })
    .min(1, { error: 'must be at least 1; use mode: none to make no contents at all' })
    .max(10_000, { error: 'must be at most 10000 per run; the rest follow in the next runs' })
    .default(500),
});

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
  /**
   * Annotations the readiness checks honour for the whole cluster, as if set on each of
   * its objects: `harvesterhci.io/skipSingleReplicaDetachedVol` (any non-empty value)
   * lowers detached single-replica Longhorn volumes from a block to a warning.
   */
  annotations: z.record(z.string().min(1), z.string()).optional(),
  /** What rediscovery brings into this cluster (see clusterSyncSchema). */
  sync: clusterSyncSchema.default({ mode: 'all', maxContentsPerRun: 500 }),
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
  /** How often expiry looks at each storage location (Velero's garbage collection, default 60m); 0 turns it off. */
  gcFrequency: durationSchema.default('60m'),
  csiSnapshotTimeout: durationSchema.default('10m'),
  /**
   * At most this many backups are deleted by one expiry run of a location; the rest
   * wait for the next run (its plan says so), so a backlog never makes one run
   * outgrow its time limit.
   */
  maxDeletionsPerRun: z.number().int({ error: 'must be a whole number' }).positive({ error: 'must be at least 1' }).max(1000).default(50),
});

/**
 * Who may call the HTTP API. Callers present one of the bearer tokens, or sign the
 * body with the HMAC secret (webhooks). With neither configured every call is refused.
 */
export const apiSchema = strictObject({
  bearerTokens: z.array(secretValueSchema).default([]),
  hmacSecret: secretValueSchema.optional(),
});

/** A backup is named `<schedule>-<yyyyMMddHHmmss>`, and that must still be a DNS-1123 label. */
const SCHEDULE_NAME_MAX_LENGTH = 63 - '-yyyyMMddHHmmss'.length;

/**
 * A Velero Backup spec that every backup of a schedule starts from. It is checked here
 * with Velero's rules but kept as written: the server defaults (ttl, storage location)
 * are filled in when each backup is created, from the configuration of that moment.
 */
const backupTemplateSchema = z
  .record(z.string(), z.unknown())
  .superRefine((template, ctx) => {
    try {
      parseBackupSpec(template);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const issue of error.issues) {
        const path = issue.path === '' ? [] : issue.path.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
        ctx.addIssue({ code: 'custom', path, message: issue.message });
      }
    }
  })
  // Checked just above; the type says which fields a template may have.
  .transform((template) => template as BackupSpecInput);

/** Backups taken on a cron schedule, the way a Velero Schedule takes them. */
export const scheduleSchema = strictObject({
  name: dnsLabel.max(SCHEDULE_NAME_MAX_LENGTH, {
    error: `must be at most ${SCHEDULE_NAME_MAX_LENGTH} characters, so that "<name>-yyyyMMddHHmmss" is a valid backup name`,
  }),
  /** Name of a configured cluster. */
  cluster: z.string().min(1, { error: 'name a configured cluster' }),
  /** Cron text as Velero reads it: 5 fields, @daily and friends, @every 6h, CRON_TZ=<zone> prefix. */
  schedule: z.string().superRefine((text, ctx) => {
    const result = tryParseCron(text);
    if (!result.ok) ctx.addIssue({ code: 'custom', message: result.message });
  }),
  /** IANA zone whose wall clock the fields are read on; a CRON_TZ= prefix wins. */
  timeZone: z
    .string()
    .superRefine((name, ctx) => {
      const issue = timeZoneIssue(name);
      if (issue) ctx.addIssue({ code: 'custom', message: issue });
    })
    .default('UTC'),
  template: backupTemplateSchema.default({}),
  /** Overrides `template.ttl`. */
  ttl: durationSchema.optional(),
  paused: z.boolean().default(false),
  /**
   * Retention beyond the TTL: expiry never deletes one of the newest `keepLast`
   * Completed backups of this schedule, whatever their expiration says.
   */
  keepLast: z.number().int({ error: 'must be a whole number' }).nonnegative({ error: 'must be 0 or more' }).optional(),
  /**
   * What a readiness check of the cluster does to each new slot: `block` skips the slot
   * (recorded with the reasons) while a finding blocks, `warn` starts it and logs the
   * blocking findings, `off` does not check.
   */
  readiness: z.enum(['block', 'warn', 'off'], { error: 'must be block, warn or off' }).default('warn'),
});

/**
 * Velero's server feature flags that change what a backup holds. `enableAPIGroupVersions`
 * (Velero's `--features=EnableAPIGroupVersions`) writes every served version of each
 * type next to the preferred one, for every backup; a single backup asks for it with
 * the annotation skiff.io/api-group-versions: all.
 */
export const featuresSchema = strictObject({
  enableAPIGroupVersions: z.boolean({ error: 'must be true or false' }).default(false),
});

export const configSchema = strictObject({
  api: apiSchema.default({ bearerTokens: [] }),
  clusters: z.array(clusterSchema).default([]),
  storageLocations: z.array(storageLocationSchema).default([]),
  schedules: z.array(scheduleSchema).default([]),
  defaults: defaultsSchema.default({
    backupTTL: '720h0m0s',
    gcFrequency: '60m',
    csiSnapshotTimeout: '10m',
    maxDeletionsPerRun: 50,
  }),
  features: featuresSchema.default({ enableAPIGroupVersions: false }),
}).superRefine((config, ctx) => {
  const locationNames = new Set(config.storageLocations.map((l) => l.name));
  reportDuplicates(config.clusters, 'clusters', ctx);
  reportDuplicates(config.storageLocations, 'storageLocations', ctx);
  reportDuplicates(config.schedules, 'schedules', ctx);
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
  const clusters = new Map(config.clusters.map((c) => [c.name, c]));
  config.schedules.forEach((schedule, i) => {
    const cluster = clusters.get(schedule.cluster);
    if (!cluster) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedules', i, 'cluster'],
        message: `no cluster named "${schedule.cluster}"; defined: ${[...clusters.keys()].join(', ') || '(none)'}`,
      });
      return;
    }
    const location = schedule.template.storageLocation;
    // Checked now rather than at every slot, where each backup would be refused.
    if (location && !cluster.storageLocations.includes(location)) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedules', i, 'template', 'storageLocation'],
        message: `cluster "${cluster.name}" does not back up to "${location}"; allowed: ${cluster.storageLocations.join(', ')}`,
      });
    }
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
export type ClusterSyncConfig = z.infer<typeof clusterSyncSchema>;
export type StorageLocationConfig = z.infer<typeof storageLocationSchema>;
export type ClusterAuth = ClusterConfig['auth'];
export type ApiConfig = z.infer<typeof apiSchema>;
export type ScheduleConfig = z.infer<typeof scheduleSchema>;
