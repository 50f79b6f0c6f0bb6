import { ValidationError } from '../core/errors';
import { BACKUP_FORMAT_VERSION } from '../velero/backup';

/**
 * The only module that knows paths inside a backup tarball (Velero's pkg/archive and
 * pkg/backup/item_backupper.go).
 *
 *   metadata/version                                        "1.1.0\n"
 *   resources/<gr>/namespaces/<ns>/<name>.json               namespaced object
 *   resources/<gr>/cluster/<name>.json                       cluster-scoped object
 *   resources/<gr>/<version>-preferredversion/<scope>/...    same, under its API version
 *   resources/<gr>/<version>/<scope>/...                     object in a non-preferred version
 *
 * `<gr>` is `resource.group`, or just `resource` for the core group (`deployments.apps`,
 * `pods`).
 */

export const VERSION_FILE_PATH = 'metadata/version';
/** Content of metadata/version: the backup format version and a newline. */
export const VERSION_FILE_CONTENT = `${BACKUP_FORMAT_VERSION}\n`;
/** Folder names of the tarball layout (Velero's ResourcesDir, ClusterScopedDir, ...). */
export const RESOURCES_DIR = 'resources';
export const CLUSTER_SCOPED_DIR = 'cluster';
export const NAMESPACE_SCOPED_DIR = 'namespaces';
export const PREFERRED_VERSION_SUFFIX = '-preferredversion';

/** `deployments.apps`, or `pods` for the core group (Kubernetes' GroupResource.String()). */
export function groupResourceString(group: string, resource: string): string {
  return group === '' ? resource : `${resource}.${group}`;
}

/** Splits `deployments.apps` into resource and group at the first dot (`pods` has group ""). */
export function parseGroupResource(groupResource: string): { group: string; resource: string } {
  const dot = groupResource.indexOf('.');
  if (dot < 0) return { group: '', resource: groupResource };
  return { resource: groupResource.slice(0, dot), group: groupResource.slice(dot + 1) };
}

/** Which object a path is for. */
export interface ItemLocation {
  groupResource: string;
  /** Empty or undefined for cluster-scoped objects. */
  namespace?: string;
  name: string;
}

function isSegment(value: string): boolean {
  return value !== '' && value !== '.' && value !== '..' && !value.includes('/');
}

/** Refuses parts that would change the path's shape (Velero refuses such paths on extraction). */
function assertSafe(location: ItemLocation, versionDir: string): void {
  const parts: Array<[string, string]> = [
    ['groupResource', location.groupResource],
    ['name', location.name],
  ];
  if (location.namespace) parts.push(['namespace', location.namespace]);
  if (versionDir !== '') parts.push(['version', versionDir]);
  const issues = parts
    .filter(([, value]) => !isSegment(value))
    .map(([field, value]) => ({
      path: field,
      message: `${JSON.stringify(value)} must be one path segment: not empty, not "." or "..", without "/"`,
    }));
  if (issues.length > 0) throw new ValidationError('tarball item path', issues);
}

/**
 * Path of an object in the tarball, optionally under a version directory
 * (Velero's GetVersionedItemFilePath without a root directory).
 */
export function itemPath(location: ItemLocation, versionDir = ''): string {
  assertSafe(location, versionDir);
  const scope = location.namespace
    ? `${NAMESPACE_SCOPED_DIR}/${location.namespace}`
    : CLUSTER_SCOPED_DIR;
  const version = versionDir === '' ? '' : `${versionDir}/`;
  return `${RESOURCES_DIR}/${location.groupResource}/${version}${scope}/${location.name}.json`;
}

/**
 * Every path an object is written to, as Velero's item backupper does it: an object in
 * its group's preferred version is written twice, without a version directory (what
 * older Velero versions read) and under `<version>-preferredversion`; an object in
 * another version is written once, under `<version>`.
 */
export function itemPaths(location: ItemLocation, version: string, preferredVersion: string): string[] {
  if (version === preferredVersion) {
    return [itemPath(location), itemPath(location, `${version}${PREFERRED_VERSION_SUFFIX}`)];
  }
  return [itemPath(location, version)];
}

/** What a tarball path holds. */
export type ArchiveEntry =
  | { kind: 'version-file' }
  | {
      kind: 'item';
      groupResource: string;
      group: string;
      resource: string;
      /** API version directory, if any (`v1` for both `v1/` and `v1-preferredversion/`). */
      version?: string;
      /** Whether the path is the `<version>-preferredversion` copy. */
      preferredVersion: boolean;
      /** Undefined for cluster-scoped objects. */
      namespace?: string;
      name: string;
    };

/**
 * Reads a tarball path written by Velero or Skiff; undefined for anything else (Velero
 * ignores unexpected files too). A leading `./` is tolerated for archives made by tar.
 */
export function parseArchivePath(path: string): ArchiveEntry | undefined {
  const clean = path.startsWith('./') ? path.slice(2) : path;
  if (clean === VERSION_FILE_PATH) return { kind: 'version-file' };
  const parts = clean.split('/');
  if (parts[0] !== RESOURCES_DIR || parts.length < 4) return undefined;
  const groupResource = parts[1]!;
  let rest = parts.slice(2);
  let version: string | undefined;
  let preferredVersion = false;
  if (rest[0] !== CLUSTER_SCOPED_DIR && rest[0] !== NAMESPACE_SCOPED_DIR) {
    version = rest[0]!;
    if (version.endsWith(PREFERRED_VERSION_SUFFIX)) {
      version = version.slice(0, -PREFERRED_VERSION_SUFFIX.length);
      preferredVersion = true;
    }
    rest = rest.slice(1);
  }

  let namespace: string | undefined;
  let file: string | undefined;
  if (rest[0] === CLUSTER_SCOPED_DIR && rest.length === 2) file = rest[1];
  else if (rest[0] === NAMESPACE_SCOPED_DIR && rest.length === 3) {
    namespace = rest[1];
    file = rest[2];
  }
  if (file === undefined || !file.endsWith('.json') || file === '.json') return undefined;
  if (groupResource === '' || version === '' || namespace === '') return undefined;

  const entry: ArchiveEntry = {
    kind: 'item',
    groupResource,
    ...parseGroupResource(groupResource),
    preferredVersion,
    name: file.slice(0, -'.json'.length),
  };
  if (version !== undefined) entry.version = version;
  if (namespace !== undefined) entry.namespace = namespace;
  return entry;
}
