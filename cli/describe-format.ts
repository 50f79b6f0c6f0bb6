import { byCodeUnit } from '../lib/core/ordering';
import { formatLabelSelector } from '../lib/velero/label-selector';
import type { BackupVolumeView, DescribedBackup } from '../lib/backup/describe';
import type { RunProgress } from '../lib/backup/progress-view';
import { elapsedText } from '../lib/backup/progress-view';
import type { Result } from '../lib/velero/results';
import { alignTabs } from './tab-writer';

/**
 * `skiff backup describe`: Velero's layout (pkg/cmd/util/output/backup_describer.go and,
 * for `-o json`, backup_structured_describer.go), section by section and in its order,
 * plus what Skiff knows and Velero's describe does not show: the volumes it skipped or
 * whose snapshot failed, each with the reason, the VolumeSnapshotClass of each snapshot,
 * and the stage of a backup that is running. Snapshot details are always shown: they
 * are what tells whether a backup protects its data.
 */

const NONE = '<none>';

/** The text of `skiff backup describe [--details]`. */
export function describeBackupText(b: DescribedBackup, details: boolean): string {
  const out: string[] = [];
  const p = (line = '') => out.push(line);
  describeMetadata(p, b);
  p();
  const phase = b.status.phase ?? 'New';
  const logsNote = phase === 'Failed' || phase === 'PartiallyFailed' ? ` (run \`skiff backup logs ${b.metadata.name}\` for more information)` : '';
  p(`Phase:\t${phase}${logsNote}`);
  if (b.status.failureReason) p(`Failure reason:\t${b.status.failureReason}`);
  if (b.spec.resourcePolicy) {
    p();
    p('Resource policies:');
    p(`\tType:\t${b.spec.resourcePolicy.kind}`);
    p(`\tName:\t${b.spec.resourcePolicy.name}`);
  }
  if (b.status.validationErrors?.length) {
    p();
    p('Validation errors:' + b.status.validationErrors.map((e) => `\t${e}`).join('\n'));
  }
  p();
  describeResults(p, b);
  p();
  describeSpec(p, b);
  p();
  describeStatus(p, b, details);
  return alignTabs(out.join('\n'));
}

type Print = (line?: string) => void;

function describeMetadata(p: Print, b: DescribedBackup): void {
  p(`Name:\t${b.metadata.name}`);
  p(`Namespace:\t${b.metadata.namespace}`);
  describeMap(p, 'Labels', b.metadata.labels);
  describeMap(p, 'Annotations', b.metadata.annotations);
}

/** Velero's Describer.DescribeMap: sorted `k=v`, one per line. */
function describeMap(p: Print, name: string, map: Record<string, string> | undefined): void {
  const keys = Object.keys(map ?? {}).sort(byCodeUnit);
  if (keys.length === 0) return p(`${name}:\t${NONE}`);
  keys.forEach((key, i) => p(`${i === 0 ? `${name}:` : ''}\t${key}=${map![key]}`));
}

/** Velero's Describer.DescribeSlice, including its extra tab before `<none>`. */
function describeSlice(p: Print, indent: number, name: string, items: readonly string[]): void {
  const pretab = '\t'.repeat(indent);
  if (items.length === 0) return p(`${pretab}${name}:\t${pretab}${NONE}`);
  items.forEach((item, i) => p(i === 0 ? `${pretab}${name}:\t${item}` : `${pretab}\t${item}`));
}

function describeResults(p: Print, b: DescribedBackup): void {
  const warnings = b.status.warnings ?? 0;
  const errors = b.status.errors ?? 0;
  if (warnings === 0 && errors === 0) return;
  if (!b.results) {
    // As Velero does when the results file is missing: the counts alone.
    p(`Errors:\t${errors}`);
    p(`Warnings:\t${warnings}`);
    if (b.resultsNote) p(`Results:\t${b.resultsNote}`);
    return;
  }
  if (warnings > 0) {
    p();
    describeResult(p, 'Warnings', b.results.warnings);
  }
  if (errors > 0) {
    p();
    describeResult(p, 'Errors', b.results.errors);
  }
}

