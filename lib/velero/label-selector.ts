import { ValidationError } from '../core/errors';
import { byCodeUnit } from '../core/ordering';
import type { LabelSelector, LabelSelectorRequirement } from './backup';
import { labelKeyIssues, labelValueIssues } from './names';

/**
 * Label selectors as text, both ways, as Kubernetes reads and writes them
 * (k8s.io/apimachinery pkg/labels/selector.go Parse, pkg/apis/meta/v1/helpers.go
 * ParseToLabelSelector and FormatLabelSelector); velero's -l/--selector and
 * --or-selector use them. Requirements: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k` (exists), `!k` (does not exist), separated by commas.
 */

type Token = { kind: 'word'; text: string } | { kind: 'op'; text: '!' | '=' | '==' | '!=' | '(' | ')' | ',' | '<' | '>' };

function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (text.startsWith('==', i) || text.startsWith('!=', i)) {
      out.push({ kind: 'op', text: text.slice(i, i + 2) as '==' | '!=' });
      i += 2;
    } else if ('!=(),<>'.includes(c)) {
      out.push({ kind: 'op', text: c as '!' });
      i++;
    } else {
      let end = i;
      while (end < text.length && !/[\s!=(),<>]/.test(text[end]!)) end++;
      out.push({ kind: 'word', text: text.slice(i, end) });
      i = end;
    }
  }
  return out;
}

/**
 * Parses selector text into a metav1.LabelSelector: `=`/`==` into matchLabels, the rest
 * into matchExpressions (`!=` is NotIn with one value), sorted by key with sorted values,
 * as ParseToLabelSelector does. Empty text is an empty selector (everything). Throws a
 * ValidationError at `field` naming what is wrong and where.
 */
export function parseLabelSelector(text: string, field = '--selector'): LabelSelector {
  const fail = (message: string): never => {
    throw new ValidationError('command line', [{ path: field, message: `${JSON.stringify(text)}: ${message}` }]);
  };
  const list = tokens(text);
  let at = 0;
  const peek = () => list[at];
  const next = () => list[at++];
  const requirements: { key: string; operator: string; values: string[] }[] = [];
  const word = (what: string): string => {
    const t = next();
    if (t?.kind !== 'word') fail(`expected ${what}${t ? `, found "${t.text}"` : ' at the end'}`);
    return (t as { text: string }).text;
  };
  const checkKey = (key: string) => labelKeyIssues(key).forEach((m) => fail(`label key "${key}": ${m}`));
  const checkValue = (value: string) => labelValueIssues(value).forEach((m) => fail(`label value "${value}": ${m}`));
  while (at < list.length) {
    if (requirements.length > 0) {
      const comma = next();
      if (comma?.kind !== 'op' || comma.text !== ',') fail(`expected "," between requirements, found "${comma?.text}"`);
    }
    if (peek()?.kind === 'op' && peek()!.text === '!') {
      next();
      const key = word('a label key after "!"');
      checkKey(key);
      requirements.push({ key, operator: 'DoesNotExist', values: [] });
      continue;
    }
    const key = word('a label key');
    checkKey(key);
    const op = peek();
    if (!op || (op.kind === 'op' && op.text === ',')) {
      requirements.push({ key, operator: 'Exists', values: [] });
      continue;
    }
    next();
    if (op.kind === 'op' && (op.text === '=' || op.text === '==' || op.text === '!=')) {
      const value = peek()?.kind === 'word' ? next()!.text : '';
      checkValue(value);
      requirements.push({ key, operator: op.text === '!=' ? 'NotIn' : 'Equals', values: [value] });
    } else if (op.kind === 'word' && (op.text === 'in' || op.text === 'notin')) {
      const open = next();
      if (open?.kind !== 'op' || open.text !== '(') fail(`expected "(" after "${op.text}"`);
      const values: string[] = [];
      while (!(peek()?.kind === 'op' && peek()!.text === ')')) {
        if (values.length > 0 && next()?.text !== ',') fail(`expected "," or ")" in the values of "${key}"`);
        const value = peek()?.kind === 'word' ? next()!.text : '';
        checkValue(value);
        values.push(value);
        if (at >= list.length) fail(`missing ")" after the values of "${key}"`);
      }
      next();
      if (values.length === 0) fail(`"${key} ${op.text} ()" needs at least one value`);
      requirements.push({ key, operator: op.text === 'in' ? 'In' : 'NotIn', values });
    } else if (op.text === '<' || op.text === '>') {
      fail(`"${op.text}" isn't supported in label selectors`);
    } else {
      fail(`"${op.text}" after "${key}" is not an operator: use =, ==, !=, in, notin, or the key alone`);
    }
  }
  requirements.sort((a, b) => byCodeUnit(a.key, b.key));
  const selector: LabelSelector = {};
  for (const r of requirements) {
    if (r.operator === 'Equals') {
      (selector.matchLabels ??= {})[r.key] = r.values[0]!;
      continue;
    }
    const requirement = { key: r.key, operator: r.operator } as LabelSelectorRequirement;
    if (r.values.length > 0) requirement.values = [...new Set(r.values)].sort(byCodeUnit);
    (selector.matchExpressions ??= []).push(requirement);
  }
  return selector;
}

/** velero's --or-selector: selectors separated by " or " (pkg/cmd/util/flag/orlabelselector.go). */
export function parseOrLabelSelectors(text: string, field = '--or-selector'): LabelSelector[] {
  return text.split(' or ').map((part) => parseLabelSelector(part, field));
}

/**
 * A selector as text, as metav1.FormatLabelSelector writes it (velero's SELECTOR column):
 * requirements sorted by key, `k=v`, `k in (a,b)`, `k notin (a)`, `k`, `!k`; `<none>` for
 * none at all.
 */
export function formatLabelSelector(selector: LabelSelector | undefined | null): string {
  if (!selector) return '<none>';
  const parts: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) parts.push({ key, text: `${key}=${value}` });
  for (const e of selector.matchExpressions ?? []) {
    const values = [...new Set(e.values ?? [])].sort(byCodeUnit).join(',');
    const text =
      e.operator === 'In' ? `${e.key} in (${values})` : e.operator === 'NotIn' ? `${e.key} notin (${values})` : e.operator === 'Exists' ? e.key : `!${e.key}`;
    parts.push({ key: e.key, text });
  }
  const text = parts
    .sort((a, b) => byCodeUnit(a.key, b.key))
    .map((p) => p.text)
    .join(',');
  return text || '<none>';
}

/**
 * Whether `labels` satisfy a metav1.LabelSelector: every matchLabels pair and every
 * expression (In, NotIn, Exists, DoesNotExist). An empty selector matches everything.
 */
export function matchesLabelSelector(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const has = (key: string) => labels !== undefined && Object.hasOwn(labels, key);
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!has(key) || labels![key] !== value) return false;
  }
  for (const requirement of selector.matchExpressions ?? []) {
    const present = has(requirement.key);
    const values = requirement.values ?? [];
    switch (requirement.operator) {
      case 'In':
        if (!present || !values.includes(labels![requirement.key]!)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(labels![requirement.key]!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
    }
  }
  return true;
}
