import { createHash } from 'node:crypto';
import { ValidationError } from '../core/errors';

/** Longest DNS-1123 label, and so the longest Kubernetes label value. */
export const DNS1123_LABEL_MAX_LENGTH = 63;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL_RULE =
  "a DNS-1123 label has at most 63 characters, only lower-case letters, digits and '-', " +
  "and starts and ends with a letter or digit (e.g. 'my-name' or '123-abc')";

/**
 * Lists what is wrong with `value` as a DNS-1123 label (Kubernetes namespace names,
 * Velero backup names used as label values), pointing at the first offending character;
 * an empty list means it is valid.
 */
export function dns1123LabelIssues(value: string): string[] {
  const issues: string[] = [];
  if (value.length === 0) return [`must not be empty; ${DNS1123_LABEL_RULE}`];
  if (value.length > DNS1123_LABEL_MAX_LENGTH) {
    issues.push(`is ${value.length} characters long, the limit is ${DNS1123_LABEL_MAX_LENGTH}`);
  }
  if (!DNS1123_LABEL.test(value)) {
    const bad = Array.from(value).findIndex((c) => !/[-a-z0-9]/.test(c));
    if (bad >= 0) {
      const c = Array.from(value)[bad]!;
      const hint = /[A-Z]/.test(c) ? ' (upper-case letters are not allowed)' : '';
      issues.push(`has ${JSON.stringify(c)} at position ${bad + 1}${hint}; ${DNS1123_LABEL_RULE}`);
    } else {
      issues.push(`must start and end with a letter or digit; ${DNS1123_LABEL_RULE}`);
    }
  }
  return issues;
}

/** Longest DNS-1123 subdomain, and so the longest name of most Kubernetes objects. */
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Lists what is wrong with `value` as a DNS-1123 subdomain (the name of a Backup or of
 * most other objects: labels joined by dots, at most 253 characters).
 */
export function dns1123SubdomainIssues(value: string): string[] {
  const rule =
    "a DNS-1123 subdomain has at most 253 characters, only lower-case letters, digits, '-' and '.', " +
    "and starts and ends with a letter or digit (e.g. 'example.com')";
  if (value.length === 0) return [`must not be empty; ${rule}`];
  const issues: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX_LENGTH) {
    issues.push(`is ${value.length} characters long, the limit is ${DNS1123_SUBDOMAIN_MAX_LENGTH}`);
  }
  if (!DNS1123_SUBDOMAIN.test(value)) issues.push(`is not valid; ${rule}`);
  return issues;
}

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_NAME_RULE =
  "at most 63 characters: letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

/** Lists what is wrong with `key` as a label key (`[prefix/]name`, Kubernetes' qualified name). */
export function labelKeyIssues(key: string): string[] {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const issues: string[] = [];
  if (prefix !== undefined) {
    for (const issue of dns1123SubdomainIssues(prefix)) issues.push(`prefix ${JSON.stringify(prefix)} ${issue}`);
  }
  if (name.length === 0) issues.push('name part must not be empty');
  else if (name.length > DNS1123_LABEL_MAX_LENGTH || !LABEL_NAME.test(name)) {
    issues.push(`name part ${JSON.stringify(name)} is not valid; it must have ${LABEL_NAME_RULE}`);
  }
  return issues;
}

/** Lists what is wrong with `value` as a label value (empty, or a label name). */
export function labelValueIssues(value: string): string[] {
  if (value === '') return [];
  if (value.length > DNS1123_LABEL_MAX_LENGTH || !LABEL_NAME.test(value)) {
    return [`label value ${JSON.stringify(value)} is not valid; it must be empty or have ${LABEL_NAME_RULE}`];
  }
  return [];
}

/** Throws a ValidationError naming `field` unless `value` is a DNS-1123 label. */
export function assertDns1123Label(value: string, field: string, source = field): void {
  const issues = dns1123LabelIssues(value);
  if (issues.length > 0) {
    throw new ValidationError(
      source,
      issues.map((message) => ({ path: field, message: `${JSON.stringify(value)} ${message}` })),
    );
  }
}

function twoDigits(n: number): string {
  return n.toString().padStart(2, '0');
}

/**
 * The name Velero gives a scheduled backup: `<prefix>-<yyyyMMddHHmmss>` in UTC
 * (Schedule.TimestampedName), e.g. `daily-20240131235959`.
 */
export function defaultBackupName(prefix: string, date: Date): string {
  const stamp =
    date.getUTCFullYear().toString().padStart(4, '0') +
    twoDigits(date.getUTCMonth() + 1) +
    twoDigits(date.getUTCDate()) +
    twoDigits(date.getUTCHours()) +
    twoDigits(date.getUTCMinutes()) +
    twoDigits(date.getUTCSeconds());
  return `${prefix}-${stamp}`;
}

/**
 * Makes `value` short enough for a label value exactly like Velero's
 * label.GetValidName: values of at most 63 bytes are kept; longer ones keep their first
 * 57 bytes followed by the first 6 hex digits of their SHA-256, so that selectors such
 * as `velero.io/backup-name=<name>` find the same objects Velero labelled.
 */
export function validLabelValue(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length <= DNS1123_LABEL_MAX_LENGTH) return value;
  const hash = createHash('sha256').update(bytes).digest('hex');
  return bytes.subarray(0, DNS1123_LABEL_MAX_LENGTH - 6).toString('utf8') + hash.slice(0, 6);
}
