import { isDeepStrictEqual } from 'node:util';
import type { KubeClient } from '../kube/client';
import { API_GROUP_VERSIONS_ANNOTATION, BACKUP_NAME_LABEL, RESTORE_NAME_LABEL } from '../velero/labels';
import { KubeAmbiguousWriteError, KubeApiError, KubeUnreachableError, isAlreadyExists } from '../kube/errors';
import { parseGroupResource } from '../archive/paths';
import type { ExistingResourcePolicy } from '../velero/restore';
import { isFromRestore, resetMetadataAndStatus, type RestoreObject } from './reset';

/**
 * Creates one restored object with one write: a POST, never a read first (Velero reads
 * every object before creating it; at 10,000 objects that doubles the requests). Only
 * when the server answers 409 AlreadyExists is the existing object read, to tell what
 * it is:
 * - one this restore created in an earlier invocation (it carries this restore's
 *   label): restored, nothing to do — a resumed restore creates nothing twice;
 * - under `existingResourcePolicy: update`, a namespaced object is replaced with the
 *   backed-up one (PUT with the live resourceVersion);
 * - one equal to the backed-up object (as Velero compares them: metadata the cluster
 *   assigned, status and the restore's labels aside) is left as it is, quietly, as the
 *   `default` ServiceAccount and `kube-root-ca.crt` of a new namespace usually are;
 * - otherwise it is left as it is, with a warning naming it. A cluster-scoped object
 *   is never overwritten, whatever the policy: it may be shared by every namespace of
 *   the cluster.
 */

/** An object as the comparison sees it (pkg/restore/restore.go compares the same way). */
function comparable(object: RestoreObject): RestoreObject {
  const copy = structuredClone(object);
  resetMetadataAndStatus(copy);
  const metadata = copy.metadata!;
  if (metadata.labels) {
    delete metadata.labels[BACKUP_NAME_LABEL];
    delete metadata.labels[RESTORE_NAME_LABEL];
    if (Object.keys(metadata.labels).length === 0) delete metadata.labels;
  }
  if (metadata.annotations && Object.keys(metadata.annotations).length === 0) delete metadata.annotations;
  return copy;
}

export type WriteAction = 'created' | 'updated' | 'skipped' | 'failed';

export interface WriteOutcome {
  action: WriteAction;
  /** For the results, when there is something to say. */
  warning?: string;
  error?: string;
}

/** The collection an object is created in: from its apiVersion and the tarball's resource name. */
export function collectionPathFor(apiVersion: string, groupResource: string, namespace: string | undefined): string {
  const { resource } = parseGroupResource(groupResource);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return namespace ? `${base}/namespaces/${namespace}/${resource}` : `${base}/${resource}`;
}

export interface WriteContext {
  client: KubeClient;
  restoreName: string;
  policy: ExistingResourcePolicy;
  groupResource: string;
}

function describe(context: WriteContext, object: RestoreObject): string {
  const { name, namespace } = object.metadata ?? {};
  return `${context.groupResource} ${namespace ? `${namespace}/` : ''}${name}`;
}

/** POST, sent again once when its answer was lost (a fixed name makes the second one safe: 409). */
async function post(context: WriteContext, path: string, object: RestoreObject): Promise<void> {
  try {
    await context.client.create(path, object);
  } catch (error) {
    if (!(error instanceof KubeAmbiguousWriteError)) throw error;
    await context.client.create(path, object);
  }
}

async function whenExists(context: WriteContext, path: string, object: RestoreObject): Promise<WriteOutcome> {
  const what = describe(context, object);
  const itemPath = `${path}/${object.metadata!.name}`;
  const existing = await context.client.get<RestoreObject>(itemPath);
  if (isFromRestore(existing, context.restoreName)) return { action: 'created' };
  if (context.groupResource === 'namespaces') return { action: 'skipped' };
  if (isDeepStrictEqual(comparable(existing), comparable(object))) return { action: 'skipped' };
  const namespaced = Boolean(object.metadata?.namespace);
  if (context.policy === 'update' && namespaced) {
    const replacement = { ...object, metadata: { ...object.metadata, resourceVersion: existing.metadata?.resourceVersion } };
    try {
      await context.client.replace(itemPath, replacement);
      return { action: 'updated' };
    } catch (error) {
      return { action: 'skipped', warning: `could not update ${what}, which already exists: ${(error as Error).message}` };
    }
  }
  if (!namespaced) {
    return { action: 'skipped', warning: `could not restore ${what}: it already exists, and cluster-scoped objects are never overwritten; it was left as it is` };
  }
  return { action: 'skipped', warning: `could not restore ${what}: it already exists and was left as it is (existingResourcePolicy: none)` };
}

/**
 * Why a create failed, in a user's terms: a 404 without a Kubernetes Status (no
 * reason) is the API server saying it does not serve that resource in that version,
 * which a backup holding every version (api-versions.ts) would have avoided.
 */
function createFailure(error: unknown, apiVersion: string, groupResource: string): string {
  if (error instanceof KubeApiError && error.code === 404 && error.reason === '') {
    return `the cluster does not serve ${groupResource} in ${apiVersion} (a backup made with every API version, annotation ${API_GROUP_VERSIONS_ANNOTATION}: all, lets a restore choose one the cluster serves)`;
  }
  return (error as Error).message;
}

/**
 * Creates (or, per policy, updates) one object; an object's failure becomes the
 * outcome.
 *
 * @throws KubeUnreachableError: an unreachable cluster fails every object alike, so the
 *   run stops and goes on from its cursor later rather than failing them all.
 */
export async function writeObject(context: WriteContext, object: RestoreObject): Promise<WriteOutcome> {
  const apiVersion = object.apiVersion;
  if (!apiVersion || !object.metadata?.name) {
    return { action: 'failed', error: `error restoring ${describe(context, object)}: the object has no apiVersion or name` };
  }
  const path = collectionPathFor(apiVersion, context.groupResource, object.metadata.namespace);
  try {
    await post(context, path, object);
    return { action: 'created' };
  } catch (error) {
    if (error instanceof KubeUnreachableError) throw error;
    if (!isAlreadyExists(error)) return { action: 'failed', error: `error restoring ${describe(context, object)}: ${createFailure(error, apiVersion, context.groupResource)}` };
  }
  try {
    return await whenExists(context, path, object);
  } catch (error) {
    if (error instanceof KubeUnreachableError) throw error;
    return { action: 'failed', error: `error restoring ${describe(context, object)}, which already exists: ${(error as Error).message}` };
  }
}
