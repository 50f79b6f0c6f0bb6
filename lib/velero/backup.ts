import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../core/errors';
import { durationToMilliseconds, formatDurationNanos, tryParseDuration } from './duration';
import {
  dns1123LabelIssues,
  dns1123SubdomainIssues,
  labelKeyIssues,
  labelValueIssues,
  validLabelValue,
} from './names';

/**
 * The velero.io/v1 Backup object as Velero defines it (pkg/apis/velero/v1/backup_types.go)
 * and stores it in `backups/<name>/velero-backup.json`.
 */

/** `apiVersion` of Velero's objects. */
export const VELERO_API_VERSION = 'velero.io/v1';
/** `kind` of a Backup object. */
export const BACKUP_KIND = 'Backup';
/** Namespace Velero is installed in by default; backups live there. */
export const DEFAULT_VELERO_NAMESPACE = 'velero';
/** `status.formatVersion` and the content of `metadata/version` in the tarball. */
export const BACKUP_FORMAT_VERSION = '1.1.0';
/** Deprecated `status.version` (the format's major version) that Velero still writes. */
export const BACKUP_MAJOR_VERSION = 1;

/** Label on every Backup naming its storage location (shortened by validLabelValue). */
export const STORAGE_LOCATION_LABEL = 'velero.io/storage-location';
/** Label on backups created by a schedule, naming the schedule. */
export const SCHEDULE_NAME_LABEL = 'velero.io/schedule-name';
/** Label Velero puts on objects it creates for a backup (VolumeSnapshots, ...). */
export const BACKUP_NAME_LABEL = 'velero.io/backup-name';
/** Objects (and namespaces) labelled with this set to "true" are left out of backups. */
export const EXCLUDE_FROM_BACKUP_LABEL = 'velero.io/exclude-from-backup';

/** Annotations Velero adds to a backup so restores can detect version skew. */
export const SOURCE_CLUSTER_GIT_VERSION_ANNOTATION = 'velero.io/source-cluster-k8s-gitversion';
export const SOURCE_CLUSTER_MAJOR_VERSION_ANNOTATION = 'velero.io/source-cluster-k8s-major-version';
export const SOURCE_CLUSTER_MINOR_VERSION_ANNOTATION = 'velero.io/source-cluster-k8s-minor-version';
export const RESOURCE_TIMEOUT_ANNOTATION = 'velero.io/resource-timeout';

/**
 * Every phase Velero defines. Skiff itself uses a few of them, but it must understand all
 * of them when it reads backups Velero wrote.
 */
export const BACKUP_PHASES = [
  'New',
  'Queued',
  'ReadyToStart',
  'FailedValidation',
  'InProgress',
  'WaitingForPluginOperations',
  'WaitingForPluginOperationsPartiallyFailed',
  'Finalizing',
  'FinalizingPartiallyFailed',
  'Completed',
  'PartiallyFailed',
  'Failed',
  'Deleting',
] as const;
export type BackupPhase = (typeof BACKUP_PHASES)[number];

/** Values Velero's server fills in when a spec leaves them empty (or zero). */
export interface BackupDefaults {
  ttl: string;
  csiSnapshotTimeout: string;
  itemOperationTimeout: string;
  storageLocation: string;
}

/** Velero's own server defaults (`velero server --help`). */
export const VELERO_DEFAULTS: Readonly<BackupDefaults> = {
  ttl: '720h0m0s',
  csiSnapshotTimeout: '10m0s',
  itemOperationTimeout: '4h0m0s',
  storageLocation: 'default',
};

// ---------------------------------------------------------------------------------------
// Schemas. Requests are parsed strictly (an unknown field is a mistake worth reporting);
// stored backups loosely (a newer Velero may have added fields).

type Mode = 'strict' | 'loose';

