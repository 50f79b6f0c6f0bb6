import type { ApiResource } from '../kube/discovery';

/**
 * Which API version of each resource a restore creates, when the backup holds several
 * (a backup made with EnableAPIGroupVersions writes every served version under
 * `resources/<gr>/<version>/…`, the preferred one under `<version>-preferredversion`).
 *
 * Velero's rule (pkg/restore/prioritize_group_version.go, without the user config map):
 *   1. the target cluster's preferred version, if the backup holds it;
 *   2. else the source cluster's preferred version, if the target serves it;
 *   3. else the common version with the highest Kubernetes version priority;
 *   4. else the source's preferred version (what a restore without the feature does).
 * Unlike Velero, the versions the target serves are those of the resource itself, not
 * of its whole group, so a version that serves other resources of the group only is
 * never chosen.
 */

/** The versions a backup holds of one group-resource, from its tarball's version folders. */
export interface SourceVersions {
  versions: string[];
  /** The `<version>-preferredversion` folder's version; undefined when none was seen. */
  preferred?: string;
}

/** The versions the target cluster serves one resource in, and its group's preferred version. */
export interface TargetVersions {
  versions: string[];
  preferred: string;
}

/** The version chosen for one group-resource and which rule chose it (for the restore log). */
export interface VersionChoice {
  version: string;
  reason: string;
}

const KUBE_VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;
const STABILITY = { ga: 3, beta: 2, alpha: 1 } as const;

/**
 * Kubernetes' version priority (apimachinery pkg/version/helpers.go
 * CompareKubeAwareVersionStrings): GA before beta before alpha, higher major first,
 * then higher minor; names that are not Kubernetes versions come last, in
 * lexicographic order. Negative when `a` goes first. Written here because no npm
 * package implements Kubernetes' rule; the restore must order versions exactly as
 * Velero does.
 */
export function byKubeVersionPriority(a: string, b: string): number {
  const ma = KUBE_VERSION.exec(a);
  const mb = KUBE_VERSION.exec(b);
  if (!ma || !mb) {
    if (ma) return -1;
    if (mb) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const stability = (m: RegExpExecArray) => STABILITY[(m[2] as 'alpha' | 'beta' | undefined) ?? 'ga'];
  return stability(mb) - stability(ma) || Number(mb[1]) - Number(ma[1]) || Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}

/**
 * The version to restore one group-resource in (the rule above); undefined when the
 * backup holds no version folders for it (older backups: the copy without a version
 * folder is restored).
 */
export function chooseRestoreVersion(source: SourceVersions, target: TargetVersions | undefined): VersionChoice | undefined {
  const sourceVersions = [...source.versions].sort(byKubeVersionPriority);
  const fallback = source.preferred ?? sourceVersions[0];
  if (fallback === undefined) return undefined;
  if (!target || target.versions.length === 0) return { version: fallback, reason: 'the target cluster does not serve it yet: the backup\'s preferred version' };
  if (sourceVersions.includes(target.preferred) && target.versions.includes(target.preferred)) return { version: target.preferred, reason: 'the target cluster\'s preferred version' };
  if (target.versions.includes(fallback)) return { version: fallback, reason: 'the backup\'s preferred version, which the target cluster serves' };
  const common = [...target.versions].sort(byKubeVersionPriority).find((v) => sourceVersions.includes(v));
  if (common) return { version: common, reason: 'the highest version both the backup and the target cluster have' };
  return { version: fallback, reason: 'no version in the backup is served by the target cluster: the backup\'s preferred version' };
}

/** `resource.group` → the versions the cluster serves it in, from discovery. */
export function targetVersionsOf(resources: readonly ApiResource[]): Map<string, TargetVersions> {
  const byGroupResource = new Map<string, TargetVersions>();
  for (const r of resources) {
    const key = r.group === '' ? r.resource : `${r.resource}.${r.group}`;
    let entry = byGroupResource.get(key);
    if (!entry) byGroupResource.set(key, (entry = { versions: [], preferred: r.preferredVersion }));
    if (!entry.versions.includes(r.version)) entry.versions.push(r.version);
  }
  return byGroupResource;
}

/**
 * The versions to restore, for the group-resources whose choice differs from the
 * backup's preferred copy (which a restore reads by default); every choice made, with
 * its reason, is given to `log`.
 */
export function chooseRestoreVersions(
  sources: ReadonlyMap<string, SourceVersions>,
  target: ReadonlyMap<string, TargetVersions>,
  log: (groupResource: string, choice: VersionChoice) => void = () => {},
): Map<string, string> {
  const chosen = new Map<string, string>();
  for (const [groupResource, source] of sources) {
    const choice = chooseRestoreVersion(source, target.get(groupResource));
    if (!choice) continue;
    if (source.versions.length > 1) log(groupResource, choice);
    if (choice.version !== source.preferred) chosen.set(groupResource, choice.version);
  }
  return chosen;
}
