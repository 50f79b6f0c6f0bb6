// The default export: Node's ESM loader sees no named exports in this CommonJS package.
import jsonPatch, { type Operation } from 'fast-json-patch';
import { apply as applyMergePatch } from 'json-merge-patch';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ValidationError } from '../core/errors';
import { fieldIssuesFromZod } from '../core/zod-issues';
import { strictSchemas } from '../velero/backup/spec-schema';
import { IncludesExcludes, matchesLabelSelector } from '../velero/filters';
import { compileGlob } from '../velero/glob';
import type { RestoreObject } from './reset';
import { strategicMerge, strategicMergeSupport } from './strategic-merge';

/**
 * Resource modifiers, Velero's v1 schema and semantics (pkg/util/resourcemodifiers/
 * resource_modifiers.go, json_patch.go, json_merge_patch.go, strategic_merge_patch.go):
 *
 *   version: v1
 *   resourceModifierRules:
 *   - conditions: { groupResource: "deployments.apps", resourceNameRegex: "^web",
 *                   namespaces: [shop], labelSelector: {...}, matches: [{path, value}] }
 *     patches: [{ operation: replace, path: /spec/replicas, value: "2" }]   # RFC 6902
 *     # or mergePatches: [{ patchData: "<JSON or YAML>" }]                   # RFC 7386
 *     # or strategicPatches: [{ patchData: "<JSON or YAML>" }]
 *
 * A rule applies when every condition holds: the group-resource matches the glob, the
 * name the regular expression, the namespace one of `namespaces` (when given), the
 * labels the selector, and every `matches` entry is equal at its path (a JSON Patch
 * `test`). Rules apply in order, each to the result of the one before.
 */

const jsonPatchSchema = z.strictObject({
  operation: z.enum(['add', 'remove', 'replace', 'move', 'copy', 'test']),
  from: z.string().optional(),
  path: z.string(),
  /** A string, read as Velero reads it (see patchValue); any other JSON value is used as it is. */
  value: z.unknown().optional(),
});
const patchDataSchema = z.strictObject({ patchData: z.string().min(1, 'must hold the patch, as JSON or YAML') });

const ruleSchema = z
  .strictObject({
    conditions: z.strictObject({
      groupResource: z.string().min(1, 'required: a group-resource glob such as "deployments.apps" or "*"'),
      resourceNameRegex: z.string().optional(),
      namespaces: z.array(z.string()).optional(),
      labelSelector: strictSchemas.labelSelector.optional(),
      matches: z.array(z.strictObject({ path: z.string(), value: z.unknown() })).optional(),
    }),
    patches: z.array(jsonPatchSchema).optional(),
    mergePatches: z.array(patchDataSchema).optional(),
    strategicPatches: z.array(patchDataSchema).optional(),
  })
  .superRefine((rule, ctx) => {
    const kinds = (['patches', 'mergePatches', 'strategicPatches'] as const).filter((k) => (rule[k]?.length ?? 0) > 0);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message:
          kinds.length === 0
            ? 'has no patch: give one of patches, mergePatches or strategicPatches'
            : `gives ${kinds.join(' and ')}; give exactly one of patches, mergePatches or strategicPatches`,
      });
    }
    if (rule.conditions.resourceNameRegex !== undefined) {
      try {
        new RegExp(rule.conditions.resourceNameRegex);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['conditions', 'resourceNameRegex'], message: `is not a regular expression: ${(error as Error).message}` });
      }
    }
    if (!compileGlob(rule.conditions.groupResource)) {
      ctx.addIssue({ code: 'custom', path: ['conditions', 'groupResource'], message: `${JSON.stringify(rule.conditions.groupResource)} is not a valid glob` });
    }
    for (const [i, patch] of (rule.mergePatches ?? []).entries()) checkPatchData(patch.patchData, ['mergePatches', i, 'patchData'], ctx);
    for (const [i, patch] of (rule.strategicPatches ?? []).entries()) checkPatchData(patch.patchData, ['strategicPatches', i, 'patchData'], ctx);
  });

function checkPatchData(text: string, path: (string | number)[], ctx: z.RefinementCtx): void {
  try {
    const document: unknown = parseYaml(text);
    if (document === null || typeof document !== 'object' || Array.isArray(document)) {
      ctx.addIssue({ code: 'custom', path, message: 'must be a JSON or YAML object' });
    }
  } catch (error) {
    ctx.addIssue({ code: 'custom', path, message: `does not parse as JSON or YAML: ${(error as Error).message}` });
  }
}

export const resourceModifiersSchema = z.strictObject({
  version: z.literal('v1', { error: 'must be "v1", the only version of resource modifiers' }),
  resourceModifierRules: z.array(ruleSchema),
});

export type ResourceModifiers = z.output<typeof resourceModifiersSchema>;
export type ResourceModifierRule = ResourceModifiers['resourceModifierRules'][number];

/**
 * Reads resource modifiers given inline (an object) or as the YAML/JSON text a Velero
 * ConfigMap would hold.
 *
 * @throws ValidationError naming the rule index and field (`resourceModifiers.resourceModifierRules.0.patches.0.path`).
 */