/** Edit distance, to suggest the field a misspelt one was meant to be. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

function unknownFieldsMessage(unknown: readonly string[], allowed: readonly string[]): string {
  const parts = unknown.map((key) => {
    const best = allowed
      .map((candidate) => ({ candidate, distance: editDistance(key.toLowerCase(), candidate.toLowerCase()) }))
      .sort((x, y) => x.distance - y.distance)[0];
    // Close enough to be a typo: about one edit per three characters.
    const close = best && best.distance <= Math.max(1, Math.floor(key.length / 3));
    const hint = close ? ` (did you mean "${best.candidate}"?)` : '';
    return `"${key}"${hint}`;
  });
  const noun = unknown.length === 1 ? 'unknown field' : 'unknown fields';
  return `${noun} ${parts.join(', ')}; allowed fields here are: ${allowed.join(', ')}`;
}

function objectOf<S extends z.ZodRawShape>(mode: Mode, shape: S) {
  if (mode === 'loose') return z.looseObject(shape);
  const allowed = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? unknownFieldsMessage(issue.keys, allowed) : undefined),
  });
}

/** Velero marks most optional fields `+nullable`: null means the same as absent. */
function optionalOrNull<T extends z.ZodType>(schema: T) {
  return schema
    .nullish()
    .transform((value) => value ?? undefined)
    .optional();
}

const stringList = optionalOrNull(z.array(z.string()));
const flag = optionalOrNull(z.boolean());

/** A Go duration, stored the way Velero writes it (`1h30m` becomes `1h30m0s`). */
const duration = z.string().transform((text, ctx) => {
  const parsed = tryParseDuration(text);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.message });
    return z.NEVER;
  }
  return formatDurationNanos(parsed.nanoseconds);
});

/** A map of labels; a bad key is reported at its own path, with what is wrong with it. */
const labelMap = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const [key, value] of Object.entries(labels)) {
    for (const message of labelKeyIssues(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `label key ${JSON.stringify(key)}: ${message}` });
    }
    for (const message of labelValueIssues(value)) ctx.addIssue({ code: 'custom', path: [key], message });
  }
});

/** Operators of a metav1.LabelSelector expression. */
export const LABEL_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

function schemasFor(mode: Mode) {
  const labelSelectorRequirement = objectOf(mode, {
    key: z.string().superRefine((key, ctx) => {
      for (const message of labelKeyIssues(key)) ctx.addIssue({ code: 'custom', message: `label key ${message}` });
    }),
    operator: z.enum(LABEL_SELECTOR_OPERATORS),
    values: stringList,
  }).superRefine((requirement, ctx) => {
    const count = requirement.values?.length ?? 0;
    const needsValues = requirement.operator === 'In' || requirement.operator === 'NotIn';
    if (needsValues && count === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `operator ${requirement.operator} needs at least one value`,
      });
    }
    if (!needsValues && count > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `operator ${requirement.operator} takes no values; use In or NotIn to compare values`,
      });
    }
    for (const [i, value] of (requirement.values ?? []).entries()) {
      for (const message of labelValueIssues(value)) ctx.addIssue({ code: 'custom', path: ['values', i], message });
    }
  });

  /** metav1.LabelSelector: matchLabels and matchExpressions, all of which must match. */
  const labelSelector = objectOf(mode, {
    matchLabels: optionalOrNull(labelMap),
    matchExpressions: optionalOrNull(z.array(labelSelectorRequirement)),
  });

  const execHook = objectOf(mode, {
    container: z.string().optional(),
    command: z.array(z.string()).min(1, 'an exec hook needs a command of at least one element'),
    onError: z.enum(['Continue', 'Fail']).optional(),
    timeout: duration.optional(),
  });

  const resourceHook = objectOf(mode, { exec: execHook });

  const resourceHookSpec = objectOf(mode, {
    name: z.string().min(1, 'a hook needs a name'),
    includedNamespaces: stringList,
    excludedNamespaces: stringList,
    includedResources: stringList,
    excludedResources: stringList,
    labelSelector: optionalOrNull(labelSelector),
    pre: optionalOrNull(z.array(resourceHook)),
    post: optionalOrNull(z.array(resourceHook)),
  });

  const spec = objectOf(mode, {
    metadata: objectOf(mode, { labels: optionalOrNull(labelMap) }).optional(),
    includedNamespaces: stringList,
    excludedNamespaces: stringList,
    includedResources: stringList,
    excludedResources: stringList,
    includedClusterScopedResources: stringList,
    excludedClusterScopedResources: stringList,
    includedNamespaceScopedResources: stringList,
    excludedNamespaceScopedResources: stringList,
    labelSelector: optionalOrNull(labelSelector),
    orLabelSelectors: optionalOrNull(z.array(labelSelector)),
    snapshotVolumes: flag,
    ttl: duration.optional(),
    volumeGroupSnapshotLabelKey: z.string().optional(),
    includeClusterResources: flag,
    hooks: objectOf(mode, { resources: optionalOrNull(z.array(resourceHookSpec)) }).optional(),
    storageLocation: z.string().optional(),
    volumeSnapshotLocations: stringList,
    defaultVolumesToRestic: flag,
    defaultVolumesToFsBackup: flag,
    orderedResources: optionalOrNull(z.record(z.string(), z.string())),
    csiSnapshotTimeout: duration.optional(),
    itemOperationTimeout: duration.optional(),
    resourcePolicy: optionalOrNull(
      objectOf(mode, { apiGroup: optionalOrNull(z.string()), kind: z.string(), name: z.string() }),
    ),
    snapshotMoveData: flag,
    datamover: z.string().optional(),
    uploaderConfig: optionalOrNull(objectOf(mode, { parallelFilesUpload: z.number().int().nonnegative().optional() })),
    backupType: z.enum(['Full', 'Incremental']).optional(),
  });

  return { labelSelector, spec };
}