function describeResult(p: Print, name: string, result: Result): void {
  p(`${name}:`);
  describeSlice(p, 1, 'Velero', result.velero);
  describeSlice(p, 1, 'Cluster', result.cluster);
  const namespaces = Object.keys(result.namespaces).sort(byCodeUnit);
  if (namespaces.length === 0) return p(`\tNamespaces: ${NONE}`);
  p('\tNamespaces:');
  for (const namespace of namespaces) describeSlice(p, 2, namespace, result.namespaces[namespace]!);
}

function joined(list: readonly string[] | null | undefined, empty: string): string {
  return list && list.length > 0 ? list.join(', ') : empty;
}

/** Velero's BoolPointerString. */
function boolText(value: boolean | null | undefined, falseText: string, trueText: string, nilText: string): string {
  if (value === undefined || value === null) return nilText;
  return value ? trueText : falseText;
}

/** Velero's collections.UseOldResourceFilters: none of the scoped resource filters is set. */
function usesOldResourceFilters(spec: DescribedBackup['spec']): boolean {
  return [
    spec.includedClusterScopedResources,
    spec.excludedClusterScopedResources,
    spec.includedNamespaceScopedResources,
    spec.excludedNamespaceScopedResources,
  ].every((list) => !list || list.length === 0);
}

function describeSpec(p: Print, b: DescribedBackup): void {
  const spec = b.spec;
  p('Namespaces:');
  p(`\tIncluded:\t${joined(spec.includedNamespaces, '*')}`);
  p(`\tExcluded:\t${joined(spec.excludedNamespaces, NONE)}`);
  p();
  p('Resources:');
  if (usesOldResourceFilters(spec)) {
    p(`\tIncluded:\t${joined(spec.includedResources, '*')}`);
    p(`\tExcluded:\t${joined(spec.excludedResources, NONE)}`);
    p(`\tCluster-scoped:\t${boolText(spec.includeClusterResources, 'excluded', 'included', 'auto')}`);
  } else {
    p(`\tIncluded cluster-scoped:\t${joined(spec.includedClusterScopedResources, NONE)}`);
    p(`\tExcluded cluster-scoped:\t${joined(spec.excludedClusterScopedResources, NONE)}`);
    p(`\tIncluded namespace-scoped:\t${joined(spec.includedNamespaceScopedResources, '*')}`);
    p(`\tExcluded namespace-scoped:\t${joined(spec.excludedNamespaceScopedResources, NONE)}`);
  }
  p();
  p(`Label selector:\t${spec.labelSelector ? formatLabelSelector(spec.labelSelector) : NONE}`);
  p();
  p(`Or label selector:\t${spec.orLabelSelectors?.length ? spec.orLabelSelectors.map(formatLabelSelector).join(' or ') : NONE}`);
  p();
  p(`Storage Location:\t${spec.storageLocation ?? ''}`);
  p();
  p(`Velero-Native Snapshot PVs:\t${boolText(spec.snapshotVolumes, 'false', 'true', 'auto')}`);
  if (spec.defaultVolumesToFsBackup !== undefined && spec.defaultVolumesToFsBackup !== null) {
    p(`File System Backup (Default):\t${boolText(spec.defaultVolumesToFsBackup, 'false', 'true', '')}`);
  }
  p(`Snapshot Move Data:\t${boolText(spec.snapshotMoveData, 'false', 'true', 'auto')}`);
  p(`Data Mover:\t${spec.datamover || 'velero'}`);
  p();
  p(`TTL:\t${spec.ttl ?? ''}`);
  p();
  p(`CSISnapshotTimeout:\t${spec.csiSnapshotTimeout ?? ''}`);
  p(`ItemOperationTimeout:\t${spec.itemOperationTimeout ?? ''}`);
  p();
  describeHooks(p, spec.hooks?.resources ?? []);
  if (spec.orderedResources) {
    p();
    p('OrderedResources:');
    for (const key of Object.keys(spec.orderedResources).sort(byCodeUnit)) p(`\t${key}: ${spec.orderedResources[key]}`);
  }
}

