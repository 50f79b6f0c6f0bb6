import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/core/errors';
import { applyResourceModifiers, parseResourceModifiers, patchValue, type ResourceModifiers } from '../../../lib/restore/modifiers';
import type { RestoreObject } from '../../../lib/restore/reset';
import { strategicMerge } from '../../../lib/restore/strategic-merge';

function deployment(): RestoreObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
    spec: {
      replicas: 1,
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'c', image: 'nginx', env: [{ name: 'A', value: '1' }] },
            { name: 'sidecar', image: 'busybox' },
          ],
        },
      },
    },
  };
}

const target = { groupResource: 'deployments.apps', namespace: 'shop', name: 'web', labels: { app: 'web' } };

function rules(...resourceModifierRules: unknown[]): ResourceModifiers {
  return parseResourceModifiers({ version: 'v1', resourceModifierRules });
}

describe('Function: patchValue', () => {
  it.each([
    ['3', 3],
    ['true', true],
    ['null', null],
    ['"3"', '3'],
    ['nginx:1.2', 'nginx:1.2'],
    ['{"a":1}', { a: 1 }],
    ['[1]', [1]],
    [5, 5],
  ])('reads %j as %j (Velero addQuotes)', (input, expected) => {
    expect(patchValue(input)).toEqual(expected);
  });
});

