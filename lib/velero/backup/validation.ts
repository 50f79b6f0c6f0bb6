import type { z } from 'zod';
import type { FieldIssue } from '../../core/errors';
import { tryParseDuration } from '../duration';
import { dns1123LabelIssues } from '../names';
import type { strictSchemas } from './spec-schema';

// ---------------------------------------------------------------------------------------
// Cross-field rules, as Velero's backup controller checks them before it runs a backup
// (pkg/controller/backup_controller.go, prepareBackupRequest).

const OLD_STYLE_FILTERS = ['includedResources', 'excludedResources', 'includeClusterResources'] as const;
const NEW_STYLE_FILTERS = [
  'includedClusterScopedResources',
  'excludedClusterScopedResources',
  'includedNamespaceScopedResources',
  'excludedNamespaceScopedResources',
] as const;

type ListIssue = { list: 'includes' | 'excludes'; message: string };

/** Velero's ValidateIncludesExcludes: rules for includedResources/excludedResources and namespaces. */
export function includesExcludesIssues(includes: readonly string[] = [], excludes: readonly string[] = []): ListIssue[] {
  const inc = new Set(includes);
  const exc = new Set(excludes);
  const issues: ListIssue[] = [];
  if (inc.size > 1 && inc.has('*')) {
    issues.push({ list: 'includes', message: "'*' means everything and must be the only item when present" });
  }
  if (exc.has('*')) {
    issues.push({ list: 'excludes', message: "'*' is not allowed here; to back up nothing of a kind, do not include it" });
  }
  for (const item of [...exc].sort()) {
    if (inc.has(item)) issues.push({ list: 'excludes', message: `"${item}" is also in the includes list; list it in one of them only` });
  }
  return issues;
}

/** Velero's ValidateScopedIncludesExcludes: rules for the cluster- and namespace-scoped lists. */
export function scopedIncludesExcludesIssues(
  includes: readonly string[] = [],
  excludes: readonly string[] = [],
): ListIssue[] {
  const inc = new Set(includes);
  const exc = new Set(excludes);
  const issues: ListIssue[] = [];
  if (inc.size > 1 && inc.has('*')) {
    issues.push({ list: 'includes', message: "'*' means everything and must be the only item when present" });
  }
  if (exc.size > 1 && exc.has('*')) {
    issues.push({ list: 'excludes', message: "'*' means everything and must be the only item when present" });
  }
  if (inc.size > 0 && exc.has('*')) {
    issues.push({ list: 'excludes', message: "'*' excludes everything, so the includes list must be empty" });
  }
  for (const item of [...exc].sort()) {
    if (inc.has(item)) issues.push({ list: 'excludes', message: `"${item}" is also in the includes list; list it in one of them only` });
  }
  return issues;
}

/**
 * Velero's wildcard.ValidateNamespaceName: what is wrong with the glob syntax of a
 * namespace pattern, or undefined when it is usable.
 */
export function namespacePatternIssue(pattern: string): string | undefined {
  if (/[|()!{},]/.test(pattern)) {
    return `"${pattern}" uses a character namespace patterns do not support (| ( ) ! { } ,); use *, ? or [...]`;
  }
  if (pattern.includes('**')) return `"${pattern}" has consecutive asterisks; a single * already matches any run of characters`;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === ']') return `"${pattern}" has a ']' without a matching '['`;
    if (pattern[i] === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) return `"${pattern}" has a '[' that is never closed`;
      if (close === i + 1) return `"${pattern}" has an empty bracket pattern '[]'`;
      i = close;
    }
  }
  return undefined;
}

/** Velero's ValidateNamespaceIncludesExcludes: list rules plus valid names or patterns. */
export function namespaceIncludesExcludesIssues(
  includes: readonly string[] = [],
  excludes: readonly string[] = [],
): ListIssue[] {
  const issues = includesExcludesIssues(includes, excludes);
  const check = (list: ListIssue['list'], names: readonly string[]) => {
    for (const name of [...new Set(names)].sort()) {
      // Velero reads "" as "no namespace" and accepts it.
      if (name === '') continue;
      const patternIssue = namespacePatternIssue(name);
      if (patternIssue) {
        issues.push({ list, message: patternIssue });
        continue;
      }
      const asName = name.replace(/[*?[\]]/g, 'x');
      for (const message of dns1123LabelIssues(asName)) {
        issues.push({ list, message: `"${name}" is not a namespace name or pattern: it ${message}` });
      }
    }
  };
  check('includes', includes);
  check('excludes', excludes);
  return issues;
}

/** A Backup spec as the strict schema parses it, before defaults. */
export type ParsedSpec = z.output<typeof strictSchemas.spec>;

export function crossFieldIssues(spec: ParsedSpec): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const usedOld = OLD_STYLE_FILTERS.filter((f) =>
    f === 'includeClusterResources' ? spec[f] !== undefined : (spec[f]?.length ?? 0) > 0,
  );
  const usedNew = NEW_STYLE_FILTERS.filter((f) => (spec[f]?.length ?? 0) > 0);
  if (usedOld.length > 0 && usedNew.length > 0) {
    issues.push({
      path: usedNew[0]!,
      message:
        `old-style resource filters (${usedOld.join(', ')}) cannot be combined with new-style ones ` +
        `(${usedNew.join(', ')}); use either includedResources/excludedResources/includeClusterResources, ` +
        'or the cluster-scoped/namespace-scoped lists',
    });
  }

  const report = (includesField: string, excludesField: string, found: ListIssue[]) => {
    for (const issue of found) {
      issues.push({ path: issue.list === 'includes' ? includesField : excludesField, message: issue.message });
    }
  };
  if (usedOld.length > 0) {
    report('includedResources', 'excludedResources', includesExcludesIssues(spec.includedResources, spec.excludedResources));
  } else {
    report(
      'includedClusterScopedResources',
      'excludedClusterScopedResources',
      scopedIncludesExcludesIssues(spec.includedClusterScopedResources, spec.excludedClusterScopedResources),
    );
    report(
      'includedNamespaceScopedResources',
      'excludedNamespaceScopedResources',
      scopedIncludesExcludesIssues(spec.includedNamespaceScopedResources, spec.excludedNamespaceScopedResources),
    );
  }
  report(
    'includedNamespaces',
    'excludedNamespaces',
    namespaceIncludesExcludesIssues(spec.includedNamespaces, spec.excludedNamespaces),
  );

  if (spec.labelSelector !== undefined && spec.orLabelSelectors !== undefined) {
    issues.push({
      path: 'orLabelSelectors',
      message:
        'labelSelector and orLabelSelectors cannot both be set; use labelSelector for one selector, ' +
        'or orLabelSelectors for several alternatives',
    });
  }
  for (const field of ['ttl', 'csiSnapshotTimeout', 'itemOperationTimeout'] as const) {
    const value = spec[field];
    if (value?.startsWith('-')) issues.push({ path: field, message: `must not be negative, got "${value}"` });
  }
  return issues;
}
