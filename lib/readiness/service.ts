import type { ClusterConfig, ScheduleConfig, SkiffConfig } from '../config';
import { systemClock, type Clock } from '../core/clock';
import { NotFoundError } from '../core/errors';
import { LONGHORN_BACKUPS_PATH, longhornBackupRecord, type StorageBackupRecord } from '../csi/handles';
import type { PersistentVolumeClaimLike, PersistentVolumeLike, StorageClassLike } from '../csi/plan';
import { volumeSnapshotClassesPath, type VolumeSnapshotClass, type VolumeSnapshotContent } from '../csi/snapshot-api';
import type { KubeClient } from '../kube/client';
import { clusterConnector } from '../kube/connect';
import type { KubeObject } from '../kube/list-all';
import { accessFindings, accessQuestions } from './access';
import { isForbidden, missingPermissions } from './access-review';
import { listInScope, listOutcome, nodeCount, type ListOutcome } from './cluster-state';
import { coverageFindings } from './coverage';
import { readinessReport, type CheckName, type Finding, type ReadinessReport } from './findings';
import { handleFindings } from './handles';
import { permissionsOfManifest } from './rbac-manifest';
import { singleReplicaFindings, type LonghornVolumeLike } from './single-replica';

/**
 * The readiness report of one cluster: are its volumes protected, and can Skiff do its
 * jobs there? Each check reads a few LISTs (no watch, nothing written but access
 * reviews) and decides with the pure functions next to it. A list the credentials may
 * not read makes that check a warning saying so, not a failed report.
 */

/** What a readiness check needs. */
export interface ReadinessDeps {
  config: SkiffConfig;
  /** A client for a configured cluster (the service closes it when done). */
  connect: (cluster: string) => Promise<KubeClient>;
  clock: Clock;
}

/** Options of one check. */
export interface ReadinessOptions {
  /** Namespaces in scope; default: those the cluster's schedules name, else all. */
  namespaces?: string[];
}

/** Where the manifest lives in the repository, for messages. */
export const RBAC_MANIFEST_NAME = 'deploy/rbac/skiff-remote.yaml';

const LONGHORN_VOLUMES_PATH = '/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes';
const pvcPath = (namespace?: string) =>
  namespace === undefined ? '/api/v1/persistentvolumeclaims' : `/api/v1/namespaces/${namespace}/persistentvolumeclaims`;

/** A name made only of DNS label characters names one namespace; anything else is a pattern. */
const EXACT_NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The namespaces a cluster's schedules back up, when every schedule names its
 * namespaces exactly; undefined (all namespaces) when any backs up all or a pattern.
 */
export function scheduledNamespaces(schedules: readonly ScheduleConfig[], cluster: string): string[] | undefined {
  const own = schedules.filter((s) => s.cluster === cluster);
  if (own.length === 0) return undefined;
  const names = new Set<string>();
  for (const schedule of own) {
    const included = schedule.template.includedNamespaces;
    if (!included || included.length === 0 || !included.every((n) => EXACT_NAMESPACE.test(n))) return undefined;
    for (const n of included) names.add(n);
  }
  return [...names].sort();
}

function unreadable(check: CheckName, what: string, outcome: Extract<ListOutcome<unknown>, { kind: 'refused' }>): Finding {
  return {
    check,
    severity: 'warn',
    message: `${what} could not be read, so this check did not run: ${outcome.message}`,
    objects: [],
    action: `grant get and list on them (${RBAC_MANIFEST_NAME})`,
  };
}

function clusterConfig(config: SkiffConfig, name: string): ClusterConfig {
  const cluster = config.clusters.find((c) => c.name === name);
  if (!cluster) {
    throw new NotFoundError('cluster', name, `configured: ${config.clusters.map((c) => c.name).join(', ') || '(none)'}`);
  }
  return cluster;
}

async function singleReplicaCheck(client: KubeClient, cluster: ClusterConfig): Promise<Finding[]> {
  const [volumes, nodes] = await Promise.all([
    listOutcome<KubeObject & LonghornVolumeLike>(client, LONGHORN_VOLUMES_PATH),
    nodeCount(client),
  ]);
  if (volumes.kind === 'refused') return [unreadable('single-replica', 'Longhorn volumes (volumes.longhorn.io)', volumes)];
  return singleReplicaFindings({
    volumes: volumes.kind === 'listed' ? volumes.items : undefined,
    nodeCount: nodes,
    clusterAnnotations: cluster.annotations,
  });
}