const strictSchemas = schemasFor('strict');
const looseSchemas = schemasFor('loose');

/** metav1.LabelSelector as parsed. */
export type LabelSelector = z.output<typeof strictSchemas.labelSelector>;
export type LabelSelectorRequirement = NonNullable<LabelSelector['matchExpressions']>[number];

// ---------------------------------------------------------------------------------------
// Cross-field rules, as Velero's backup controller checks them before it runs a backup
// (pkg/controller/backup_controller.go, prepareBackupRequest).

const OLD_STYLE_FILTERS = ['includedResources', 'excludedResources', 'includeClusterResources'] as const;
const NEW_STYLE_FILTERS = [
  'includedClusterScopedResources',
  'excludedClusterScopedResources',
  'includedNamespaceScopedResources',
  'excludedNamespaceScopedResources',
] as const;

type ListIssue = { list: 'includes' | 'excludes'; message: string };

/** Velero's ValidateIncludesExcludes: rules for includedResources/excludedResources and namespaces. */
export function includesExcludesIssues(includes: readonly string[] = [], excludes: readonly string[] = []): ListIssue[] {
  const inc = new Set(includes);
  const exc = new Set(excludes);
  const issues: ListIssue[] = [];
  if (inc.size > 1 && inc.has('*')) {
    issues.push({ list: 'includes', message: "'*' means everything and must be the only item when present" });
  }
  if (exc.has('*')) {
    issues.push({ list: 'excludes', message: "'*' is not allowed here; to back up nothing of a kind, do not include it" });
  }
  for (const item of [...exc].sort()) {
    if (inc.has(item)) issues.push({ list: 'excludes', message: `"${item}" is also in the includes list; list it in one of them only` });
  }
  return issues;
}

/** Velero's ValidateScopedIncludesExcludes: rules for the cluster- and namespace-scoped lists. */
export function scopedIncludesExcludesIssues(
  includes: readonly string[] = [],
  excludes: readonly string[] = [],
): ListIssue[] {
  const inc = new Set(includes);
  const exc = new Set(excludes);
  const issues: ListIssue[] = [];
  if (inc.size > 1 && inc.has('*')) {
    issues.push({ list: 'includes', message: "'*' means everything and must be the only item when present" });
  }
  if (exc.size > 1 && exc.has('*')) {
    issues.push({ list: 'excludes', message: "'*' means everything and must be the only item when present" });
  }
  if (inc.size > 0 && exc.has('*')) {
    issues.push({ list: 'excludes', message: "'*' excludes everything, so the includes list must be empty" });
  }
  for (const item of [...exc].sort()) {
    if (inc.has(item)) issues.push({ list: 'excludes', message: `"${item}" is also in the includes list; list it in one of them only` });
  }
  return issues;
}

/**
 * Velero's wildcard.ValidateNamespaceName: what is wrong with the glob syntax of a
 * namespace pattern, or undefined when it is usable.
 */
export function namespacePatternIssue(pattern: string): string | undefined {
  if (/[|()!{},]/.test(pattern)) {
    return `"${pattern}" uses a character namespace patterns do not support (| ( ) ! { } ,); use *, ? or [...]`;
  }
  if (pattern.includes('**')) return `"${pattern}" has consecutive asterisks; a single * already matches any run of characters`;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === ']') return `"${pattern}" has a ']' without a matching '['`;
    if (pattern[i] === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) return `"${pattern}" has a '[' that is never closed`;
      if (close === i + 1) return `"${pattern}" has an empty bracket pattern '[]'`;
      i = close;
    }
  }
  return undefined;
}

