import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { BackupProgressRecord } from '../../lib/backup/progress-record';
import { parseResults, type BackupResults } from '../../lib/velero/results';
import { runBackup } from '../../lib/backup/run-backup';
import { getBackupLog } from '../../lib/backup/service';
import { backupServiceDeps } from '../../lib/backup/service';
import { storeResolver } from '../../lib/store/resolver';
import { validateConfig, type SkiffConfig } from '../../lib/config';
import type { KubeClient, KubeRequest } from '../../lib/kube/client';
import { discoverResources } from '../../lib/kube/discovery';
import { KubeApiError } from '../../lib/kube/errors';
import { listAll, type KubeObject } from '../../lib/kube/list-all';
import { bedState, freshNamespace, waitFor } from '../bed/context';
import { skiffConfigForBed } from '../bed/skiff-config';
import { bedConfig, clusterClient, getBytes, namespacePaths, objectKeys, observedDeps, pathsOf, requestBackup, tarEntries } from './backup-helpers';

/**
 * Backups taken with credentials that may only read one namespace, as platform teams
 * hand out per-tenant backup accounts: a ServiceAccount bound by a RoleBinding in the
 * namespace it backs up, with a token from the TokenRequest API.
 */

const SECRET_DATA = 'scoped-hunter2';
const RBAC = '/apis/rbac.authorization.k8s.io/v1';

let bucket: string;
let admin: KubeClient;
let config: SkiffConfig;
let namespace: string;
let neighbour: string;
/** Tokens of the accounts, by the Skiff cluster name that uses them. */
const tokens: Record<string, string> = {};

/** Creates `object` at `path` as the bed's admin. */
const create = (path: string, object: unknown) => admin.create(path, object);

/** A token for ServiceAccount `name` of the test namespace, from the TokenRequest API. */
async function tokenFor(name: string): Promise<string> {
  const answer = await admin.create<{ status: { token: string } }>(`/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  return answer.status.token;
}

type PolicyRule = { apiGroups: string[]; resources: string[]; verbs: string[] };

/** Get and list on every resource: in a RoleBinding, that covers the namespace's own Namespace object too. */
const READ_ALL: PolicyRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list'] }];

/** Get and list on each namespaced type the cluster serves, by name: `namespaces` is not among them. */
async function readEachNamespacedType(): Promise<PolicyRule[]> {
  const byGroup = new Map<string, string[]>();
  for (const r of await discoverResources(admin)) {
    if (r.namespaced && r.version === r.preferredVersion && r.verbs.includes('list')) {
      byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r.resource]);
    }
  }
  return [...byGroup].map(([group, resources]) => ({ apiGroups: [group], resources, verbs: ['get', 'list'] }));
}

/** A ServiceAccount bound in the test namespace to a Role of `rules`, and to nothing else. */
async function namespaceReader(name: string, rules: PolicyRule[]): Promise<void> {
  await create(`/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name } });
  await create(`${RBAC}/namespaces/${namespace}/roles`, { metadata: { name }, rules });
  await create(`${RBAC}/namespaces/${namespace}/rolebindings`, {
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace }],
  });
}

/** Lets ServiceAccount `name` get the test namespace's Namespace object, that one only. */
async function grantNamespaceGet(name: string): Promise<void> {
  const role = `${namespace}-${name}-get`;
  await create(`${RBAC}/clusterroles`, {
    metadata: { name: role },
    rules: [{ apiGroups: [''], resources: ['namespaces'], resourceNames: [namespace], verbs: ['get'] }],
  });
  await create(`${RBAC}/clusterrolebindings`, {
    metadata: { name: role },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ kind: 'ServiceAccount', name, namespace }],
  });
}

const PLURALS: Record<string, string> = {
  ServiceAccount: 'serviceaccounts',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
};

/**
 * Applies the RBAC YAML of the README, written for namespace `shop`, to the test
 * namespace; cluster-scoped names get the namespace as a suffix, so runs do not collide.
 */
async function applyReadmeRbac(): Promise<void> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((text) => text.includes('kind: ClusterRoleBinding'));
  if (!block) throw new Error('README.md has no RBAC YAML block');
  for (const document of parseAllDocuments(block.replaceAll('namespace: shop', `namespace: ${namespace}`))) {
    const object = document.toJS() as KubeObject & { roleRef?: { kind: string; name: string } };
    const clusterScoped = object.kind!.startsWith('Cluster');
    if (clusterScoped) object.metadata.name = `${object.metadata.name}-${namespace}`;
    if (object.roleRef?.kind === 'ClusterRole') object.roleRef.name = `${object.roleRef.name}-${namespace}`;
    const group = object.apiVersion === 'v1' ? '/api/v1' : `/apis/${object.apiVersion}`;
    await create(`${group}${clusterScoped ? '' : `/namespaces/${namespace}`}/${PLURALS[object.kind!]}`, object);
  }
}

