import { describe, expect, it } from 'vitest';
import { compileGlob, globMatches, hasWildcard } from '../../../lib/velero/glob';

describe('Module: velero/glob', () => {
  it.each([
    ['*', 'anything', true],
    ['*', '', true],
    ['*.bar', 'foo.bar', true],
    ['*.bar', 'bar.foo', false],
    ['kube-*', 'kube-system', true],
    ['kube-*', 'my-kube-system', false],
    ['*kube*', 'my-kube-system', true],
    ['test-?', 'test-1', true],
    ['test-?', 'test-12', false],
    ['ns-[0-9]', 'ns-7', true],
    ['ns-[0-9]', 'ns-a', false],
    ['ns-[!0-9]', 'ns-a', true],
    ['ns-[!0-9]', 'ns-7', false],
    ['ns-[abc]', 'ns-b', true],
    ['ns-[abc]', 'ns-d', false],
    ['ns-[!abc]', 'ns-d', true],
    ['{prod,staging}-*', 'staging-eu', true],
    ['{prod,staging}-*', 'dev-eu', false],
    ['{a,b{c,d}}', 'bd', true],
    ['deployments.apps', 'deployments.apps', true],
    ['deployments.apps', 'deploymentsXapps', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['a**b', 'a/x/b', true],
    ['pods', 'pods', true],
    ['pods', 'pod', false],
  ])('%j matches %j: %s', (pattern, value, expected) => {
    expect(globMatches(pattern, value)).toBe(expected);
  });

  it.each([['[abc'], ['ns-[a-z0-9]'], ['{a,b'], ['[a-']])('%j does not compile, so it matches nothing', (pattern) => {
    expect(compileGlob(pattern)).toBeUndefined();
    expect(globMatches(pattern, 'a')).toBe(false);
  });

  it('treats a reversed range as matching nothing, as gobwas/glob does', () => {
    expect(globMatches('[z-a]', 'm')).toBe(false);
    expect(globMatches('[!z-a]', 'm')).toBe(true);
  });

  it.each([
    ['kube-*', true],
    ['test-?', true],
    ['ns-[0-9]', true],
    ['default', false],
    ['a.b', false],
  ])('hasWildcard(%j) is %s', (pattern, expected) => {
    expect(hasWildcard(pattern)).toBe(expected);
  });
});