/** Velero's ValidateNamespaceIncludesExcludes: list rules plus valid names or patterns. */
export function namespaceIncludesExcludesIssues(
  includes: readonly string[] = [],
  excludes: readonly string[] = [],
): ListIssue[] {
  const issues = includesExcludesIssues(includes, excludes);
  const check = (list: ListIssue['list'], names: readonly string[]) => {
    for (const name of [...new Set(names)].sort()) {
      // Velero reads "" as "no namespace" and accepts it.
      if (name === '') continue;
      const patternIssue = namespacePatternIssue(name);
      if (patternIssue) {
        issues.push({ list, message: patternIssue });
        continue;
      }
      const asName = name.replace(/[*?[\]]/g, 'x');
      for (const message of dns1123LabelIssues(asName)) {
        issues.push({ list, message: `"${name}" is not a namespace name or pattern: it ${message}` });
      }
    }
  };
  check('includes', includes);
  check('excludes', excludes);
  return issues;
}

type ParsedSpec = z.output<typeof strictSchemas.spec>;

function crossFieldIssues(spec: ParsedSpec): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const usedOld = OLD_STYLE_FILTERS.filter((f) =>
    f === 'includeClusterResources' ? spec[f] !== undefined : (spec[f]?.length ?? 0) > 0,
  );
  const usedNew = NEW_STYLE_FILTERS.filter((f) => (spec[f]?.length ?? 0) > 0);
  if (usedOld.length > 0 && usedNew.length > 0) {
    issues.push({
      path: usedNew[0]!,
      message:
        `old-style resource filters (${usedOld.join(', ')}) cannot be combined with new-style ones ` +
        `(${usedNew.join(', ')}); use either includedResources/excludedResources/includeClusterResources, ` +
        'or the cluster-scoped/namespace-scoped lists',
    });
  }

  const report = (includesField: string, excludesField: string, found: ListIssue[]) => {
    for (const issue of found) {
      issues.push({ path: issue.list === 'includes' ? includesField : excludesField, message: issue.message });
    }
  };
  if (usedOld.length > 0) {
    report('includedResources', 'excludedResources', includesExcludesIssues(spec.includedResources, spec.excludedResources));
  } else {
    report(
      'includedClusterScopedResources',
      'excludedClusterScopedResources',
      scopedIncludesExcludesIssues(spec.includedClusterScopedResources, spec.excludedClusterScopedResources),
    );
    report(
      'includedNamespaceScopedResources',
      'excludedNamespaceScopedResources',
      scopedIncludesExcludesIssues(spec.includedNamespaceScopedResources, spec.excludedNamespaceScopedResources),
    );
  }
  report(
    'includedNamespaces',
    'excludedNamespaces',
    namespaceIncludesExcludesIssues(spec.includedNamespaces, spec.excludedNamespaces),
  );

  if (spec.labelSelector !== undefined && spec.orLabelSelectors !== undefined) {
    issues.push({
      path: 'orLabelSelectors',
      message:
        'labelSelector and orLabelSelectors cannot both be set; use labelSelector for one selector, ' +
        'or orLabelSelectors for several alternatives',
    });
  }
  for (const field of ['ttl', 'csiSnapshotTimeout', 'itemOperationTimeout'] as const) {
    const value = spec[field];
    if (value?.startsWith('-')) issues.push({ path: field, message: `must not be negative, got "${value}"` });
  }
  return issues;
}

// ---------------------------------------------------------------------------------------
// Parsing.