/** A Skiff configuration with one more cluster per account: the bed's first cluster, with the account's token. */
function configWithAccounts(): SkiffConfig {
  const raw = skiffConfigForBed(bedState(), { bucket, apiToken: 'test-api-token' });
  const alpha = raw.clusters.find((c) => c.name === 'alpha')!;
  for (const [name, token] of Object.entries(tokens)) raw.clusters.push({ ...alpha, name, auth: { token } });
  return validateConfig(raw, 'test');
}

/** Waits until the account of Skiff cluster `cluster` may do what `probe` does: RBAC is applied asynchronously. */
async function waitForRights(cluster: string, probe: (client: KubeClient) => Promise<unknown>): Promise<void> {
  const client = await clusterClient(config, cluster);
  try {
    await waitFor(
      async () => {
        try {
          await probe(client);
          return true;
        } catch (error) {
          if (error instanceof KubeApiError && error.code === 403) return false;
          throw error;
        }
      },
      { what: `the rights of ${cluster}`, timeoutMs: 30_000 },
    );
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('scoped-creds'));
  admin = await clusterClient(config);
  namespace = await freshNamespace('alpha', 'scoped');
  neighbour = await freshNamespace('alpha', 'scoped-other');
  await create(`/api/v1/namespaces/${neighbour}/configmaps`, { metadata: { name: 'settings' }, data: { x: '1' } });
  await create(`/api/v1/namespaces/${namespace}/configmaps`, { metadata: { name: 'settings' }, data: { a: '1' } });
  await create(`/api/v1/namespaces/${namespace}/secrets`, { metadata: { name: 'db' }, stringData: { password: SECRET_DATA } });
  await create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    metadata: { name: 'data' },
    spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });

  const eachType = await readEachNamespacedType();
  await namespaceReader('typed-reader', eachType);
  await namespaceReader('typed-reader-with-namespace', eachType);
  await grantNamespaceGet('typed-reader-with-namespace');
  await namespaceReader('reader', READ_ALL);
  await applyReadmeRbac();
  tokens['typed'] = await tokenFor('typed-reader');
  tokens['typed-ns'] = await tokenFor('typed-reader-with-namespace');
  tokens['reader'] = await tokenFor('reader');
  tokens['readme'] = await tokenFor('skiff-backup');
  config = configWithAccounts();

  const inNamespace = (client: KubeClient) => listAll(client, `/api/v1/namespaces/${namespace}/configmaps`);
  const namespaceObject = (client: KubeClient) => client.get(`/api/v1/namespaces/${namespace}`);
  await waitForRights('typed', inNamespace);
  await waitForRights('typed-ns', namespaceObject);
  await waitForRights('reader', namespaceObject);
  await waitForRights('readme', (client) => listAll(client, '/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses'));
  await waitFor(
    async () => {
      const claim = await admin.get<{ status?: { phase?: string } }>(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/data`);
      return claim.status?.phase === 'Bound';
    },
    { what: 'the PVC to be bound', timeoutMs: 90_000 },
  );
}, 180_000);

afterAll(() => admin?.close());

interface FinishedBackup {
  name: string;
  paths: string[];
  results: BackupResults;
  log: string;
  /** Paths of every request the backup's Kubernetes client sent. */
  requested: string[];
}

/** Runs a backup of the test namespace with `cluster`'s account, to the end. */
async function backUp(cluster: string, request: Record<string, unknown>): Promise<FinishedBackup> {
  const name = await requestBackup(config, { cluster, includedNamespaces: [namespace], ...request });
  const requested: string[] = [];
  const { deps } = await observedDeps(config, name, () => 600_000);
  const connect = deps.connect;
  deps.connect = async (which) => {
    const client = await connect(which);
    const send = client.request.bind(client);
    client.request = <T>(req: KubeRequest) => {
      requested.push(req.path);
      return send<T>(req);
    };
    return client;
  };
  expect(await runBackup(deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
  const paths = (await tarEntries(await getBytes(bucket, `backups/${name}/${name}.tar.gz`))).map((e) => e.name);
  const results = parseResults(JSON.parse(gunzipSync(await getBytes(bucket, `backups/${name}/${name}-results.gz`)).toString('utf8')));
  const log = gunzipSync(await getBytes(bucket, `backups/${name}/${name}-logs.gz`)).toString('utf8');
  return { name, paths, results, log, requested };
}

const isEvent = (gr: string) => gr.startsWith('events');

/** Every object of the test namespace (events aside, which keep coming) is in the tarball, at its Velero paths, and nothing of another namespace. */
async function expectWholeNamespace(paths: string[]): Promise<void> {
  expect(paths.length).toBe(new Set(paths).size);
  const namespaced = paths.filter((p) => /^resources\/[^/]+\/([^/]+\/)?namespaces\//.test(p) && !p.startsWith('resources/events'));
  expect(new Set(namespaced)).toEqual(await namespacePaths(admin, namespace, isEvent));
  for (const path of pathsOf('secrets', 'v1', namespace, 'db')) expect(paths).toContain(path);
  expect(paths.filter((p) => p.includes(`/namespaces/${neighbour}/`))).toEqual([]);
}

const namespaceObjectPaths = () => pathsOf('namespaces', 'v1', undefined, namespace);

/**
 * Warnings an account without cluster-wide rights gets for cluster-scoped reads: the PV
 * of the PVC, and the definition looked up for each type of a dotted API group.
 */
const CLUSTER_SCOPED_WARNING = /^could not (list persistentvolumes|read the CustomResourceDefinition of [a-z0-9.-]+): .*HTTP 403, Forbidden\)$/;

const NO_MESSAGES = { velero: [], cluster: [], namespaces: {} };

describe('a backup with credentials limited to one namespace', () => {
  it('backs up every object of the namespace, leaving out the Namespace object it may not read, with a warning', async () => {
    const backup = await backUp('typed', { snapshotVolumes: false });
    await expectWholeNamespace(backup.paths);
    for (const path of namespaceObjectPaths()) expect(backup.paths).not.toContain(path);

    expect(backup.results.errors).toEqual(NO_MESSAGES);
    expect(backup.results.warnings.namespaces).toEqual({
      [namespace]: [expect.stringMatching(new RegExp(`could not read the Namespace object of ${namespace}`))],
    });
    expect(backup.results.warnings.cluster).toContainEqual(expect.stringMatching(/could not list persistentvolumes/));
    for (const warning of backup.results.warnings.cluster) expect(warning).toMatch(CLUSTER_SCOPED_WARNING);
    expect(backup.log).toMatch(new RegExp(`level=warning msg=".*could not read the Namespace object of ${namespace}`));

    // Cluster-wide, only discovery, the refused list of namespaces, the PV list and the
    // definitions; everything else within the namespace.
    const within = (path: string) => path === `/api/v1/namespaces/${namespace}` || path.includes(`/namespaces/${namespace}/`);
    const outside = new Set(
      backup.requested.filter((path) => !within(path) && !path.startsWith('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/')),
    );
    expect([...outside].sort()).toEqual(['/api', '/api/v1/namespaces', '/api/v1/persistentvolumes', '/apis']);
  });

  it.each([
    ['a ClusterRole lets the account get that one namespace', 'typed-ns'],
    ['its Role covers every resource, the Namespace object included', 'reader'],
  ])('takes the Namespace object when %s', async (_why, cluster) => {
    const backup = await backUp(cluster, { snapshotVolumes: false });
    await expectWholeNamespace(backup.paths);
    for (const path of namespaceObjectPaths()) expect(backup.paths).toContain(path);
    expect(backup.results.warnings.namespaces).toEqual({});
    for (const warning of backup.results.warnings.cluster) expect(warning).toMatch(CLUSTER_SCOPED_WARNING);
    expect(backup.results.errors).toEqual(NO_MESSAGES);
  });

  it('snapshots the PVC with the RBAC the README documents, and takes its PV and the Namespace object', async () => {
    const backup = await backUp('readme', {
      annotations: { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-delete' },
    });
    await expectWholeNamespace(backup.paths);
    for (const path of namespaceObjectPaths()) expect(backup.paths).toContain(path);
    const claim = await admin.get<{ spec: { volumeName: string } }>(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/data`);
    for (const path of pathsOf('persistentvolumes', 'v1', undefined, claim.spec.volumeName)) expect(backup.paths).toContain(path);
    expect(backup.paths.filter((p) => p.startsWith('resources/volumesnapshotcontents.snapshot.storage.k8s.io/cluster/'))).toHaveLength(1);
    expect(backup.results).toEqual({ errors: NO_MESSAGES, warnings: NO_MESSAGES });
  });

  it.each([
    ['every namespace ("*")', ['*']],
    ['a namespace pattern', ['scoped-*']],
    ['no includedNamespaces', undefined],
  ])('fails with a reason a person can act on when the backup names %s', async (_what, includedNamespaces) => {
    const name = await requestBackup(config, { cluster: 'reader', snapshotVolumes: false, includedNamespaces });
    const { deps } = await observedDeps(config, name, () => 600_000);
    expect(await runBackup(deps, name)).toEqual({ state: 'failed', phase: 'Failed' });
    const record = (await storeResolver(config)('default').getProgress(name))!.record as BackupProgressRecord;
    const reason = record.backup.status.failureReason ?? '';
    expect(reason).toContain('the credentials cannot list namespaces');
    expect(reason).toContain('name the namespaces to back up in includedNamespaces, without wildcards');
    expect(reason).toMatch(/HTTP 403/);
    expect(await objectKeys(bucket, `backups/${name}/`)).toEqual([]);

    const log = await getBackupLog(backupServiceDeps(config), name);
    // logfmt quotes the message, so the reason stands in the line as a JSON string.
    expect(log).toContain(`level=error msg=${JSON.stringify(`backup failed: ${reason}`)}`);
    const secrets = [...Object.values(tokens), bedState().clusters.alpha!.adminToken, bedState().minio.secretKey, SECRET_DATA];
    for (const [where, text] of Object.entries({ reason, log })) {
      for (const secret of secrets) {
        if (text.includes(secret)) throw new Error(`${where} contains a secret (${secret.length} characters)`);
      }
    }
  });
});
