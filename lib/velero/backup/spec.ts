import type { z } from 'zod';
import { ValidationError } from '../../core/errors';
import { fieldIssuesFromZod } from '../../core/zod-issues';
import { formatDurationNanos, tryParseDuration } from '../duration';
import { VELERO_DEFAULTS, type BackupDefaults } from './defaults';
import { strictSchemas } from './spec-schema';
import { unsupportedFieldIssues, withoutZeroRefusedFields } from './unsupported-fields';
import { crossFieldIssues, type ParsedSpec } from './validation';

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
 * filters mixed, labelSelector together with orLabelSelectors, and fields asking for work
 * Skiff does not do (hooks, file-system backup, data movement...: see
 * unsupported-fields.ts), each with the reason. The result holds only what is applied.
 */
export function parseBackupSpec(input: unknown, options: ParseBackupSpecOptions = {}): BackupSpec {
  const source = options.source ?? 'backup spec';
  const defaults = options.defaults ?? VELERO_DEFAULTS;
  const parsed = strictSchemas.spec.safeParse(input ?? {});
  if (!parsed.success) throw new ValidationError(source, fieldIssuesFromZod(parsed.error));
  const issues = [...crossFieldIssues(parsed.data), ...unsupportedFieldIssues(parsed.data)];
  if (issues.length > 0) throw new ValidationError(source, issues);

  const spec = withoutZeroRefusedFields(parsed.data);
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

/** Parses a Go duration that is known to be valid (a default); a bad one is a ValidationError. */
export function tryParseDurationOrThrow(text: string): bigint {
  const parsed = tryParseDuration(text);
  if (!parsed.ok) throw new ValidationError('backup defaults', [{ path: '', message: parsed.message }]);
  return parsed.nanoseconds;
}