async function coverageCheck(client: KubeClient, namespaces: string[] | undefined): Promise<Finding[]> {
  const [pvcs, pvs, storageClasses, snapshotClasses] = await Promise.all([
    listInScope<KubeObject & PersistentVolumeClaimLike>(client, pvcPath, namespaces),
    listOutcome<KubeObject & PersistentVolumeLike>(client, '/api/v1/persistentvolumes'),
    listOutcome<KubeObject & StorageClassLike>(client, '/apis/storage.k8s.io/v1/storageclasses'),
    listOutcome<VolumeSnapshotClass>(client, volumeSnapshotClassesPath()),
  ]);
  for (const [what, outcome] of [
    ['PersistentVolumeClaims', pvcs],
    ['PersistentVolumes', pvs],
    ['StorageClasses', storageClasses],
    ['VolumeSnapshotClasses', snapshotClasses],
  ] as const) {
    if (outcome.kind === 'refused') return [unreadable('snapshot-coverage', what, outcome)];
  }
  const items = <T>(o: ListOutcome<T>) => (o.kind === 'listed' ? o.items : []);
  return coverageFindings({
    pvcs: items(pvcs),
    persistentVolumes: items(pvs),
    storageClasses: items(storageClasses),
    snapshotClasses: items(snapshotClasses),
    snapshotApiServed: snapshotClasses.kind !== 'not-served',
  });
}

async function handleCheck(client: KubeClient): Promise<Finding[]> {
  const [contents, backups] = await Promise.all([
    listOutcome<VolumeSnapshotContent>(client, '/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents'),
    listOutcome<KubeObject & { status?: { volumeName?: string } }>(client, LONGHORN_BACKUPS_PATH),
  ]);
  if (contents.kind === 'refused') return [unreadable('handles', 'VolumeSnapshotContents', contents)];
  if (contents.kind === 'not-served') return [];
  let records: Map<string, StorageBackupRecord> | undefined;
  if (backups.kind === 'listed') {
    records = new Map();
    for (const backup of backups.items) {
      const record = longhornBackupRecord(backup);
      if (record) records.set(record.backupName, record);
    }
  }
  const findings = handleFindings(contents.items, records);
  if (backups.kind === 'refused' && findings.length > 0) {
    findings.push({
      check: 'handles',
      severity: 'warn',
      message: `Longhorn backups (backups.longhorn.io) could not be read, so handles were checked for their shape only: ${backups.message}`,
      objects: [],
      action: `grant get and list on them (${RBAC_MANIFEST_NAME})`,
    });
  }
  return findings;
}

async function accessCheck(client: KubeClient, namespaces: string[] | undefined): Promise<Finding[]> {
  try {
    const missing = await missingPermissions(client, accessQuestions(permissionsOfManifest(), namespaces));
    return accessFindings(missing, RBAC_MANIFEST_NAME);
  } catch (error) {
    if (!isForbidden(error)) throw error;
    return [
      {
        check: 'access',
        severity: 'warn',
        message: `the credentials may not ask what they may do (access reviews refused), so access was not checked: ${(error as Error).message}`,
        objects: [],
        action: `grant create on selfsubjectaccessreviews and selfsubjectrulesreviews (${RBAC_MANIFEST_NAME})`,
      },
    ];
  }
}

/**
 * Checks one configured cluster and reports every finding.
 *
 * @throws NotFoundError when the cluster is not configured.
 * @throws KubeUnreachableError, KubeApiError when the API server cannot be reached or
 *   fails (403s are findings, not errors).
 */
export async function checkReadiness(deps: ReadinessDeps, clusterName: string, options: ReadinessOptions = {}): Promise<ReadinessReport> {
  const cluster = clusterConfig(deps.config, clusterName);
  const namespaces = options.namespaces ?? scheduledNamespaces(deps.config.schedules, clusterName);
  const client = await deps.connect(clusterName);
  try {
    const findings = await Promise.all([
      singleReplicaCheck(client, cluster),
      coverageCheck(client, namespaces),
      handleCheck(client),
      accessCheck(client, namespaces),
    ]);
    return readinessReport(clusterName, deps.clock.now(), findings.flat());
  } finally {
    client.close();
  }
}

/** The dependencies of the readiness service for a deployment: connections from the configuration, the real clock. */
export function readinessDeps(config: SkiffConfig): ReadinessDeps {
  return { config, connect: clusterConnector(config), clock: systemClock };
}
