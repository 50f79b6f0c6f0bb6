import { describe, expect, it } from 'vitest';
import { formatLabelSelector, parseLabelSelector, parseOrLabelSelectors } from '../../../lib/velero/label-selector';

describe('Function: parseLabelSelector', () => {
  it.each([
    ['app=nginx', { matchLabels: { app: 'nginx' } }],
    ['app==nginx', { matchLabels: { app: 'nginx' } }],
    ['app=', { matchLabels: { app: '' } }],
    ['tier!=cache', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['cache'] }] }],
    ['env in (prod, dev)', { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'prod'] }] }],
    ['env notin (qa)', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['qa'] }] }],
    ['backup', { matchExpressions: [{ key: 'backup', operator: 'Exists' }] }],
    ['!legacy', { matchExpressions: [{ key: 'legacy', operator: 'DoesNotExist' }] }],
    ['example.com/team=a', { matchLabels: { 'example.com/team': 'a' } }],
    [
      'z=1, !b,a in (x)',
      { matchLabels: { z: '1' }, matchExpressions: [{ key: 'a', operator: 'In', values: ['x'] }, { key: 'b', operator: 'DoesNotExist' }] },
    ],
    ['', {}],
  ])('parses %j as Kubernetes does', (text, expected) => {
    expect(parseLabelSelector(text)).toEqual(expected);
  });

  it.each([
    ['app=a=b', 'expected "," between requirements'],
    ['env in (a', 'missing ")"'],
    ['env in ()', 'at least one value'],
    ['env in a', 'expected "("'],
    ['a>1', "isn't supported"],
    ['-bad=x', 'label key "-bad"'],
    ['app=bad value!', 'expected "," between requirements'],
    ['app=' + 'x'.repeat(64), 'label value'],
    ['a,,b', 'expected a label key'],
  ])('refuses %j naming what is wrong', (text, message) => {
    expect(() => parseLabelSelector(text, '-l')).toThrow(message);
    expect(() => parseLabelSelector(text, '-l')).toThrow('-l');
  });

  it('splits --or-selector on " or "', () => {
    expect(parseOrLabelSelectors('app=a or tier in (b)')).toEqual([
      { matchLabels: { app: 'a' } },
      { matchExpressions: [{ key: 'tier', operator: 'In', values: ['b'] }] },
    ]);
  });
});

describe('Function: formatLabelSelector', () => {
  it.each([
    [undefined, '<none>'],
    [{}, '<none>'],
    [{ matchLabels: { b: '2', a: '1' } }, 'a=1,b=2'],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }, { key: 'a', operator: 'Exists' }] }, 'a,env in (dev,prod)'],
    [{ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['1'] }, { key: 'y', operator: 'DoesNotExist' }] }, 'x notin (1),!y'],
  ] as const)('writes %j as metav1.FormatLabelSelector: %s', (selector, text) => {
    expect(formatLabelSelector(selector as never)).toBe(text);
  });

  it.each(['app=a', 'a,env in (dev,prod)', 'x notin (1),!y', 'k=v,tier notin (cache)'])('reads back what it writes: %s', (text) => {
    expect(formatLabelSelector(parseLabelSelector(text))).toBe(text);
  });
});