function dotted(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** Turns zod issues into FieldIssues under `prefix`; an unknown field gets its own path. */
export function fieldIssuesFromZod(error: z.ZodError, prefix = ''): FieldIssue[] {
  const join = (rest: string) => (prefix && rest ? `${prefix}.${rest}` : prefix || rest);
  return error.issues.map((issue) => {
    const path = dotted(issue.path);
    if (issue.code === 'unrecognized_keys' && issue.keys.length === 1) {
      return { path: join(path ? `${path}.${issue.keys[0]}` : issue.keys[0]!), message: issue.message };
    }
    return { path: join(path), message: issue.message };
  });
}

/** A Backup spec as parsed: nulls dropped, durations in Velero's form. */
export type BackupSpec = ParsedSpec;
/** What callers may write as a Backup spec (Velero's JSON field names). */
export type BackupSpecInput = z.input<typeof strictSchemas.spec>;

/** How parseBackupSpec names its input in errors and which server defaults it applies. */
export interface ParseBackupSpecOptions {
  /** Names the input in error messages, e.g. "schedule nightly template". */
  source?: string;
  defaults?: BackupDefaults;
}

function isZeroDuration(value: string | undefined): boolean {
  return value === undefined || value === '0s';
}

/**
 * Validates a Backup spec with Velero's field names and rules and fills in what Velero's
 * server fills in (ttl, timeouts, storage location, all namespaces). Throws a
 * ValidationError listing every problem: unknown fields (with the allowed ones), wrong
 * types, invalid durations, selectors or namespace patterns, old- and new-style resource
 * filters mixed, labelSelector together with orLabelSelectors.
 */
export function parseBackupSpec(input: unknown, options: ParseBackupSpecOptions = {}): BackupSpec {
  const source = options.source ?? 'backup spec';
  const defaults = options.defaults ?? VELERO_DEFAULTS;
  const parsed = strictSchemas.spec.safeParse(input ?? {});
  if (!parsed.success) throw new ValidationError(source, fieldIssuesFromZod(parsed.error));
  const issues = crossFieldIssues(parsed.data);
  if (issues.length > 0) throw new ValidationError(source, issues);

  const spec = parsed.data;
  return {
    ...spec,
    metadata: spec.metadata ?? {},
    // Velero's CLI writes ["*"] and newer servers normalise an empty list to it.
    includedNamespaces: spec.includedNamespaces?.length ? spec.includedNamespaces : ['*'],
    ttl: isZeroDuration(spec.ttl) ? formatDurationNanos(tryParseDurationOrThrow(defaults.ttl)) : spec.ttl,
    hooks: spec.hooks ?? {},
    storageLocation: spec.storageLocation || defaults.storageLocation,
    defaultVolumesToFsBackup: spec.defaultVolumesToFsBackup ?? false,
    csiSnapshotTimeout: isZeroDuration(spec.csiSnapshotTimeout)
      ? formatDurationNanos(tryParseDurationOrThrow(defaults.csiSnapshotTimeout))
      : spec.csiSnapshotTimeout,
    itemOperationTimeout: isZeroDuration(spec.itemOperationTimeout)
      ? formatDurationNanos(tryParseDurationOrThrow(defaults.itemOperationTimeout))
      : spec.itemOperationTimeout,
    snapshotMoveData: spec.snapshotMoveData ?? false,
  };
}

function tryParseDurationOrThrow(text: string): bigint {
  const parsed = tryParseDuration(text);
  if (!parsed.ok) throw new ValidationError('backup defaults', [{ path: '', message: parsed.message }]);
  return parsed.nanoseconds;
}

// ---------------------------------------------------------------------------------------
// The Backup object.

export interface BackupMetadata {
  name: string;
  namespace: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface BackupProgress {
  totalItems?: number;
  itemsBackedUp?: number;
}

/** Backup status; timestamps are RFC 3339 strings in UTC with second precision, as Velero writes them. */
export interface BackupStatus {
  version?: number;
  formatVersion?: string;
  expiration?: string;
  phase?: BackupPhase;
  queuePosition?: number;
  validationErrors?: string[];
  startTimestamp?: string;
  completionTimestamp?: string;
  volumeSnapshotsAttempted?: number;
  volumeSnapshotsCompleted?: number;
  failureReason?: string;
  warnings?: number;
  errors?: number;
  progress?: BackupProgress;
  csiVolumeSnapshotsAttempted?: number;
  csiVolumeSnapshotsCompleted?: number;
  backupItemOperationsAttempted?: number;
  backupItemOperationsCompleted?: number;
  backupItemOperationsFailed?: number;
  hookStatus?: { hooksAttempted?: number; hooksFailed?: number };
}

/** A velero.io/v1 Backup, JSON-shaped (what velero-backup.json holds). */
export interface Backup {
  apiVersion: typeof VELERO_API_VERSION;
  kind: typeof BACKUP_KIND;
  metadata: BackupMetadata;
  spec: BackupSpec;
  status: BackupStatus;
}

/** Formats a time as Kubernetes (metav1.Time) does: RFC 3339, UTC, whole seconds. */
export function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** What newBackup needs; `now` is the start time (expiration is now + ttl). */
export interface NewBackupOptions {
  name: string;
  namespace?: string;
  spec?: unknown;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set for backups a schedule created; becomes the velero.io/schedule-name label. */
  scheduleName?: string;
  now: Date;
  defaults?: BackupDefaults;
}

/**
 * Builds a Backup the way Velero's controller prepares one: spec validated and defaulted,
 * storage-location (and schedule) labels, format version, start time and expiration
 * (start + ttl), phase InProgress. Throws a ValidationError for a bad name or spec.
 */
export function newBackup(options: NewBackupOptions): Backup {
  const namespace = options.namespace ?? DEFAULT_VELERO_NAMESPACE;
  const issues: FieldIssue[] = [
    ...dns1123SubdomainIssues(options.name).map((m) => ({ path: 'metadata.name', message: `"${options.name}" ${m}` })),
    ...dns1123LabelIssues(namespace).map((m) => ({ path: 'metadata.namespace', message: `"${namespace}" ${m}` })),
  ];
  if (issues.length > 0) throw new ValidationError('backup', issues);

  const spec = parseBackupSpec(options.spec, { defaults: options.defaults, source: `backup "${options.name}" spec` });
  const labels: Record<string, string> = { ...options.labels };
  labels[STORAGE_LOCATION_LABEL] = validLabelValue(spec.storageLocation ?? VELERO_DEFAULTS.storageLocation);
  if (options.scheduleName !== undefined) labels[SCHEDULE_NAME_LABEL] = options.scheduleName;

  const ttlMs = durationToMilliseconds(tryParseDurationOrThrow(spec.ttl ?? VELERO_DEFAULTS.ttl));
  const metadata: BackupMetadata = {
    name: options.name,
    namespace,
    creationTimestamp: formatTime(options.now),
    labels,
  };
  if (options.annotations && Object.keys(options.annotations).length > 0) {
    metadata.annotations = { ...options.annotations };
  }
  return {
    apiVersion: VELERO_API_VERSION,
    kind: BACKUP_KIND,
    metadata,
    spec,
    status: {
      version: BACKUP_MAJOR_VERSION,
      formatVersion: BACKUP_FORMAT_VERSION,
      expiration: formatTime(new Date(options.now.getTime() + ttlMs)),
      phase: 'InProgress',
      startTimestamp: formatTime(options.now),
    },
  };
}

/**
 * Whether a backup's time is up, as Velero's garbage collector decides it: it has an
 * expiration and that moment is not after `now`. A backup without one never expires.
 */
export function isExpired(backup: Pick<Backup, 'status'>, now: Date): boolean {
  const expiration = backup.status.expiration;
  if (expiration === undefined) return false;
  return Date.parse(expiration) <= now.getTime();
}

// ---------------------------------------------------------------------------------------
// Serialisation in Velero's layout: Go's field order, and Go's omitempty rules (slices,
// pointers, strings and numbers are left out when empty; structs such as spec.metadata,
// spec.hooks and the duration fields are always written).

const SPEC_FIELD_ORDER = [
  'metadata',
  'includedNamespaces',
  'excludedNamespaces',
  'includedResources',
  'excludedResources',
  'includedClusterScopedResources',
  'excludedClusterScopedResources',
  'includedNamespaceScopedResources',
  'excludedNamespaceScopedResources',
  'labelSelector',
  'orLabelSelectors',
  'snapshotVolumes',
  'ttl',
  'volumeGroupSnapshotLabelKey',
  'includeClusterResources',
  'hooks',
  'storageLocation',
  'volumeSnapshotLocations',
  'defaultVolumesToRestic',
  'defaultVolumesToFsBackup',
  'orderedResources',
  'csiSnapshotTimeout',
  'itemOperationTimeout',
  'resourcePolicy',
  'snapshotMoveData',
  'datamover',
  'uploaderConfig',
  'backupType',
] as const;

const STATUS_FIELD_ORDER = [
  'version',
  'formatVersion',
  'expiration',
  'phase',
  'queuePosition',
  'validationErrors',
  'startTimestamp',
  'completionTimestamp',
  'volumeSnapshotsAttempted',
  'volumeSnapshotsCompleted',
  'failureReason',
  'warnings',
  'errors',
  'progress',
  'csiVolumeSnapshotsAttempted',
  'csiVolumeSnapshotsCompleted',
  'backupItemOperationsAttempted',
  'backupItemOperationsCompleted',
  'backupItemOperationsFailed',
  'hookStatus',
] as const;

const METADATA_FIELD_ORDER = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
] as const;

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === 0) return true;
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Go's encoding/json writes map keys sorted and leaves out empty maps. */
function sortedMap(map: Record<string, string> | undefined): Record<string, string> | undefined {
  if (map === undefined || Object.keys(map).length === 0) return undefined;
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => byCodeUnit(a, b)));
}