type HookSpec = NonNullable<NonNullable<DescribedBackup['spec']['hooks']>['resources']>[number];

function describeHooks(p: Print, hooks: readonly HookSpec[]): void {
  if (hooks.length === 0) return p(`Hooks:\t${NONE}`);
  p('Hooks:');
  p('\tResources:');
  for (const hook of hooks) {
    p(`\t\t${hook.name}:`);
    p('\t\t\tNamespaces:');
    p(`\t\t\t\tIncluded:\t${joined(hook.includedNamespaces, '*')}`);
    p(`\t\t\t\tExcluded:\t${joined(hook.excludedNamespaces, NONE)}`);
    p();
    p('\t\t\tResources:');
    p(`\t\t\t\tIncluded:\t${joined(hook.includedResources, '*')}`);
    p(`\t\t\t\tExcluded:\t${joined(hook.excludedResources, NONE)}`);
    p();
    p(`\t\t\tLabel selector:\t${hook.labelSelector ? formatLabelSelector(hook.labelSelector) : NONE}`);
    for (const [title, list] of [['Pre Exec Hook', hook.pre], ['Post Exec Hook', hook.post]] as const) {
      for (const { exec } of list ?? []) {
        p();
        p(`\t\t\t${title}:`);
        p(`\t\t\t\tContainer:\t${exec.container ?? ''}`);
        p(`\t\t\t\tCommand:\t${exec.command.join(' ')}`);
        p(`\t\t\t\tOn Error:\t${exec.onError ?? ''}`);
        p(`\t\t\t\tTimeout:\t${exec.timeout ?? '0s'}`);
      }
    }
  }
}

function describeStatus(p: Print, b: DescribedBackup, details: boolean): void {
  const s = b.status;
  p(`Backup Format Version:\t${s.formatVersion ?? ''}`);
  p();
  p(`Started:\t${goTime(s.startTimestamp) ?? '<n/a>'}`);
  p(`Completed:\t${goTime(s.completionTimestamp) ?? '<n/a>'}`);
  p();
  p(`Expiration:\t${goTime(s.expiration) ?? '<nil>'}`);
  p();
  if (s.progress) {
    const running = s.phase === 'InProgress';
    p(`${running ? 'Estimated total items to be backed up' : 'Total items to be backed up'}:\t${s.progress.totalItems ?? 0}`);
    p(`${running ? 'Items backed up so far' : 'Items backed up'}:\t${s.progress.itemsBackedUp ?? 0}`);
    const run = s.progress as Partial<RunProgress>;
    if (run.message !== undefined) {
      p(`Stage:\t${run.stage}: ${run.message}${run.paused ? ' (paused: waiting for the next invocation)' : ''}`);
      p(`Elapsed:\t${elapsedText(run.elapsedSeconds ?? 0)}`);
    }
    p();
  }
  if (details) {
    describeResourceList(p, b);
    p();
  }
  describeVolumes(p, b);
  if (s.hookStatus) {
    p();
    p(`HooksAttempted:\t${s.hookStatus.hooksAttempted ?? 0}`);
    p(`HooksFailed:\t${s.hookStatus.hooksFailed ?? 0}`);
  }
}

function describeResourceList(p: Print, b: DescribedBackup): void {
  if (!b.resourceList) return p(`Resource List:\t${b.resourceListNote ?? '<backup resource list not found>'}`);
  p('Resource List:');
  for (const gvk of Object.keys(b.resourceList).sort(byCodeUnit)) {
    p(`\t${gvk}:`);
    for (const name of b.resourceList[gvk]!) p(`\t\t- ${name}`);
  }
}

