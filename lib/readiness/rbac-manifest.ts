import { isMap, isSeq, parseAllDocuments, type YAMLMap, type YAMLSeq } from 'yaml';
import { REMOTE_RBAC_MANIFEST } from './rbac-text';

/**
 * The permissions Skiff needs in a remote cluster, read from the RBAC manifest itself
 * (rbac-text.ts, deploy/rbac/skiff-remote.yaml), so that what the access check verifies
 * and what operators apply can never drift apart. Each rule's comment starts with the
 * jobs that need it (`# backup, expiry: ...`); that decides how much a missing right weighs.
 */

/** Skiff's jobs, as the manifest's comments name them. */
export const JOBS = ['backup', 'sync', 'expiry', 'restore', 'readiness'] as const;
export type Job = (typeof JOBS)[number];

/** One verb on one resource of one API group (`*` for all), and who needs it. */
export interface Permission {
  verb: string;
  /** "" for the core group, "*" for every group. */
  group: string;
  resource: string;
  jobs: Job[];
}

/** A ClusterRole rule, the fields the check reads. */
interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}

/** `backup, sync: why` → [backup, sync]; throws when the comment names no job, so the manifest stays honest. */
export function jobsOfComment(comment: string | undefined, ruleIndex: number): Job[] {
  const head = /^\s*([a-z]+(?:\s*,\s*[a-z]+)*)\s*:/.exec(comment ?? '');
  const words = head ? head[1]!.split(',').map((w) => w.trim()) : [];
  const unknown = words.filter((w) => !(JOBS as readonly string[]).includes(w));
  if (words.length === 0 || unknown.length > 0) {
    throw new Error(
      `RBAC manifest, ClusterRole rule ${ruleIndex}: its comment must start with the jobs that need it, ` +
        `from ${JOBS.join(', ')}, followed by ":"; found ${JSON.stringify(comment?.trim().split('\n')[0] ?? '')}`,
    );
  }
  return words as Job[];
}

/**
 * Every permission the manifest's ClusterRole grants, one per verb, group and resource,
 * in the manifest's order (a permission granted by two rules lists the jobs of both).
 *
 * @throws Error when the manifest has no ClusterRole or a rule without a job comment.
 */
export function permissionsOfManifest(text: string = REMOTE_RBAC_MANIFEST): Permission[] {
  const role = parseAllDocuments(text).find((d) => (d.toJS() as { kind?: string } | null)?.kind === 'ClusterRole');
  if (!role || !isMap(role.contents)) throw new Error('RBAC manifest: no ClusterRole');
  const rules = (role.contents as YAMLMap).get('rules', true);
  if (!isSeq(rules)) throw new Error('RBAC manifest: the ClusterRole has no rules');
  const byKey = new Map<string, Permission>();
  (rules as YAMLSeq).items.forEach((item, index) => {
    // The comment above the first item belongs to the list in the parsed document.
    const comment = (item as { commentBefore?: string }).commentBefore ?? (index === 0 ? rules.commentBefore ?? undefined : undefined);
    const jobs = jobsOfComment(comment ?? undefined, index);
    const rule = (item as { toJSON(): PolicyRule }).toJSON();
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        for (const verb of rule.verbs ?? []) {
          const key = `${verb} ${resource} ${group}`;
          const known = byKey.get(key);
          if (known) known.jobs = [...new Set([...known.jobs, ...jobs])];
          else byKey.set(key, { verb, group, resource, jobs: [...jobs] });
        }
      }
    }
  });
  return [...byKey.values()];
}
