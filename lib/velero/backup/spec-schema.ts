import { z } from 'zod';
import { durationToMilliseconds, formatDurationNanos, tryParseDuration } from '../duration';
import { dns1123LabelIssues, dns1123SubdomainIssues, labelKeyIssues, labelValueIssues, validLabelValue } from '../names';

// ---------------------------------------------------------------------------------------
// Schemas. Requests are parsed strictly (an unknown field is a mistake worth reporting);
// stored backups loosely (a newer Velero may have added fields).

type Mode = 'strict' | 'loose';

/** Edit distance, to suggest the field a misspelt one was meant to be. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

function unknownFieldsMessage(unknown: readonly string[], allowed: readonly string[]): string {
  const parts = unknown.map((key) => {
    const best = allowed
      .map((candidate) => ({ candidate, distance: editDistance(key.toLowerCase(), candidate.toLowerCase()) }))
      .sort((x, y) => x.distance - y.distance)[0];
    // Close enough to be a typo: about one edit per three characters.
    const close = best && best.distance <= Math.max(1, Math.floor(key.length / 3));
    const hint = close ? ` (did you mean "${best.candidate}"?)` : '';
    return `"${key}"${hint}`;
  });
  const noun = unknown.length === 1 ? 'unknown field' : 'unknown fields';
  return `${noun} ${parts.join(', ')}; allowed fields here are: ${allowed.join(', ')}`;
}

function objectOf<S extends z.ZodRawShape>(mode: Mode, shape: S) {
  if (mode === 'loose') return z.looseObject(shape);
  const allowed = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? unknownFieldsMessage(issue.keys, allowed) : undefined),
  });
}

/** Velero marks most optional fields `+nullable`: null means the same as absent. */
export function optionalOrNull<T extends z.ZodType>(schema: T) {
  return schema
    .nullish()
    .transform((value) => value ?? undefined)
    .optional();
}

const stringList = optionalOrNull(z.array(z.string()));
const flag = optionalOrNull(z.boolean());

/** A Go duration, stored the way Velero writes it (`1h30m` becomes `1h30m0s`). */
const duration = z.string().transform((text, ctx) => {
  const parsed = tryParseDuration(text);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.message });
    return z.NEVER;
  }
  return formatDurationNanos(parsed.nanoseconds);
});

/** A map of labels; a bad key is reported at its own path, with what is wrong with it. */
const labelMap = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const [key, value] of Object.entries(labels)) {
    for (const message of labelKeyIssues(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `label key ${JSON.stringify(key)}: ${message}` });
    }
    for (const message of labelValueIssues(value)) ctx.addIssue({ code: 'custom', path: [key], message });
  }
});

/** Operators of a metav1.LabelSelector expression. */
export const LABEL_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

function schemasFor(mode: Mode) {
  const labelSelectorRequirement = objectOf(mode, {
    key: z.string().superRefine((key, ctx) => {
      for (const message of labelKeyIssues(key)) ctx.addIssue({ code: 'custom', message: `label key ${message}` });
    }),
    operator: z.enum(LABEL_SELECTOR_OPERATORS),
    values: stringList,
  }).superRefine((requirement, ctx) => {
    const count = requirement.values?.length ?? 0;
    const needsValues = requirement.operator === 'In' || requirement.operator === 'NotIn';
    if (needsValues && count === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `operator ${requirement.operator} needs at least one value`,
      });
    }
    if (!needsValues && count > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `operator ${requirement.operator} takes no values; use In or NotIn to compare values`,
      });
    }
    for (const [i, value] of (requirement.values ?? []).entries()) {
      for (const message of labelValueIssues(value)) ctx.addIssue({ code: 'custom', path: ['values', i], message });
    }
  });

  /** metav1.LabelSelector: matchLabels and matchExpressions, all of which must match. */
  const labelSelector = objectOf(mode, {
    matchLabels: optionalOrNull(labelMap),
    matchExpressions: optionalOrNull(z.array(labelSelectorRequirement)),
  });

  const execHook = objectOf(mode, {
    container: z.string().optional(),
    command: z.array(z.string()).min(1, 'an exec hook needs a command of at least one element'),
    onError: z.enum(['Continue', 'Fail']).optional(),
    timeout: duration.optional(),
  });

  const resourceHook = objectOf(mode, { exec: execHook });

  const resourceHookSpec = objectOf(mode, {
    name: z.string().min(1, 'a hook needs a name'),
    includedNamespaces: stringList,
    excludedNamespaces: stringList,
    includedResources: stringList,
    excludedResources: stringList,
    labelSelector: optionalOrNull(labelSelector),
    pre: optionalOrNull(z.array(resourceHook)),
    post: optionalOrNull(z.array(resourceHook)),
  });

  const spec = objectOf(mode, {
    metadata: objectOf(mode, { labels: optionalOrNull(labelMap) }).optional(),
    includedNamespaces: stringList,
    excludedNamespaces: stringList,
    includedResources: stringList,
    excludedResources: stringList,
    includedClusterScopedResources: stringList,
    excludedClusterScopedResources: stringList,
    includedNamespaceScopedResources: stringList,
    excludedNamespaceScopedResources: stringList,
    labelSelector: optionalOrNull(labelSelector),
    orLabelSelectors: optionalOrNull(z.array(labelSelector)),
    snapshotVolumes: flag,
    ttl: duration.optional(),
    volumeGroupSnapshotLabelKey: z.string().optional(),
    includeClusterResources: flag,
    hooks: objectOf(mode, { resources: optionalOrNull(z.array(resourceHookSpec)) }).optional(),
    storageLocation: z.string().optional(),
    volumeSnapshotLocations: stringList,
    defaultVolumesToRestic: flag,
    defaultVolumesToFsBackup: flag,
    orderedResources: optionalOrNull(z.record(z.string(), z.string())),
    csiSnapshotTimeout: duration.optional(),
    itemOperationTimeout: duration.optional(),
    resourcePolicy: optionalOrNull(
      objectOf(mode, { apiGroup: optionalOrNull(z.string()), kind: z.string(), name: z.string() }),
    ),
    snapshotMoveData: flag,
    datamover: z.string().optional(),
    uploaderConfig: optionalOrNull(objectOf(mode, { parallelFilesUpload: z.number().int().nonnegative().optional() })),
  });

  return { labelSelector, spec };
}

/** Schemas for requests: unknown fields are errors. */
export const strictSchemas = schemasFor('strict');
/** Schemas for stored backups: unknown fields are kept. */
export const looseSchemas = schemasFor('loose');

/** metav1.LabelSelector as parsed. */
export type LabelSelector = z.output<typeof strictSchemas.labelSelector>;
export type LabelSelectorRequirement = NonNullable<LabelSelector['matchExpressions']>[number];
