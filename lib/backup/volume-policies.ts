import { ValidationError } from '../core/errors';
import type { KubeClient } from '../kube/client';
import { KubeApiError, isNotFound } from '../kube/errors';
import type { Backup } from '../velero/backup';
import { parseResourcePolicies, type ConfigMapLike, type ResourcePolicies } from '../velero/resource-policies';

/**
 * The volume policies of a backup's spec.resourcePolicy, read from the ConfigMap it names
 * in the Backup's namespace (`velero` unless the request says otherwise) of the cluster
 * being backed up: where Velero's GetResourcePoliciesFromBackup reads it, so a policy a
 * Velero installation in that cluster uses applies unchanged. Undefined without a
 * resourcePolicy. A ConfigMap that is missing, unreadable or invalid is a ValidationError
 * naming it (the backup ends FailedValidation, as Velero's does); an unreachable cluster
 * throws as any read does.
 */
export async function readVolumePolicies(client: KubeClient, backup: Pick<Backup, 'metadata' | 'spec'>): Promise<ResourcePolicies | undefined> {
  const reference = backup.spec.resourcePolicy;
  if (!reference) return undefined;
  const namespace = backup.metadata.namespace;
  const where = `ConfigMap ${namespace}/${reference.name}`;
  let configMap: ConfigMapLike;
  try {
    configMap = await client.get<ConfigMapLike>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(reference.name)}`);
  } catch (error) {
    if (!(error instanceof KubeApiError)) throw error;
    const message = isNotFound(error)
      ? `${where} does not exist in cluster ${client.cluster}; create it there (Velero reads it from the Backup's namespace) or leave resourcePolicy out`
      : `${where} could not be read in cluster ${client.cluster}: ${error.message}; allow the credentials to get it`;
    throw new ValidationError('backup spec', [{ path: 'resourcePolicy', message }]);
  }
  return parseResourcePolicies(configMap);
}