export function parseResourceModifiers(input: unknown, field = 'resourceModifiers'): ResourceModifiers {
  let document = input;
  if (typeof input === 'string') {
    try {
      document = parseYaml(input);
    } catch (error) {
      throw new ValidationError('restore request', [{ path: field, message: `does not parse as YAML or JSON: ${(error as Error).message}` }]);
    }
  }
  const parsed = resourceModifiersSchema.safeParse(document);
  if (!parsed.success) throw new ValidationError('restore request', fieldIssuesFromZod(parsed.error, field));
  return parsed.data;
}

/**
 * A JSON Patch value as Velero reads its string form (json_patch.go addQuotes): `null`,
 * `true`/`false`, numbers, and text starting with `{` or `[` are JSON; text in double
 * quotes is that text; anything else is a string. Non-string values are used as given.
 */
export function patchValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (value === '') return '';
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1);
  if (value === 'null') return null;
  if (value.toLowerCase() === 'true') return true;
  if (value.toLowerCase() === 'false') return false;
  if (value.startsWith('{') || value.startsWith('[')) return JSON.parse(value);
  if (value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return value;
}

/** What a rule is applied to: the object and where it comes from (before namespace mapping). */
export interface ModifierTarget {
  groupResource: string;
  /** The object's namespace in the backup; "" for cluster-scoped objects. */
  namespace: string;
  name: string;
  labels: Record<string, string> | undefined;
}

/** Whether a rule's conditions, all but `matches`, select the object. */
function conditionsSelect(rule: ResourceModifierRule, target: ModifierTarget): boolean {
  const { conditions } = rule;
  if (!new IncludesExcludes(conditions.namespaces ?? []).shouldInclude(target.namespace)) return false;
  if (!compileGlob(conditions.groupResource)?.test(target.groupResource)) return false;
  if (conditions.resourceNameRegex && !new RegExp(conditions.resourceNameRegex).test(target.name)) return false;
  if (conditions.labelSelector && !matchesLabelSelector(conditions.labelSelector, target.labels)) return false;
  return true;
}

/** Whether every `matches` entry holds (a JSON Patch `test`, as Velero's matchConditions). */
function matchesHold(rule: ResourceModifierRule, object: RestoreObject): boolean {
  const tests: Operation[] = (rule.conditions.matches ?? []).map((m) => ({ op: 'test', path: m.path, value: patchValue(m.value) }));
  if (tests.length === 0) return true;
  try {
    jsonPatch.applyPatch(object, tests, true, false);
    return true;
  } catch {
    return false;
  }
}

/**
 * Applies one rule to an object when its conditions select it. Answers the patched
 * object (a new one), or undefined when the rule does not apply.
 *
 * @throws Error with a message naming the failing patch when a patch cannot be applied
 *   (a path that does not exist, a strategic patch for a kind without patch strategy);
 *   a JSON Patch `test` that fails leaves the object as it is, as in Velero.
 */
export function applyRule(rule: ResourceModifierRule, target: ModifierTarget, object: RestoreObject): RestoreObject | undefined {
  if (!conditionsSelect(rule, target) || !matchesHold(rule, object)) return undefined;
  if (rule.patches?.length) {
    const operations = rule.patches.map((p) => ({ op: p.operation, path: p.path, from: p.from, value: patchValue(p.value) }) as Operation);
    try {
      return jsonPatch.applyPatch(structuredClone(object), operations, true, false).newDocument as RestoreObject;
    } catch (error) {
      if ((error as { name?: string }).name === 'TEST_OPERATION_FAILED') return object;
      throw new Error(`JSON patch failed: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  if (rule.mergePatches?.length) {
    let result: unknown = object;
    for (const patch of rule.mergePatches) result = applyMergePatch(structuredClone(result), parseYaml(patch.patchData));
    return result as RestoreObject;
  }
  const unsupported = strategicMergeSupport(object.kind ?? '');
  if (unsupported) throw new Error(unsupported);
  let result = object;
  for (const patch of rule.strategicPatches ?? []) result = strategicMerge(result, parseYaml(patch.patchData) as Record<string, unknown>);
  return result;
}

/** One rule's failure on one object. */
export interface ModifierFailure {
  ruleIndex: number;
  message: string;
}

/**
 * Applies every rule in order (Velero's ApplyResourceModifierRules). A rule that fails
 * is reported and skipped; the others still apply.
 */
export function applyResourceModifiers(
  modifiers: ResourceModifiers | undefined,
  target: ModifierTarget,
  object: RestoreObject,
): { object: RestoreObject; failures: ModifierFailure[]; applied: number[] } {
  const failures: ModifierFailure[] = [];
  const applied: number[] = [];
  let current = object;
  for (const [ruleIndex, rule] of (modifiers?.resourceModifierRules ?? []).entries()) {
    try {
      const next = applyRule(rule, { ...target, labels: current.metadata?.labels }, current);
      if (next) {
        current = next;
        applied.push(ruleIndex);
      }
    } catch (error) {
      failures.push({ ruleIndex, message: `resource modifier rule ${ruleIndex}: ${(error as Error).message}` });
    }
  }
  return { object: current, failures, applied };
}