function selectorInGoOrder(selector: LabelSelector | undefined): Record<string, unknown> | undefined {
  if (selector === undefined) return undefined;
  return {
    matchLabels: sortedMap(selector.matchLabels),
    matchExpressions: selector.matchExpressions?.length
      ? selector.matchExpressions.map((r) => ({ key: r.key, operator: r.operator, values: r.values?.length ? r.values : undefined }))
      : undefined,
  };
}

function ordered(
  source: Record<string, unknown>,
  order: readonly string[],
  alwaysWritten: Record<string, unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of order) {
    const value = source[key];
    // Booleans are pointers in Velero's types: false is written, only nil is left out.
    if (typeof value === 'boolean' || !isEmpty(value)) out[key] = value;
    else if (key in alwaysWritten) out[key] = alwaysWritten[key];
  }
  // Fields this version does not know (read from a newer Velero) are kept, after the known ones.
  for (const key of Object.keys(source).sort(byCodeUnit)) {
    if (!order.includes(key) && source[key] !== undefined) out[key] = source[key];
  }
  return out;
}

/**
 * Serialises a Backup as Velero writes velero-backup.json: indented JSON with kind,
 * apiVersion, metadata, spec and status in Go's field order, maps sorted, empty values
 * left out where Go's omitempty leaves them out.
 */
