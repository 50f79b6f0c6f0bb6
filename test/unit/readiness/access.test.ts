import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accessFindings, accessQuestions, describeMissing, ruleCovers } from '../../../lib/readiness/access';
import { jobsOfComment, permissionsOfManifest, type Permission } from '../../../lib/readiness/rbac-manifest';
import { REMOTE_RBAC_MANIFEST } from '../../../lib/readiness/rbac-text';

const perm = (verb: string, group: string, resource: string, jobs: Permission['jobs'] = ['backup']): Permission => ({ verb, group, resource, jobs });

describe('ruleCovers', () => {
  it.each([
    { rule: { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, wanted: perm('get', '', 'pods'), covers: true },
    { rule: { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, wanted: perm('delete', 'apps', 'deployments'), covers: true },
    { rule: { verbs: ['get', 'list'], apiGroups: ['*'], resources: ['*'] }, wanted: perm('list', '*', '*'), covers: true },
    { rule: { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, wanted: perm('get', '*', '*'), covers: false },
    { rule: { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, wanted: perm('list', '', 'pods'), covers: false },
    { rule: { verbs: ['get'], apiGroups: ['apps'], resources: ['pods'] }, wanted: perm('get', '', 'pods'), covers: false },
    { rule: { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['one'] }, wanted: perm('get', '', 'pods'), covers: false },
  ])('$rule.verbs $rule.resources covers $wanted.verb $wanted.resource: $covers', ({ rule, wanted, covers }) => {
    expect(ruleCovers(rule, wanted)).toBe(covers);
  });
});

describe('accessQuestions', () => {
  const permissions = [perm('list', '*', '*'), perm('delete', 'snapshot.storage.k8s.io', 'volumesnapshotcontents')];
  it.each([
    { namespaces: undefined, expected: ['list * cluster', 'delete volumesnapshotcontents cluster'] },
    { namespaces: ['a', 'b'], expected: ['list * a', 'list * b', 'delete volumesnapshotcontents cluster'] },
  ])('namespaces $namespaces', ({ namespaces, expected }) => {
    const asked = accessQuestions(permissions, namespaces).map(
      (q) => `${q.permission.verb} ${q.permission.resource} ${'namespace' in q.scope ? q.scope.namespace : 'cluster'}`,
    );
    expect(asked).toEqual(expected);
  });
});

describe('accessFindings', () => {
  it.each([
    { jobs: ['backup', 'sync'] as Permission['jobs'], severity: 'block' },
    { jobs: ['restore'] as Permission['jobs'], severity: 'warn' },
    { jobs: ['readiness'] as Permission['jobs'], severity: 'warn' },
  ])('a permission $jobs need is missing: $severity', ({ jobs, severity }) => {
    const missing = { permission: perm('delete', 'snapshot.storage.k8s.io', 'volumesnapshotcontents', jobs), scope: { clusterWide: true as const } };
    const [finding] = accessFindings([missing], 'm.yaml');
    expect(finding).toMatchObject({ check: 'access', severity, objects: ['delete volumesnapshotcontents (snapshot.storage.k8s.io) cluster-wide'] });
  });

  it('names the namespace and the core group', () => {
    expect(describeMissing({ permission: perm('list', '', 'secrets'), scope: { namespace: 'shop' } })).toBe('list secrets (core) in namespace shop');
  });

  it('says all is well when nothing is missing', () => {
    expect(accessFindings([], 'm.yaml')).toEqual([expect.objectContaining({ severity: 'info' })]);
  });
});

describe('the RBAC manifest', () => {
  it('is the file in deploy/rbac, byte for byte (print it with `skiff cluster rbac` after editing lib/readiness/rbac-text.ts)', () => {
    const file = readFileSync(new URL('../../../deploy/rbac/skiff-remote.yaml', import.meta.url), 'utf8');
    expect(REMOTE_RBAC_MANIFEST).toBe(file);
  });

  it('grants what each job needs, read from its rules and their comments', () => {
    const permissions = permissionsOfManifest();
    const find = (verb: string, resource: string) => permissions.find((p) => p.verb === verb && p.resource === resource);
    expect(find('list', '*')).toMatchObject({ group: '*', jobs: ['backup', 'sync', 'expiry', 'restore', 'readiness'] });
    expect(find('delete', 'volumesnapshotcontents')).toMatchObject({ group: 'snapshot.storage.k8s.io', jobs: ['backup', 'sync', 'expiry'] });
    expect(find('create', '*')).toMatchObject({ group: '*', jobs: ['restore'] });
    expect(find('create', 'selfsubjectaccessreviews')!.jobs).toEqual(['readiness']);
    expect(find('delete', '*')).toBeUndefined();
  });

  it.each([
    { comment: ' backup, sync: why', jobs: ['backup', 'sync'] },
    { comment: ' restore: why', jobs: ['restore'] },
    { comment: ' why, without jobs', jobs: undefined },
    { comment: ' backup, gc: why', jobs: undefined },
    { comment: undefined, jobs: undefined },
  ])('rule comment $comment names jobs $jobs', ({ comment, jobs }) => {
    if (jobs) expect(jobsOfComment(comment, 0)).toEqual(jobs);
    else expect(() => jobsOfComment(comment, 0)).toThrow(/rule 0: its comment must start with the jobs/);
  });

  it('refuses a rule without a job comment', () => {
    const text = REMOTE_RBAC_MANIFEST.replace('  # readiness: ask the API server', '  # ask the API server');
    expect(() => permissionsOfManifest(text)).toThrow(/ClusterRole rule 5/);
  });
});
