import { describe, expect, it } from 'vitest';
import {
  ResourceList,
  addMessage,
  addVeleroMessage,
  countMessages,
  emptyResult,
  emptyResults,
  mergeResult,
  parseResults,
  resourceListKey,
  serializeResults,
  type Result,
} from '../../../lib/velero/results';
import { ValidationError } from '../../../lib/core/errors';

function result(partial: Partial<Result>): Result {
  return { ...emptyResult(), ...partial };
}

describe('Module: backup/results', () => {
  // Velero's TestAdd.
  it.each([
    ['no existing errors, empty namespace: cluster list', emptyResult(), '', result({ cluster: ['foo'] })],
    ['some existing errors, empty namespace: cluster list', result({ cluster: ['bar'] }), '', result({ cluster: ['bar', 'foo'] })],
    ['no existing errors, a namespace: its list', emptyResult(), 'ns-1', result({ namespaces: { 'ns-1': ['foo'] } })],
    [
      'some existing errors, a namespace: its list',
      result({ namespaces: { 'ns-1': ['bar'], 'ns-2': ['baz'] } }),
      'ns-1',
      result({ namespaces: { 'ns-1': ['bar', 'foo'], 'ns-2': ['baz'] } }),
    ],
    ['undefined namespace: cluster list', emptyResult(), undefined, result({ cluster: ['foo'] })],
  ])('addMessage: %s', (_name, start, namespace, want) => {
    addMessage(start, namespace, 'foo');
    expect(start).toEqual(want);
  });

  // Velero's TestAddVeleroError.
  it.each([
    [emptyResult(), result({ velero: ['foo'] })],
    [result({ velero: ['bar'] }), result({ velero: ['bar', 'foo'] })],
  ])('addVeleroMessage (%#)', (start, want) => {
    addVeleroMessage(start, 'foo');
    expect(start).toEqual(want);
  });

  // Velero's TestMerge.
  it.each([
    [
      'an empty result merged into a non-empty one changes nothing',
      result({ cluster: ['foo'], namespaces: { 'ns-1': ['bar'], 'ns-2': ['baz'] } }),
      emptyResult(),
      result({ cluster: ['foo'], namespaces: { 'ns-1': ['bar'], 'ns-2': ['baz'] } }),
    ],
    [
      'a non-empty result merged into an empty one',
      emptyResult(),
      result({ cluster: ['foo'], namespaces: { 'ns-1': ['bar'], 'ns-2': ['baz'] } }),
      result({ cluster: ['foo'], namespaces: { 'ns-1': ['bar'], 'ns-2': ['baz'] } }),
    ],
    [
      'two non-empty results give their union',
      result({ cluster: ['cluster-err-1'], namespaces: { 'ns-1': ['ns-1-err-1'], 'ns-2': ['ns-2-err-1'], 'ns-3': ['ns-3-err-1'] } }),
      result({ cluster: ['cluster-err-2'], namespaces: { 'ns-1': ['ns-1-err-2'], 'ns-2': ['ns-2-err-2'], 'ns-4': ['ns-4-err-1'] } }),
      result({
        cluster: ['cluster-err-1', 'cluster-err-2'],
        namespaces: { 'ns-1': ['ns-1-err-1', 'ns-1-err-2'], 'ns-2': ['ns-2-err-1', 'ns-2-err-2'], 'ns-3': ['ns-3-err-1'], 'ns-4': ['ns-4-err-1'] },
      }),
    ],
  ])('mergeResult: %s', (_name, into, other, want) => {
    mergeResult(into, other);
    expect(into).toEqual(want);
  });

  it('counts messages', () => {
    expect(countMessages(result({ velero: ['a'], cluster: ['b', 'c'], namespaces: { x: ['d'], y: [] } }))).toBe(4);
  });

  it('serialises as Velero does: empty lists left out, namespaces sorted, one line', () => {
    const results = emptyResults();
    addMessage(results.warnings, 'zeta', 'w1');
    addMessage(results.warnings, 'alpha', 'w2');
    addMessage(results.errors, '', 'e1');
    expect(serializeResults(results)).toBe(
      '{"errors":{"cluster":["e1"]},"warnings":{"namespaces":{"alpha":["w2"],"zeta":["w1"]}}}\n',
    );
    expect(serializeResults(emptyResults())).toBe('{"errors":{},"warnings":{}}\n');
  });

  it.each([
    [{ errors: {}, warnings: {} }, emptyResults()],
    [{}, emptyResults()],
    [{ errors: { velero: ['v'], namespaces: { a: ['x'] } }, warnings: null }, { errors: result({ velero: ['v'], namespaces: { a: ['x'] } }), warnings: emptyResult() }],
  ])('reads a results document written by Velero (%#)', (document, want) => {
    expect(parseResults(document)).toEqual(want);
  });

  it('round-trips its own output', () => {
    const results = emptyResults();
    addMessage(results.errors, 'app', 'e');
    addVeleroMessage(results.warnings, 'w');
    expect(parseResults(JSON.parse(serializeResults(results)))).toEqual(results);
  });

  it('refuses a malformed results document, naming the field', () => {
    expect(() => parseResults({ errors: { cluster: 'oops' } })).toThrow(ValidationError);
    expect(() => parseResults({ errors: { cluster: 'oops' } })).toThrow(/errors\.cluster/);
  });

  it.each([
    ['v1', 'Pod', 'v1/Pod'],
    ['apps/v1', 'Deployment', 'apps/v1/Deployment'],
    ['snapshot.storage.k8s.io/v1', 'VolumeSnapshot', 'snapshot.storage.k8s.io/v1/VolumeSnapshot'],
  ])('keys %s %s as %j', (apiVersion, kind, key) => {
    expect(resourceListKey(apiVersion, kind)).toBe(key);
  });

  it('builds the resource list: "ns/name" or "name", sorted, each object once', () => {
    const list = new ResourceList();
    list.add({ apiVersion: 'v1', kind: 'Pod', namespace: 'b', name: 'web-1' });
    list.add({ apiVersion: 'v1', kind: 'Pod', namespace: 'a', name: 'web-0' });
    list.add({ apiVersion: 'v1', kind: 'Pod', namespace: 'a', name: 'web-0' });
    list.add({ apiVersion: 'v1', kind: 'PersistentVolume', name: 'pv-1' });
    list.add({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'a', name: 'web' });
    list.add({ apiVersion: 'v1', kind: 'Namespace', namespace: '', name: 'a' });
    expect(list.toJSON()).toEqual({
      'apps/v1/Deployment': ['a/web'],
      'v1/Namespace': ['a'],
      'v1/PersistentVolume': ['pv-1'],
      'v1/Pod': ['a/web-0', 'b/web-1'],
    });
    expect(Object.keys(list.toJSON())).toEqual(['apps/v1/Deployment', 'v1/Namespace', 'v1/PersistentVolume', 'v1/Pod']);
    expect(list.serialize()).toBe(`${JSON.stringify(list.toJSON())}\n`);
  });

  it('rebuilds a resource list from its JSON form and goes on adding to it', () => {
    const list = ResourceList.fromJSON({ 'v1/Pod': ['a/web-0'] });
    list.add({ apiVersion: 'v1', kind: 'Pod', namespace: 'a', name: 'web-0' });
    list.add({ apiVersion: 'v1', kind: 'Pod', namespace: 'a', name: 'web-1' });
    expect(list.toJSON()).toEqual({ 'v1/Pod': ['a/web-0', 'a/web-1'] });
  });
});
