import { z } from 'zod';
import { ValidationError } from '../core/errors';
import { fieldIssuesFromZod } from '../core/zod-issues';

/**
 * What a backup reports besides its objects, in Velero's formats:
 *
 * - `<b>-results.gz`: `{"errors": R, "warnings": R}` with
 *   `R = {velero: [...], cluster: [...], namespaces: {ns: [...]}}` (pkg/util/results)
 * - `<b>-resource-list.json.gz`: `{"<groupVersion>/<Kind>": ["ns/name" | "name", ...]}`
 *   (pkg/backup/backed_up_items_map.go), e.g. "apps/v1/Deployment", "v1/Pod".
 *
 * Both are JSON as Go's encoder writes it (one line and a newline); gzipping is the
 * caller's.
 */

/** Messages about Velero/Skiff itself, cluster-scoped objects, and each namespace. */
export interface Result {
  velero: string[];
  cluster: string[];
  namespaces: Record<string, string[]>;
}

/** The content of `<b>-results.gz`. */
export interface BackupResults {
  errors: Result;
  warnings: Result;
}

/** A Result with no messages. */
export function emptyResult(): Result {
  return { velero: [], cluster: [], namespaces: {} };
}

/** Errors and warnings with no messages. */
export function emptyResults(): BackupResults {
  return { errors: emptyResult(), warnings: emptyResult() };
}

/**
 * Adds a message about an object: to its namespace's list, or to the cluster list when
 * `namespace` is empty or undefined (Velero's Result.Add).
 */
export function addMessage(result: Result, namespace: string | undefined, message: string): void {
  if (!namespace) {
    result.cluster.push(message);
    return;
  }
  (result.namespaces[namespace] ??= []).push(message);
}

/** Adds a message about the backup machinery itself (Velero's AddVeleroError). */
export function addVeleroMessage(result: Result, message: string): void {
  result.velero.push(message);
}

/** Appends every message of `other` to `into` (Velero's Result.Merge). */
export function mergeResult(into: Result, other: Result): void {
  into.velero.push(...other.velero);
  into.cluster.push(...other.cluster);
  for (const [namespace, messages] of Object.entries(other.namespaces)) {
    (into.namespaces[namespace] ??= []).push(...messages);
  }
}

/** How many messages a Result holds. */
export function countMessages(result: Result): number {
  return (
    result.velero.length +
    result.cluster.length +
    Object.values(result.namespaces).reduce((total, messages) => total + messages.length, 0)
  );
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A Result in Velero's JSON form: empty lists left out (omitempty), namespaces sorted. */
function resultForJson(result: Result): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (result.velero.length > 0) out.velero = result.velero;
  if (result.cluster.length > 0) out.cluster = result.cluster;
  const namespaces = Object.keys(result.namespaces)
    .filter((ns) => result.namespaces[ns]!.length > 0)
    .sort(byCodeUnit);
  if (namespaces.length > 0) out.namespaces = Object.fromEntries(namespaces.map((ns) => [ns, result.namespaces[ns]]));
  return out;
}

/** The content of `<b>-results.gz` (before gzip). */
export function serializeResults(results: BackupResults): string {
  return `${JSON.stringify({ errors: resultForJson(results.errors), warnings: resultForJson(results.warnings) })}\n`;
}

const messages = z
  .array(z.string())
  .nullish()
  .transform((value) => value ?? []);
const resultSchema = z
  .looseObject({
    velero: messages,
    cluster: messages,
    namespaces: z
      .record(z.string(), messages)
      .nullish()
      .transform((value) => value ?? {}),
  })
  .nullish()
  .transform((value) => value ?? emptyResult());
const resultsSchema = z.looseObject({ errors: resultSchema, warnings: resultSchema });

/** Reads a results document (already JSON-parsed) written by Velero or Skiff. */
export function parseResults(document: unknown, source = 'backup results'): BackupResults {
  const parsed = resultsSchema.safeParse(document);
  if (!parsed.success) throw new ValidationError(source, fieldIssuesFromZod(parsed.error));
  return { errors: parsed.data.errors, warnings: parsed.data.warnings };
}

/** `"apps/v1/Deployment"`, `"v1/Pod"`: an object's apiVersion and kind, as Velero keys the list. */
export function resourceListKey(apiVersion: string, kind: string): string {
  return `${apiVersion}/${kind}`;
}

/** An object that went into the backup. */
export interface BackedUpObject {
  apiVersion: string;
  kind: string;
  /** Empty or undefined for cluster-scoped objects. */
  namespace?: string;
  name: string;
}

/** Collects the objects of a backup into Velero's resource list; an object counts once. */
export class ResourceList {
  private readonly entries = new Map<string, Set<string>>();

  /** Rebuilds a list from its JSON form (to carry on a backup that spans several runs). */
  static fromJSON(json: Readonly<Record<string, readonly string[]>>): ResourceList {
    const list = new ResourceList();
    for (const [key, names] of Object.entries(json)) list.entries.set(key, new Set(names));
    return list;
  }

  /** Records an object (adding it again changes nothing). */
  add(object: BackedUpObject): void {
    const key = resourceListKey(object.apiVersion, object.kind);
    const entry = object.namespace ? `${object.namespace}/${object.name}` : object.name;
    let names = this.entries.get(key);
    if (!names) {
      names = new Set();
      this.entries.set(key, names);
    }
    names.add(entry);
  }

  /** Adds every object of `other`. */
  merge(other: ResourceList): void {
    for (const [key, names] of other.entries) {
      const into = this.entries.get(key);
      if (into) for (const name of names) into.add(name);
      else this.entries.set(key, new Set(names));
    }
  }

  /** Whether no object was recorded. */
  get isEmpty(): boolean {
    return this.entries.size === 0;
  }

  /** The list as Velero writes it: keys and names sorted. */
  toJSON(): Record<string, string[]> {
    return Object.fromEntries(
      [...this.entries.keys()].sort(byCodeUnit).map((key) => [key, [...this.entries.get(key)!].sort(byCodeUnit)]),
    );
  }

  /** The content of `<b>-resource-list.json.gz` (before gzip). */
  serialize(): string {
    return `${JSON.stringify(this.toJSON())}\n`;
  }
}
