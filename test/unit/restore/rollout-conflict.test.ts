import { describe, expect, it } from 'vitest';
import { parseResourceModifiers } from '../../../lib/restore/modifiers';
import { findRolloutConflicts, mayMountClaims, rolloutConflictMessage, type WorkloadToRestore } from '../../../lib/restore/rollout-conflict';

function workload(groupResource: string, kind: string, name: string, podSpec: Record<string, unknown>, extra: Record<string, unknown> = {}): WorkloadToRestore {
  const template = { metadata: { labels: { app: name } }, spec: podSpec };
  const spec = kind === 'CronJob' ? { jobTemplate: { spec: { template } } } : { template, ...extra };
  return { groupResource, namespace: 'shop', name, object: { apiVersion: 'apps/v1', kind, metadata: { name, namespace: 'shop', labels: { app: name } }, spec } };
}

const mountsData = { containers: [{ name: 'c' }], volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }] };
const noVolumes = { containers: [{ name: 'c' }] };
const templateLabel = (groupResource: string, path = '/spec/template/metadata/labels/x') => ({
  conditions: { groupResource },
  patches: [{ operation: 'add', path, value: 'y' }],
});
const claims = new Map([['shop', new Set(['data', 'www-db-0'])]]);

describe('Function: findRolloutConflicts', () => {
  it.each([
    ['a Deployment whose pod template changes and mounts a restored claim', [workload('deployments.apps', 'Deployment', 'web', mountsData)], [templateLabel('deployments.apps')], [{ ruleIndex: 0, workload: 'Deployment shop/web', volumes: ['data'] }]],
    ['a rule on the Deployment metadata only', [workload('deployments.apps', 'Deployment', 'web', mountsData)], [templateLabel('deployments.apps', '/metadata/labels/x')], []],
    ['a Deployment without restored volumes', [workload('deployments.apps', 'Deployment', 'web', noVolumes)], [templateLabel('deployments.apps')], []],
    ['a rule on pods instead', [workload('deployments.apps', 'Deployment', 'web', mountsData)], [templateLabel('pods', '/spec/x')], []],
    [
      'a StatefulSet mounting its claim template',
      [workload('statefulsets.apps', 'StatefulSet', 'db', noVolumes, { volumeClaimTemplates: [{ metadata: { name: 'www' } }] })],
      [{ conditions: { groupResource: 'statefulsets.apps' }, mergePatches: [{ patchData: '{"spec":{"template":{"spec":{"nodeSelector":{"a":"b"}}}}}' }] }],
      [{ ruleIndex: 0, workload: 'StatefulSet shop/db', volumes: ['www-db-0'] }],
    ],
    ['a CronJob', [workload('cronjobs.batch', 'CronJob', 'nightly', mountsData)], [templateLabel('cronjobs.batch', '/spec/jobTemplate/spec/template/metadata/labels/x')], [{ ruleIndex: 0, workload: 'CronJob shop/nightly', volumes: ['data'] }]],
    ['the second of two rules', [workload('daemonsets.apps', 'DaemonSet', 'agent', mountsData)], [templateLabel('configmaps'), templateLabel('daemonsets.apps')], [{ ruleIndex: 1, workload: 'DaemonSet shop/agent', volumes: ['data'] }]],
  ])('%s', (_case, workloads, ruleList, expected) => {
    const modifiers = parseResourceModifiers({ version: 'v1', resourceModifierRules: ruleList });
    expect(findRolloutConflicts(modifiers, workloads, claims)).toEqual(expected);
  });

  it('says what to do', () => {
    expect(rolloutConflictMessage({ ruleIndex: 2, workload: 'Deployment shop/web', volumes: ['data', 'logs'] })).toMatch(
      /^resource modifier rule 2 changes the pod template of Deployment shop\/web, whose pods mount volumes being restored \(data, logs\).*Target the pods instead.*acceptRolloutRisk: true/,
    );
  });
});

describe('Function: mayMountClaims', () => {
  it.each([
    ['a Deployment mounting a PVC', workload('deployments.apps', 'Deployment', 'web', mountsData), true],
    ['a Deployment without volumes', workload('deployments.apps', 'Deployment', 'web', noVolumes), false],
    ['a StatefulSet with claim templates', workload('statefulsets.apps', 'StatefulSet', 'db', noVolumes, { volumeClaimTemplates: [{ metadata: { name: 'www' } }] }), true],
    ['a CronJob mounting a PVC', workload('cronjobs.batch', 'CronJob', 'nightly', mountsData), true],
    ['a Job with only an emptyDir', workload('jobs.batch', 'Job', 'once', { containers: [], volumes: [{ name: 'tmp', emptyDir: {} }] }), false],
  ])('%s: %s', (_case, subject, expected) => {
    expect(mayMountClaims(subject)).toBe(expected);
  });
});