function describeVolumes(p: Print, b: DescribedBackup): void {
  p('Backup Volumes:');
  if (!b.volumes) {
    p(`\t${b.volumesNote ?? '<backup volume info not found>'}`);
    return;
  }
  const of = (method: string) => b.volumes!.filter((v) => v.outcome === 'snapshotted' && v.method === method);
  const native = of('NativeSnapshot');
  if (native.length === 0) p('\tVelero-Native Snapshots: <none included>');
  else {
    p('\tVelero-Native Snapshots:');
    for (const v of native) p(`\t\t${v.pv ?? ''}: included`);
  }
  p();
  const csi = of('CSISnapshot');
  if (csi.length === 0) p('\tCSI Snapshots: <none included>');
  else {
    p('\tCSI Snapshots:');
    for (const v of csi) describeCsiSnapshot(p, v);
  }
  p();
  p('\tPod Volume Backups: <none included>');
  for (const [title, outcome] of [['Skipped Volumes', 'skipped'], ['Failed Volumes', 'failed']] as const) {
    const list = b.volumes.filter((v) => v.outcome === outcome);
    p();
    if (list.length === 0) {
      p(`\t${title}: <none>`);
      continue;
    }
    p(`\t${title}:`);
    for (const v of list) p(`\t\t${v.namespace}/${v.pvc}:\t${v.reason ?? ''}`);
  }
}

function describeCsiSnapshot(p: Print, v: BackupVolumeView): void {
  p(`\t\t${v.namespace}/${v.pvc}:`);
  p('\t\t\tSnapshot:');
  p(`\t\t\t\tSnapshot Content Name: ${v.volumeSnapshotContent ?? ''}`);
  p(`\t\t\t\tStorage Snapshot ID: ${v.snapshotHandle ?? ''}`);
  p(`\t\t\t\tSnapshot Size (bytes): ${v.sizeBytes ?? 0}`);
  p(`\t\t\t\tCSI Driver: ${v.driver ?? ''}`);
  p(`\t\t\t\tVolumeSnapshotClass: ${v.snapshotClass ?? '<unknown>'}`);
  p('\t\t\t\tResult: succeeded');
}

/** Go's time.Time.String() of a UTC time: `2024-05-01 10:00:00 +0000 UTC`; undefined when absent. */
export function goTime(rfc3339: string | undefined): string | undefined {
  if (!rfc3339) return undefined;
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) return rfc3339;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/**
 * `skiff backup describe -o json`: Velero's structured description (DescribeBackupInSF),
 * its keys sorted and indented by four spaces as Go's encoder writes a map, with Skiff's
 * additions under `status.backupVolumes` (`skippedVolumes`, `failedVolumes`, a
 * `snapshotClass` per CSI snapshot) and `status.progress` while the backup runs.
 */
