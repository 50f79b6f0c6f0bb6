import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { validateConfig, type SkiffConfig } from '../../lib/config';
import { ValidationError } from '../../lib/core/errors';
import type { KubeClient } from '../../lib/kube/client';
import { isNotFound } from '../../lib/kube/errors';
import { API_GROUP_VERSIONS_ANNOTATION } from '../../lib/velero/labels';
import { systemClock } from '../../lib/core/clock';
import { clusterConnector } from '../../lib/kube/connect';
import { runRestore } from '../../lib/restore/run-restore';
import { createRestore, getRestore, getRestoreLog, restoreServiceDeps } from '../../lib/restore/service';
import { storeResolver } from '../../lib/store/resolver';
import { bedState, freshNamespace, uniqueName, waitFor } from '../bed/context';
import { skiffConfigForBed } from '../bed/skiff-config';
import {
  bedConfig,
  clusterClient,
  createWidgetCrd,
  getBytes,
  getGzipJson,
  objectOf,
  observedDeps,
  pathsOf,
  requestBackup,
  tarEntries,
  type TarEntry,
  deleteCrd,
} from './backup-helpers';

/**
 * A custom resource served in v1 and v2 (stored, so preferred, in v2) and one object.
 * By default only the preferred version is written, as Velero does; with the backup's
 * annotation skiff.io/api-group-versions: all, or the config's
 * features.enableAPIGroupVersions, v1 is written too, as Velero does with its
 * EnableAPIGroupVersions feature flag. A restore of such a backup creates the object in
 * the version the target cluster serves (Velero's choice: the target's preferred version
 * if the backup has it, else the backup's preferred one if the target serves it, else a
 * common one).
 */

let config: SkiffConfig;
let bucket: string;
let client: KubeClient;
let namespace: string;
let group: string;
let crdName: string;
let gr: string;
let beta: KubeClient | undefined;
let betaCrd: string | undefined;

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('backup-group-versions'));
  client = await clusterClient(config);
  namespace = await freshNamespace('alpha', 'group-versions');
  group = `${uniqueName('gv')}.example.com`;
  gr = `widgets.${group}`;
  crdName = await createWidgetCrd(client, group, ['v1', 'v2']);
  await client.create(`/apis/${group}/v2/namespaces/${namespace}/widgets`, {
    apiVersion: `${group}/v2`,
    kind: 'Widget',
    metadata: { name: 'gadget' },
    spec: { size: 3 },
  });
});

afterAll(async () => {
  if (client && crdName) await deleteCrd(client, crdName);
  if (beta && betaCrd) await deleteCrd(beta, betaCrd);
  client?.close();
  beta?.close();
});

/** Runs a backup of the namespace to the end; its tarball entries and resource list. */
async function backUp(
  runConfig: SkiffConfig,
  annotations?: Record<string, string>,
): Promise<{ name: string; entries: TarEntry[]; resourceList: Record<string, string[]> }> {
  const name = await requestBackup(runConfig, {
    cluster: 'alpha',
    includedNamespaces: [namespace],
    snapshotVolumes: false,
    ...(annotations ? { annotations } : {}),
  });
  const { deps } = await observedDeps(runConfig, name, () => 600_000);
  expect(await runBackup(deps, name)).toMatchObject({ state: 'completed', phase: 'Completed' });
  return {
    name,
    entries: await tarEntries(await getBytes(bucket, `backups/${name}/${name}.tar.gz`)),
    resourceList: await getGzipJson(bucket, `backups/${name}/${name}-resource-list.json.gz`),
  };
}

function widgetPaths(entries: TarEntry[]): string[] {
  return entries.map((e) => e.name).filter((p) => p.startsWith(`resources/${gr}/`)).sort();
}

