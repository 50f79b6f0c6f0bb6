import { z } from 'zod';
import { ValidationError } from '../core/errors';
import { fieldIssuesFromZod } from '../core/zod-issues';
import { strictSchemas } from '../velero/backup';
import { dns1123LabelIssues, dns1123SubdomainIssues } from '../velero/names';
import type { RestoreSpec } from '../velero/restore';
import { parseResourceModifiers, type ResourceModifiers } from './modifiers';

/**
 * A restore request (POST /restores, direct invocation, the CLI): the fields of
 * Velero's Restore spec, with Velero's names and meanings (pkg/apis/velero/v1/
 * restore_types.go), plus what Skiff adds: the target `cluster` (default: the cluster
 * the backup was taken of), the restore's `name`, resource modifiers given inline in
 * Velero's v1 schema (Velero takes them from a ConfigMap), and `acceptRolloutRisk`.
 * Unknown fields are refused by name, so a misspelt filter never restores everything.
 */
const requestSchema = z.strictObject({
  backupName: z.string({ error: 'required: the name of the backup to restore' }).min(1, 'required: the name of the backup to restore'),
  name: z.string().optional(),
  cluster: z.string().min(1).optional(),
  includedNamespaces: z.array(z.string()).optional(),
  excludedNamespaces: z.array(z.string()).optional(),
  includedResources: z.array(z.string()).optional(),
  excludedResources: z.array(z.string()).optional(),
  includeClusterResources: z.boolean().nullable().optional(),
  namespaceMapping: z.record(z.string(), z.string()).optional(),
  labelSelector: strictSchemas.labelSelector.optional(),
  orLabelSelectors: z.array(strictSchemas.labelSelector).optional(),
  restorePVs: z.boolean().optional(),
  preserveNodePorts: z.boolean().optional(),
  existingResourcePolicy: z.enum(['none', 'update'], { error: 'must be "none" (leave existing objects) or "update"' }).optional(),
  resourceModifiers: z.unknown().optional(),
  acceptRolloutRisk: z.boolean().optional(),
});

export interface RestoreRequest {
  name?: string;
  cluster?: string;
  spec: RestoreSpec;
  resourceModifiers?: ResourceModifiers;
  acceptRolloutRisk: boolean;
}

/**
 * Validates a restore request.
 *
 * @throws ValidationError naming every wrong field (`namespaceMapping.shop`,
 *   `resourceModifiers.resourceModifierRules.1.patches.0.operation`, ...).
 */
export function parseRestoreRequest(input: unknown): RestoreRequest {
  const parsed = requestSchema.safeParse(input ?? {});
  if (!parsed.success) throw new ValidationError('restore request', fieldIssuesFromZod(parsed.error));
  const { name, cluster, resourceModifiers, acceptRolloutRisk, ...spec } = parsed.data;
  const issues = [
    ...(name === undefined ? [] : dns1123SubdomainIssues(name).map((m) => ({ path: 'name', message: `${JSON.stringify(name)} ${m}` }))),
    ...Object.entries(spec.namespaceMapping ?? {}).flatMap(([from, to]) =>
      dns1123LabelIssues(to).map((m) => ({ path: `namespaceMapping.${from}`, message: `target namespace ${JSON.stringify(to)} ${m}` })),
    ),
    ...(spec.labelSelector && spec.orLabelSelectors?.length
      ? [{ path: 'orLabelSelectors', message: 'cannot be combined with labelSelector (Velero refuses it too); use one of them' }]
      : []),
  ];
  if (issues.length > 0) throw new ValidationError('restore request', issues);
  return {
    ...(name !== undefined ? { name } : {}),
    ...(cluster !== undefined ? { cluster } : {}),
    spec: spec as RestoreSpec,
    ...(resourceModifiers !== undefined ? { resourceModifiers: parseResourceModifiers(resourceModifiers) } : {}),
    acceptRolloutRisk: acceptRolloutRisk ?? false,
  };
}