export function describeBackupStructured(b: DescribedBackup, details: boolean): string {
  const spec = b.spec;
  const s = b.status;
  const out: Record<string, unknown> = {
    metadata: { name: b.metadata.name, namespace: b.metadata.namespace, labels: b.metadata.labels ?? null, annotations: b.metadata.annotations ?? null },
    phase: s.phase ?? '',
  };
  if (spec.resourcePolicy) out.resourcePolicies = { type: spec.resourcePolicy.kind, name: spec.resourcePolicy.name };
  if (s.validationErrors?.length) out.validationErrors = s.validationErrors;
  if ((s.warnings ?? 0) + (s.errors ?? 0) > 0) {
    const errors: Record<string, unknown> = {};
    const warnings: Record<string, unknown> = {};
    if (!b.results) {
      errors.count = s.errors ?? 0;
      warnings.count = s.warnings ?? 0;
    } else {
      if ((s.warnings ?? 0) > 0) Object.assign(warnings, resultInSF(b.results.warnings));
      if ((s.errors ?? 0) > 0) Object.assign(errors, resultInSF(b.results.errors));
    }
    out.errors = errors;
    out.warnings = warnings;
  }
  const specInfo: Record<string, unknown> = {
    namespaces: { included: joined(spec.includedNamespaces, '*'), excluded: joined(spec.excludedNamespaces, NONE) },
    resources: {
      included: joined(spec.includedResources, '*'),
      excluded: joined(spec.excludedResources, NONE),
      clusterScoped: boolText(spec.includeClusterResources, 'excluded', 'included', 'auto'),
    },
    labelSelector: spec.labelSelector ? formatLabelSelector(spec.labelSelector) : NONE,
    storageLocation: spec.storageLocation ?? '',
    veleroNativeSnapshotPVs: boolText(spec.snapshotVolumes, 'false', 'true', 'auto'),
    veleroSnapshotMoveData: boolText(spec.snapshotMoveData, 'false', 'true', 'auto'),
    dataMover: spec.datamover || NONE,
    TTL: spec.ttl ?? '',
    CSISnapshotTimeout: spec.csiSnapshotTimeout ?? '',
  };
  if (spec.hooks?.resources?.length) specInfo.hooks = { resources: Object.fromEntries(spec.hooks.resources.map((h) => [h.name, h])) };
  if (spec.orderedResources) specInfo.orderedResources = spec.orderedResources;
  out.spec = specInfo;

  const status: Record<string, unknown> = {
    backupFormatVersion: s.formatVersion ?? '',
    started: goTime(s.startTimestamp) ?? '<n/a>',
    completed: goTime(s.completionTimestamp) ?? '<n/a>',
    expiration: goTime(s.expiration) ?? '<nil>',
  };
  if (s.progress) {
    if (s.phase === 'InProgress') {
      status.estimatedTotalItemsToBeBackedUp = s.progress.totalItems ?? 0;
      status.itemsBackedUpSoFar = s.progress.itemsBackedUp ?? 0;
    } else {
      status.totalItemsToBeBackedUp = s.progress.totalItems ?? 0;
      status.itemsBackedUp = s.progress.itemsBackedUp ?? 0;
    }
    if ((s.progress as Partial<RunProgress>).message !== undefined) status.progress = s.progress;
  }
  if (details) {
    if (b.resourceList) status.resourceList = b.resourceList;
    else status.errorGettingResourceList = b.resourceListNote ?? '<backup resource list not found>';
  }
  status.backupVolumes = volumesInSF(b);
  if (s.hookStatus) {
    status.hooksAttempted = s.hookStatus.hooksAttempted ?? 0;
    status.hooksFailed = s.hookStatus.hooksFailed ?? 0;
  }
  out.status = status;
  return `${JSON.stringify(sortedKeys(out), null, 4)}\n`;
}

function resultInSF(result: Result): Record<string, unknown> {
  return {
    velero: result.velero,
    cluster: result.cluster,
    namespace: Object.keys(result.namespaces).length > 0 ? result.namespaces : [],
  };
}

function volumesInSF(b: DescribedBackup): Record<string, unknown> {
  if (!b.volumes) return { errorGetBackupVolumeInfo: b.volumesNote ?? '<backup volume info not found>' };
  const snapshotted = (method: string) => b.volumes!.filter((v) => v.outcome === 'snapshotted' && v.method === method);
  const native = snapshotted('NativeSnapshot');
  const csi = snapshotted('CSISnapshot');
  const byPvc = (list: BackupVolumeView[], value: (v: BackupVolumeView) => unknown) =>
    Object.fromEntries(list.map((v) => [`${v.namespace}/${v.pvc}`, value(v)]));
  return {
    nativeSnapshots: native.length === 0 ? '<none included>' : Object.fromEntries(native.map((v) => [v.pv ?? '', { result: 'succeeded' }])),
    csiSnapshots:
      csi.length === 0
        ? '<none included>'
        : byPvc(csi, (v) => ({
            snapshot: {
              operationID: '',
              snapshotContentName: v.volumeSnapshotContent ?? '',
              storageSnapshotID: v.snapshotHandle ?? '',
              'snapshotSize(bytes)': v.sizeBytes ?? 0,
              csiDriver: v.driver ?? '',
              snapshotClass: v.snapshotClass ?? '',
              result: 'succeeded',
            },
          })),
    podVolumeBackups: '<none included>',
    skippedVolumes: byPvc(b.volumes.filter((v) => v.outcome === 'skipped'), (v) => ({ pv: v.pv ?? '', reason: v.reason ?? '' })),
    failedVolumes: byPvc(b.volumes.filter((v) => v.outcome === 'failed'), (v) => ({ pv: v.pv ?? '', reason: v.reason ?? '' })),
  };
}

/** A copy with every object's keys in code-unit order, as Go's encoder writes maps. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort(byCodeUnit)
      .map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
  );
}