describe('API group versions', () => {
  it('writes only the preferred version by default', async () => {
    const { entries, resourceList } = await backUp(config);

    expect(widgetPaths(entries)).toEqual(pathsOf(gr, 'v2', namespace, 'gadget').sort());
    expect(Object.keys(resourceList).filter((k) => k.startsWith(`${group}/`))).toEqual([`${group}/v2/Widget`]);
  });

  it('writes every served version with the annotation skiff.io/api-group-versions: all', async () => {
    const { entries, resourceList } = await backUp(config, { [API_GROUP_VERSIONS_ANNOTATION]: 'all' });

    const v1Path = `resources/${gr}/v1/namespaces/${namespace}/gadget.json`;
    expect(widgetPaths(entries)).toEqual([...pathsOf(gr, 'v2', namespace, 'gadget'), v1Path].sort());
    const v1 = objectOf(entries.find((e) => e.name === v1Path)!);
    expect(v1.apiVersion).toBe(`${group}/v1`);
    expect((v1 as { spec?: unknown }).spec).toEqual({ size: 3 });
    expect(resourceList[`${group}/v1/Widget`]).toEqual([`${namespace}/gadget`]);
    expect(resourceList[`${group}/v2/Widget`]).toEqual([`${namespace}/gadget`]);
  });

  it('writes every served version for every backup with features.enableAPIGroupVersions', async () => {
    const withFeature = validateConfig(
      { ...skiffConfigForBed(bedState(), { bucket, apiToken: 'test-api-token' }), features: { enableAPIGroupVersions: true } },
      'test',
    );
    const { entries } = await backUp(withFeature);

    expect(widgetPaths(entries)).toContain(`resources/${gr}/v1/namespaces/${namespace}/gadget.json`);
  });

  it('refuses another value of the annotation, naming the allowed ones', async () => {
    const request = requestBackup(config, { cluster: 'alpha', includedNamespaces: [namespace], annotations: { [API_GROUP_VERSIONS_ANNOTATION]: 'v1' } });

    await expect(request).rejects.toThrow(ValidationError);
    await expect(request).rejects.toMatchObject({
      issues: [expect.objectContaining({ message: expect.stringContaining('"all" (every served API version) or "preferred"') })],
    });
  });

  /** Restores the widget's namespace of backup `backupName` into `cluster` under a new name; the restore and its log. */
  async function restoreInto(cluster: string, backupName: string): Promise<{ phase?: string; errors: string; log: string; target: string }> {
    const target = uniqueName('gv-restored');
    const service = restoreServiceDeps(config);
    const { name } = await createRestore(service, { backupName, name: uniqueName('r'), cluster, namespaceMapping: { [namespace]: target } });
    const deps = { store: storeResolver(config)('default'), connect: clusterConnector(config), clock: systemClock, remainingMs: () => 600_000 };
    expect(await runRestore(deps, name)).toMatchObject({ state: 'done' });
    const view = await getRestore(service, name);
    return { phase: view.status.phase, errors: JSON.stringify(view.results.errors), log: await getRestoreLog(service, name), target };
  }

  it('restores into a cluster serving only v1 from the backup\'s v1 copy', async () => {
    beta = await clusterClient(config, 'beta');
    betaCrd = await createWidgetCrd(beta, group, ['v1']);
    const { name } = await backUp(config, { [API_GROUP_VERSIONS_ANNOTATION]: 'all' });

    const { phase, log, target } = await restoreInto('beta', name);

    expect(log).toContain(`restoring ${gr} in API version v1: the target cluster's preferred version`);
    const restored = await beta.get<{ apiVersion: string; spec?: unknown }>(`/apis/${group}/v1/namespaces/${target}/widgets/gadget`);
    expect(restored.spec).toEqual({ size: 3 });
    // The backup's CRD (v1 and v2) is not written over the target's own: a warning, not an error.
    expect(phase).toBe('Completed');
  });

  it('restores the preferred copy where the target cluster prefers the same version', async () => {
    const { name } = await backUp(config, { [API_GROUP_VERSIONS_ANNOTATION]: 'all' });

    const { phase, log, target } = await restoreInto('alpha', name);

    expect(log).toContain(`restoring ${gr} in API version v2: the target cluster's preferred version`);
    expect(phase).toBe('Completed');
    expect((await client.get<{ spec?: unknown }>(`/apis/${group}/v2/namespaces/${target}/widgets/gadget`)).spec).toEqual({ size: 3 });
  });

  it('without every version in the backup, names the object the target cluster cannot take', async () => {
    const { name } = await backUp(config);

    const { phase, errors, target } = await restoreInto('beta', name);

    expect(phase).toBe('PartiallyFailed');
    expect(errors).toContain(`${target}/gadget: the cluster does not serve ${gr} in ${group}/v2`);
  });
});
