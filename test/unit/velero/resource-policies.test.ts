import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/core/errors';
import { parseQuantity } from '../../../lib/kube/quantity';
import { matchVolumePolicy, parseResourcePolicies, type PolicyVolume } from '../../../lib/velero/resource-policies';

const configMap = (yaml: string, key = 'policy.yaml') => ({ metadata: { namespace: 'velero', name: 'policies' }, data: { [key]: yaml } });

function issuesOf(cm: { metadata: { name: string; namespace?: string }; data?: Record<string, string> }) {
  try {
    parseResourcePolicies(cm);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

const pv = (spec: Record<string, unknown>) => ({ spec: { capacity: { storage: '10Gi' }, ...spec } });
const longhornPv = pv({ storageClassName: 'longhorn', csi: { driver: 'driver.longhorn.io', volumeAttributes: { numberOfReplicas: '1' } } });
const pvc = (labels?: Record<string, string>, phase = 'Bound', extra: Record<string, unknown> = {}) => ({
  metadata: { ...(labels ? { labels } : {}) },
  spec: { volumeMode: 'Filesystem', accessModes: ['ReadWriteOnce'], ...extra },
  status: { phase },
});

describe('Module: velero/resource-policies', () => {
  it.each([
    ['10Gi', 10 * 2 ** 30],
    ['500M', 500e6],
    ['1.5Ti', 1.5 * 2 ** 40],
    ['100m', 0.1],
    ['1e3', 1000],
    ['0', 0],
    ['ten', undefined],
    ['10GB', undefined],
  ])('reads the quantity %s as %s', (text, value) => {
    expect(parseQuantity(text)).toBe(value);
  });

  it.each<[string, string, PolicyVolume, number | undefined]>([
    ['capacity within a range', 'capacity: "5Gi,20Gi"', { pv: longhornPv }, 0],
    ['capacity above the range', 'capacity: "0,5Gi"', { pv: longhornPv }, undefined],
    ['capacity with an open upper end', 'capacity: "10Gi,"', { pv: longhornPv }, 0],
    ['a storage class in the list', 'storageClass: [gp2, longhorn]', { pv: longhornPv }, 0],
    ['a storage class not in the list', 'storageClass: [gp2]', { pv: longhornPv }, undefined],
    ['any CSI volume', 'csi: {}', { pv: longhornPv }, 0],
    ['the CSI driver', 'csi: { driver: driver.longhorn.io }', { pv: longhornPv }, 0],
    ['another CSI driver', 'csi: { driver: ebs.csi.aws.com }', { pv: longhornPv }, undefined],
    ['CSI volume attributes', 'csi: { driver: driver.longhorn.io, volumeAttributes: { numberOfReplicas: "1" } }', { pv: longhornPv }, 0],
    ['other CSI volume attributes', 'csi: { driver: driver.longhorn.io, volumeAttributes: { numberOfReplicas: "3" } }', { pv: longhornPv }, undefined],
    ['csi on an NFS volume', 'csi: {}', { pv: pv({ nfs: { server: 'nas', path: '/x' } }) }, undefined],
    ['any NFS volume', 'nfs: {}', { pv: pv({ nfs: { server: 'nas', path: '/x' } }) }, 0],
    ['the NFS server', 'nfs: { server: nas }', { pv: pv({ nfs: { server: 'nas', path: '/x' } }) }, 0],
    ['another NFS path', 'nfs: { path: /y }', { pv: pv({ nfs: { server: 'nas', path: '/x' } }) }, undefined],
    ['a volume type', 'volumeTypes: [hostPath, local]', { pv: pv({ hostPath: { path: '/data' } }) }, 0],
    ['another volume type', 'volumeTypes: [nfs]', { pv: longhornPv }, undefined],
    ['PVC labels', 'pvcLabels: { tier: cache }', { pv: longhornPv, pvc: pvc({ tier: 'cache', app: 'x' }) }, 0],
    ['PVC labels not all there', 'pvcLabels: { tier: cache, app: y }', { pv: longhornPv, pvc: pvc({ tier: 'cache', app: 'x' }) }, undefined],
    ['PVC labels on a PVC without labels', 'pvcLabels: { tier: cache }', { pv: longhornPv, pvc: pvc() }, undefined],
    ['the PVC phase', 'pvcPhase: [Pending, Lost]', { pvc: pvc(undefined, 'Pending') }, 0],
    ['the volume mode', 'pvcVolumeMode: Block', { pvc: pvc(undefined, 'Bound', { volumeMode: 'Block' }) }, 0],
    ['the access modes as a set', 'pvcAccessModes: [ReadWriteOnce]', { pvc: pvc() }, 0],
    ['more access modes than the PVC has', 'pvcAccessModes: [ReadWriteOnce, ReadOnlyMany]', { pvc: pvc() }, undefined],
    ['all conditions together', 'capacity: "0,100Gi"\n      storageClass: [longhorn]\n      pvcLabels: { tier: cache }', { pv: longhornPv, pvc: pvc({ tier: 'cache' }) }, 0],
    ['no conditions at all', '{}', { pv: longhornPv }, 0],
  ])('matches %s', (_, conditions, volume, expected) => {
    const policies = parseResourcePolicies(
      configMap(`version: v1\nvolumePolicies:\n  - conditions:\n      ${conditions}\n    action: { type: skip }\n`),
    );
    expect(matchVolumePolicy(policies, volume)?.index).toBe(expected);
  });

  it('takes the first policy that matches, as Velero does', () => {
    const policies = parseResourcePolicies(
      configMap(
        'version: v1\nvolumePolicies:\n' +
          '  - conditions: { storageClass: [gp2] }\n    action: { type: snapshot }\n' +
          '  - conditions: { csi: { driver: driver.longhorn.io } }\n    action: { type: skip }\n' +
          '  - conditions: {}\n    action: { type: fs-backup }\n',
      ),
    );
    expect(matchVolumePolicy(policies, { pv: longhornPv })).toMatchObject({ index: 1, action: 'skip' });
    expect(matchVolumePolicy(policies, { pv: pv({ storageClassName: 'gp2' }) })).toMatchObject({ index: 0, action: 'snapshot' });
    expect(matchVolumePolicy(policies, { pv: pv({ nfs: {} }) })).toMatchObject({ index: 2, action: 'fs-backup' });
    expect(policies.source).toBe('velero/policies');
  });

  it.each<[string, ReturnType<typeof configMap> | { metadata: { name: string }; data?: Record<string, string> }, string, string]>([
    ['no data', { metadata: { name: 'p' } }, 'data', 'exactly one key'],
    ['two keys', { metadata: { name: 'p' }, data: { a: 'version: v1', b: 'version: v1' } }, 'data', 'has 2 (a, b)'],
    ['not YAML', configMap('version: [v1'), 'data.policy.yaml', 'is not YAML'],
    ['another version', configMap('version: v2\nvolumePolicies: []'), 'version', 'use "v1"'],
    ['an unknown action', configMap('version: v1\nvolumePolicies:\n  - conditions: {}\n    action: { type: delete }'), 'volumePolicies.0.action.type', 'use one of skip, snapshot, fs-backup, custom'],
    ['an unknown condition', configMap('version: v1\nvolumePolicies:\n  - conditions: { storageClasses: [a] }\n    action: { type: skip }'), 'volumePolicies.0.conditions.storageClasses', 'Unrecognized key'],
    ['a bad capacity', configMap('version: v1\nvolumePolicies:\n  - conditions: { capacity: "10Gi" }\n    action: { type: skip }'), 'volumePolicies.0.conditions.capacity', '"lower,upper"'],
    ['an inverted capacity', configMap('version: v1\nvolumePolicies:\n  - conditions: { capacity: "10Gi,1Gi" }\n    action: { type: skip }'), 'volumePolicies.0.conditions.capacity', 'below the lower'],
    ['volume attributes without a driver', configMap('version: v1\nvolumePolicies:\n  - conditions: { csi: { volumeAttributes: { a: b } } }\n    action: { type: skip }'), 'volumePolicies.0.conditions.csi.driver', 'must be set'],
    ['an include/exclude policy', configMap('version: v1\nincludeExcludePolicy: { excludedNamespaceScopedResources: [secrets] }'), 'includeExcludePolicy', 'not supported by Skiff'],
    ['namespaced filter policies', configMap('version: v1\nnamespacedFilterPolicies: []'), 'namespacedFilterPolicies', 'not supported by Skiff'],
  ])('refuses a ConfigMap with %s, at %s', (_, cm, path, message) => {
    expect(issuesOf(cm)).toContainEqual({ path, message: expect.stringContaining(message) });
  });
});
