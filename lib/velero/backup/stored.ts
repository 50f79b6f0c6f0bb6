import { z } from 'zod';
import { ValidationError } from '../../core/errors';
import { fieldIssuesFromZod } from '../../core/zod-issues';
import type { BackupSpec } from './spec';
import { looseSchemas, optionalOrNull } from './spec-schema';
import { BACKUP_KIND, BACKUP_PHASES, DEFAULT_VELERO_NAMESPACE, VELERO_API_VERSION, type Backup, type BackupMetadata, type BackupStatus } from './types';

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