describe('Function: applyResourceModifiers', () => {
  it.each([
    [
      'JSON patch replaces a field',
      { conditions: { groupResource: 'deployments.apps' }, patches: [{ operation: 'replace', path: '/spec/replicas', value: '3' }] },
      (o: RestoreObject) => expect((o.spec as { replicas: number }).replicas).toBe(3),
    ],
    [
      'a groupResource glob matches',
      { conditions: { groupResource: '*.apps' }, patches: [{ operation: 'replace', path: '/spec/replicas', value: '2' }] },
      (o: RestoreObject) => expect((o.spec as { replicas: number }).replicas).toBe(2),
    ],
    [
      'another namespace does not match',
      { conditions: { groupResource: 'deployments.apps', namespaces: ['other'] }, patches: [{ operation: 'replace', path: '/spec/replicas', value: '2' }] },
      (o: RestoreObject) => expect((o.spec as { replicas: number }).replicas).toBe(1),
    ],
    [
      'a name regex that does not match',
      { conditions: { groupResource: 'deployments.apps', resourceNameRegex: '^db' }, patches: [{ operation: 'replace', path: '/spec/replicas', value: '2' }] },
      (o: RestoreObject) => expect((o.spec as { replicas: number }).replicas).toBe(1),
    ],
    [
      'a label selector that does not match',
      { conditions: { groupResource: 'deployments.apps', labelSelector: { matchLabels: { app: 'db' } } }, patches: [{ operation: 'replace', path: '/spec/replicas', value: '2' }] },
      (o: RestoreObject) => expect((o.spec as { replicas: number }).replicas).toBe(1),
    ],
    [
      'matches that hold',
      {
        conditions: { groupResource: 'deployments.apps', matches: [{ path: '/spec/template/spec/containers/0/image', value: 'nginx' }] },
        patches: [{ operation: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:2' }],
      },
      (o: RestoreObject) => expect(JSON.stringify(o)).toContain('nginx:2'),
    ],
    [
      'matches that do not hold',
      {
        conditions: { groupResource: 'deployments.apps', matches: [{ path: '/spec/template/spec/containers/0/image', value: 'redis' }] },
        patches: [{ operation: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:2' }],
      },
      (o: RestoreObject) => expect(JSON.stringify(o)).not.toContain('nginx:2'),
    ],
    [
      'a merge patch (YAML)',
      { conditions: { groupResource: 'deployments.apps' }, mergePatches: [{ patchData: 'metadata:\n  labels:\n    tier: front\n    app: null\n' }] },
      (o: RestoreObject) => expect(o.metadata!.labels).toEqual({ tier: 'front' }),
    ],
    [
      'a strategic merge patch merges containers by name and env by name',
      {
        conditions: { groupResource: 'deployments.apps' },
        strategicPatches: [{ patchData: '{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:3","env":[{"name":"B","value":"2"}]}]}}}}' }],
      },
      (o: RestoreObject) => {
        const containers = (o.spec as { template: { spec: { containers: { name: string; image: string; env?: unknown[] }[] } } }).template.spec.containers;
        expect(containers.map((c) => [c.name, c.image])).toEqual([['c', 'nginx:3'], ['sidecar', 'busybox']]);
        expect(containers[0]!.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
      },
    ],
  ])('%s', (_case, rule, check) => {
    const { object, failures } = applyResourceModifiers(rules(rule), target, deployment());
    expect(failures).toEqual([]);
    check(object);
  });

  it('reports a failing rule by index and still applies the others', () => {
    const modifiers = rules(
      { conditions: { groupResource: '*' }, patches: [{ operation: 'replace', path: '/spec/nothing/here', value: '1' }] },
      { conditions: { groupResource: '*' }, patches: [{ operation: 'replace', path: '/spec/replicas', value: '4' }] },
    );
    const { object, failures } = applyResourceModifiers(modifiers, target, deployment());
    expect(failures.map((f) => f.ruleIndex)).toEqual([0]);
    expect(failures[0]!.message).toMatch(/^resource modifier rule 0: JSON patch failed/);
    expect((object.spec as { replicas: number }).replicas).toBe(4);
  });

  it('refuses a strategic patch for a kind without known patch strategy', () => {
    const modifiers = rules({ conditions: { groupResource: '*' }, strategicPatches: [{ patchData: '{"spec":{}}' }] });
    const { failures } = applyResourceModifiers(modifiers, { ...target, groupResource: 'widgets.example.com' }, { kind: 'Widget', metadata: { name: 'w' } });
    expect(failures[0]!.message).toMatch(/not for Widget; use mergePatches or patches/);
  });
});

describe('Function: parseResourceModifiers', () => {
  it.each([
    [{ version: 'v2', resourceModifierRules: [] }, 'resourceModifiers.version'],
    [{ version: 'v1', resourceModifierRules: [{ conditions: { groupResource: 'pods' } }] }, 'resourceModifiers.resourceModifierRules.0'],
    [{ version: 'v1', resourceModifierRules: [{ conditions: {}, patches: [{ operation: 'add', path: '/a' }] }] }, 'resourceModifiers.resourceModifierRules.0.conditions.groupResource'],
    [{ version: 'v1', resourceModifierRules: [{ conditions: { groupResource: 'pods' }, patches: [{ operation: 'frob', path: '/a' }] }] }, 'resourceModifiers.resourceModifierRules.0.patches.0.operation'],
    [{ version: 'v1', resourceModifierRules: [{ conditions: { groupResource: 'pods', resourceNameRegex: '(' }, patches: [{ operation: 'add', path: '/a' }] }] }, 'resourceModifiers.resourceModifierRules.0.conditions.resourceNameRegex'],
    [{ version: 'v1', resourceModifierRules: [{ conditions: { groupResource: 'pods' }, mergePatches: [{ patchData: '[1, 2' }] }] }, 'resourceModifiers.resourceModifierRules.0.mergePatches.0.patchData'],
  ])('names the wrong field of %j: %s', (input, path) => {
    try {
      parseResourceModifiers(input);
      expect.unreachable('should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues.map((i) => i.path)).toContain(path);
    }
  });

  it('reads the YAML a Velero ConfigMap holds', () => {
    const yaml = 'version: v1\nresourceModifierRules:\n- conditions:\n    groupResource: pods\n  patches:\n  - operation: add\n    path: /spec/priority\n    value: "1"\n';
    expect(parseResourceModifiers(yaml).resourceModifierRules[0]!.patches![0]!.path).toBe('/spec/priority');
  });
});

describe('Function: strategicMerge', () => {
  it.each([
    ['null deletes a key', { spec: { replicas: null } }, (o: Record<string, unknown>) => expect(o.spec).not.toHaveProperty('replicas')],
    [
      '$patch: delete removes a keyed element',
      { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
      (o: Record<string, unknown>) => expect(JSON.stringify(o)).not.toContain('busybox'),
    ],
    [
      'a list without merge key is replaced',
      { spec: { template: { spec: { containers: [{ name: 'c', args: ['x'] }] } } } },
      (o: Record<string, unknown>) => expect(JSON.stringify(o)).toContain('"args":["x"]'),
    ],
  ])('%s', (_case, patch, check) => {
    check(strategicMerge(deployment() as Record<string, unknown>, patch));
  });
});