export function serializeBackup(backup: Backup): string {
  const { metadata, spec, status } = backup;
  const specForJson = {
    ...spec,
    metadata: { labels: sortedMap(spec.metadata?.labels) },
    labelSelector: selectorInGoOrder(spec.labelSelector),
    orLabelSelectors: spec.orLabelSelectors?.map(selectorInGoOrder),
    orderedResources: sortedMap(spec.orderedResources),
  };
  const statusForJson = {
    ...status,
    progress: status.progress && ordered({ ...status.progress }, ['totalItems', 'itemsBackedUp']),
  };
  const document = {
    kind: backup.kind,
    apiVersion: backup.apiVersion,
    metadata: ordered(
      { ...metadata, labels: sortedMap(metadata.labels), annotations: sortedMap(metadata.annotations) },
      METADATA_FIELD_ORDER,
    ),
    spec: ordered(specForJson, SPEC_FIELD_ORDER, {
      metadata: {},
      ttl: '0s',
      hooks: {},
      csiSnapshotTimeout: '0s',
      itemOperationTimeout: '0s',
    }),
    status: ordered(statusForJson, STATUS_FIELD_ORDER),
  };
  return JSON.stringify(document, null, 2);
}

const storedBackupSchema = z.looseObject({
  apiVersion: z.literal(VELERO_API_VERSION),
  kind: z.literal(BACKUP_KIND),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().optional(),
    labels: optionalOrNull(z.record(z.string(), z.string())),
    annotations: optionalOrNull(z.record(z.string(), z.string())),
  }),
  spec: optionalOrNull(looseSchemas.spec),
  status: optionalOrNull(
    z.looseObject({
      phase: z.enum(BACKUP_PHASES).optional(),
      expiration: optionalOrNull(z.string()),
      startTimestamp: optionalOrNull(z.string()),
      completionTimestamp: optionalOrNull(z.string()),
    }),
  ),
});

/**
 * Reads a velero-backup.json (already JSON-parsed) written by Velero or Skiff. Fields
 * this version does not know are kept; a document that is not a velero.io/v1 Backup, or
 * whose known fields have the wrong type, is a ValidationError naming `source`.
 */
export function parseStoredBackup(document: unknown, source = 'velero-backup.json'): Backup {
  const parsed = storedBackupSchema.safeParse(document);
  if (!parsed.success) throw new ValidationError(source, fieldIssuesFromZod(parsed.error));
  const { metadata, spec, status, ...rest } = parsed.data;
  return {
    ...rest,
    apiVersion: VELERO_API_VERSION,
    kind: BACKUP_KIND,
    metadata: { ...metadata, namespace: metadata.namespace ?? DEFAULT_VELERO_NAMESPACE } as BackupMetadata,
    spec: (spec ?? {}) as BackupSpec,
    status: (status ?? {}) as BackupStatus,
  };
}
