import { SkiffError } from '../core/errors';
import type { KubeClient } from '../kube/client';
import { KubeApiError, isNotFound } from '../kube/errors';
import { listAll, type KubeObject } from '../kube/list-all';
import { logger } from '../core/logger';
import type { BackupSpec } from '../velero/backup';
import { hasWildcard } from '../velero/glob';
import type { BackupLog } from './backup-log';
import type { BackupFilters, ClusterNamespace } from '../velero/filters';
import type { BackupProgressRecord } from './progress-record';
import { addMessage } from '../velero/results';

/**
 * The Namespace objects a backup reads, with credentials that may only see some
 * namespaces. Platform teams hand out per-tenant backup accounts bound by RoleBindings
 * in the namespaces they back up; such an account cannot list namespaces cluster-wide.
 * A backup that names its namespaces does not need to: each named one is read by itself.
 */

const NAMESPACES_PATH = '/api/v1/namespaces';

/**
 * The namespaces a backup names, when it names every one of them: includedNamespaces
 * given and free of wildcards (`*` included). Undefined when the scope can only be
 * resolved against the cluster's whole list of namespaces.
 */
export function namedNamespaces(spec: Pick<BackupSpec, 'includedNamespaces'>): string[] | undefined {
  const includes = spec.includedNamespaces ?? [];
  if (includes.length === 0 || includes.some(hasWildcard)) return undefined;
  return [...new Set(includes)].sort();
}

/**
 * The namespaces includedNamespaces names literally (no `*`, `?` or `[...]`) that the
 * cluster does not have, sorted. A backup of such a name would otherwise end Completed
 * with nothing of it and no word why (a typo, the wrong cluster); the backup warns instead.
 */
export function missingNamedNamespaces(spec: Pick<BackupSpec, 'includedNamespaces'>, existing: Iterable<string>): string[] {
  const present = new Set(existing);
  const named = (spec.includedNamespaces ?? []).filter((ns) => ns !== '' && !hasWildcard(ns));
  return [...new Set(named)].filter((ns) => !present.has(ns)).sort();
}

/** The credentials may not list namespaces, and the backup's scope cannot be resolved without that list. */
export class NamespaceListForbiddenError extends SkiffError {
  readonly status = 502;

  constructor(cause: KubeApiError) {
    super(`${cause.message}; the credentials cannot list namespaces, which a backup of all namespaces or of namespace patterns needs`, {
      cause,
    });
  }
}

/** What could be read of the cluster's namespaces. */
export interface NamespaceReading {
  /** The Namespace objects read. */
  objects: KubeObject[];
  /** Named namespaces whose Namespace object the credentials may not read (403). */
  unreadable: string[];
}

/**
 * Every Namespace object, by one cluster-wide list; when that is forbidden and the backup
 * names its namespaces, each named one by itself. A named namespace that does not exist
 * is simply absent, as it is from the list.
 */
export async function readNamespaces(client: KubeClient, named: readonly string[] | undefined): Promise<NamespaceReading> {
  try {
    return { objects: await listAll(client, NAMESPACES_PATH), unreadable: [] };
  } catch (error) {
    if (!isForbidden(error)) throw error;
    if (!named) throw new NamespaceListForbiddenError(error);
    logger.info('the credentials cannot list namespaces; reading the named ones one by one', {
      cluster: client.cluster,
      namespaces: named.length,
    });
    return readEachNamespace(client, named);
  }
}

async function readEachNamespace(client: KubeClient, names: readonly string[]): Promise<NamespaceReading> {
  const reading: NamespaceReading = { objects: [], unreadable: [] };
  for (const name of names) {
    try {
      reading.objects.push(await client.get<KubeObject>(`${NAMESPACES_PATH}/${encodeURIComponent(name)}`));
    } catch (error) {
      if (isNotFound(error)) continue;
      if (!isForbidden(error)) throw error;
      reading.unreadable.push(name);
    }
  }
  return reading;
}

function isForbidden(error: unknown): error is KubeApiError {
  return error instanceof KubeApiError && error.code === 403;
}

/**
 * The namespaces the filters decide on. A namespace whose object cannot be read is taken
 * as Active without labels: its objects can be read, so it is backed up.
 */
export function clusterNamespacesOf(reading: NamespaceReading): ClusterNamespace[] {
  return [
    ...reading.objects.map((ns) => ({
      name: ns.metadata.name,
      labels: ns.metadata.labels,
      phase: (ns.status as { phase?: string } | undefined)?.phase ?? 'Active',
    })),
    ...reading.unreadable.map((name) => ({ name, phase: 'Active' })),
  ];
}

/**
 * The Namespace objects for the end of the tarball. One the backup would write but may
 * not read is left out, with a warning for its namespace in the results and the log.
 */
export async function readableNamespaceObjects(
  client: KubeClient,
  filters: BackupFilters,
  record: BackupProgressRecord,
  log: BackupLog,
): Promise<KubeObject[]> {
  const reading = await readNamespaces(client, namedNamespaces(record.backup.spec));
  // Every named namespace that is included is written whatever was backed up in it.
  const wanted = new Set(filters.namespaceObjectsToBackUp([]));
  for (const name of reading.unreadable.filter((ns) => wanted.has(ns))) {
    const message =
      `could not read the Namespace object of ${name} (the credentials may not get it); it is left out of the backup, ` +
      "the namespace's objects are in it; allow get on this namespace to back it up too";
    addMessage(record.results.warnings, name, message);
    log.warn(message);
  }
  return reading.objects;
}
