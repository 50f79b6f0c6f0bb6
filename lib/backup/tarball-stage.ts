import { ValidationError } from '../core/errors';
import { itemPaths, VERSION_FILE_CONTENT, VERSION_FILE_PATH } from '../archive/paths';
import type { KubeClient } from '../kube/client';
import { collectionPath, groupResource, type ApiResource } from '../kube/discovery';
import { KubeApiError, isNotFound } from '../kube/errors';
import type { KubeObject } from '../kube/list-all';
import { BACKUP_NAME_LABEL } from '../velero/labels';
import { belongs, collectItems, cursorKey, itemKey, type CollectedItem, type ListTarget, type TypeCursor } from './collect';
import { deletionSecretsToAdd } from './snapshot-secrets';
import { skippedHooksWarning } from './hook-warnings';
import { orderedNamesFor } from '../velero/ordered-resources';
import type { BackupFilters } from '../velero/filters';
import type { MultipartUploads, UploadedPart } from '../store/multipart';
import type { BackupProgressRecord, TarballState } from './progress-record';
import { addMessage, ResourceList } from '../velero/results';
import type { BackupLog } from './backup-log';

/** The tarball writer the stage drives; parts are whole gzip members of whole entries. */
export interface PartWriter {
  /** Adds one file under each of `paths` at once; synchronous, with ready() as the backpressure. */
  append(paths: readonly string[], body: string): void;
  /** Resolves once the writer can take more (compression and uploads caught up). */
  ready(): Promise<void>;
  /** Compressed bytes of the member not yet handed out as a part. */
  readonly openBytes: number;
  /** Closes the open member and hands it out as a part; false when it is below S3's 5 MiB minimum. */
  flush(): Promise<boolean>;
  /** Writes the end of the archive and hands out the last part, whatever its size. */
  finish(): Promise<void>;
}

export interface TarballStageInput {
  client: KubeClient;
  record: BackupProgressRecord;
  filters: BackupFilters;
  targets: ListTarget[];
  /** Every namespace object of the cluster, for writing the included ones at the end. */
  listNamespaces: () => Promise<KubeObject[]>;
  multipart: MultipartUploads;
  /** The tarball's key, `backups/<b>/<b>.tar.gz`. */
  tarballKey: string;
  createWriter: (onPart: (bytes: Buffer) => Promise<void>) => PartWriter;
  /** Stores the names of the objects of one more tarball part (see resource-list-parts.ts). */
  saveResourceListPart: (part: number, names: ResourceList) => Promise<void>;
  /** Persists the record; called after parts are safely uploaded. */
  checkpoint: (record: BackupProgressRecord) => Promise<void>;
  /** True when the function must stop soon (its time limit); the stage then pauses. */
  shouldPause: () => boolean;
  log: BackupLog;
  partSize: number;
  labelSelector?: string;
  /**
   * The CustomResourceDefinition type, when the definitions of the custom resources the
   * backup holds are to be added (Velero's backupCRD: CRDs neither included nor excluded).
   */
  customResourceDefinitions?: ApiResource;
  /** Recorded in a new upload's state: the targets include every served version. */
  allApiGroupVersions?: boolean;
}

/** How often the running counts are saved for GET /backups/{name} between parts. */
const PROGRESS_INTERVAL_MS = 5_000;

/**
 * Bytes of objects appended between two waits for the writer: bounds the memory a page
 * of large objects takes, and is how often a part boundary can be placed.
 */
const APPENDED_BETWEEN_WAITS = 512 * 1024;

/**
 * Streams the cluster's objects into the backup tarball: each page of objects becomes
 * tar entries, gzip, and multipart parts as it arrives; nothing is staged on disk and
 * memory does not grow with the cluster.
 *
 * Resumable: after each uploaded part the record is checkpointed with the listing
 * cursors at that moment, so a later invocation continues with the next part and
 * re-lists only what came after the cursors. Entries written after the last part are
 * simply written again. Returns 'paused' when stopped for time, 'complete' when the
 * multipart upload is completed.
 */
export async function runTarballStage(input: TarballStageInput): Promise<'complete' | 'paused'> {
  const recordUpload = !input.record.tarball;
  input.record.tarball ??= await newTarballState(input);
  return new TarballRun(input, input.record.tarball, recordUpload).execute();
}

async function newTarballState(input: TarballStageInput): Promise<TarballState> {
  return {
    uploadId: await input.multipart.startMultipart(input.tarballKey, { contentType: 'application/gzip' }),
    parts: [],
    cursors: {},
    itemsBackedUp: 0,
    resourceList: {},
    namespacesSeen: [],
    listedTypesBackedUp: [],
    preambleWritten: false,
    ...(input.allApiGroupVersions ? { allApiGroupVersions: true } : {}),
  };
}

/** One invocation's share of the tarball stage: from the saved state to a pause or the end. */
class TarballRun {
  private readonly record: BackupProgressRecord;
  private readonly log: BackupLog;
  private readonly cursors: Map<string, TypeCursor>;
  private readonly live: LiveState;
  private readonly parts: UploadedPart[];
  private readonly writer: PartWriter;
  /** One writer at a time: an object's entries must land in one part, and the cursors
   * copied at a part boundary must describe exactly what is in the parts. */
  private lock: Promise<void> = Promise.resolve();
  private progressSavedAt = Date.now();
  /** A new upload is recorded (so a later run can continue or abort it) while the first pages are listed. */
  private readonly uploadRecorded: Promise<void>;

  constructor(
    private readonly input: TarballStageInput,
    private readonly saved: TarballState,
    recordUpload: boolean,
  ) {
    this.record = input.record;
    this.log = input.log;
    this.cursors = new Map(Object.entries(structuredClone(saved.cursors)));
    this.live = new LiveState(saved, this.cursors);
    this.parts = [...saved.parts];
    this.writer = input.createWriter(async (bytes) => {
      this.parts.push(await input.multipart.uploadPart(input.tarballKey, saved.uploadId, this.parts.length + 1, bytes));
    });
    // It takes the lock first, so nothing is written before it.
    this.uploadRecorded = recordUpload ? this.exclusive(() => input.checkpoint(this.record)) : Promise.resolve();
    this.uploadRecorded.catch(() => undefined);
  }

  async execute(): Promise<'complete' | 'paused'> {
    await this.uploadRecorded;
    if (!this.live.preambleWritten) this.writePreamble();
    const collected = await collectItems(
      this.input.client,
      this.input.targets,
      this.input.filters,
      this.cursors,
      {
        onPage: (target, items) => this.exclusive(() => this.writeListed(target, items)),
        onProblem: (problem) => this.report(problem.severity, problem.namespace, problem.message),
        onEstimate: (_gr, count) => this.live.estimate(count),
      },
      {
        labelSelector: this.input.labelSelector,
        orderFor: (target) =>
          orderedNamesFor(this.record.backup.spec.orderedResources, { resource: target.resource.resource, groupResource: target.groupResource }),
        // The snapshots this backup took are written from the snapshot stage, final state and all.
        skip: (item, target) =>
          target.resource.group === 'snapshot.storage.k8s.io' && item.metadata.labels?.[BACKUP_NAME_LABEL] === this.record.backup.metadata.name,
      },
    );
    if (collected === 'paused') return this.pause();
    await this.exclusive(() => this.writeTail());
    return this.complete();
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Adds a warning or error once: what was written after the last part is written again
   * by a resumed run, and its problems must not be counted twice.
   */
  private report(severity: 'error' | 'warning', namespace: string | undefined, message: string): void {
    const result = severity === 'error' ? this.record.results.errors : this.record.results.warnings;
    if ((namespace ? result.namespaces[namespace] : result.cluster)?.includes(message)) return;
    addMessage(result, namespace, message);
    (severity === 'error' ? this.log.error : this.log.warn).call(this.log, message);
  }

  /** A pod declaring Velero backup hooks gets one warning naming them. */
  private warnSkippedHooks(pod: KubeObject): void {
    const warning = skippedHooksWarning(pod);
    if (warning !== undefined) this.report('warning', pod.metadata.namespace, warning);
  }

  /** The version file and the snapshot stage's objects, once per backup. */
  private writePreamble(): void {
    this.writer.append([VERSION_FILE_PATH], VERSION_FILE_CONTENT);
    for (const object of snapshotObjects(this.record)) {
      const [group, version] = splitApiVersion(object.apiVersion ?? '');
      this.writeObject(object, `${pluralOf(object.kind ?? '')}.${group}`, version, version);
    }
    this.live.preambleWritten = true;
  }

  /**
   * Adds one object; returns the bytes appended. An object whose name cannot be stored
   * as a path is left out with a warning naming it: one object never fails a backup.
   */
  private writeObject(object: KubeObject, groupResource: string, version: string, preferredVersion: string): number {
    const body = JSON.stringify(object);
    const location = { groupResource, namespace: object.metadata.namespace, name: object.metadata.name };
    let paths: string[];
    try {
      paths = itemPaths(location, version, preferredVersion);
      this.writer.append(paths, body);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const reasons = error.issues.map((i) => i.message).join('; ');
      this.report('warning', location.namespace, `${describeItem(location)} is left out: its name cannot be stored in the tarball (${reasons})`);
      return 0;
    }
    if (tooLongToExtract(paths[0]!)) {
      this.report(
        'warning',
        location.namespace,
        `${describeItem(location)} is stored under a file name longer than ${MAX_FILE_NAME_BYTES} bytes, which tar cannot extract ` +
          'on most filesystems (Velero #8434); Skiff reads it, other tools may not',
      );
    }
    this.live.recordObject(object);
    return body.length;
  }

  /**
   * Writes listed objects, waiting for the writer every APPENDED_BETWEEN_WAITS bytes and
   * then closing a part if one is full. The cursor moves with each object, before a
   * part can close, so the checkpoint of that part does not list the object again.
   * Answers 'pause' (the listing stops) when the function must stop soon.
   */
  private async writeListed(target: ListTarget, items: CollectedItem[]): Promise<'continue' | 'pause'> {
    await this.uploadRecorded;
    if (this.input.shouldPause()) return 'pause';
    const cursor = this.cursors.get(cursorKey(target))!;
    let appended = 0;
    for (const { item, key, orderIndex } of items) {
      const object = withBackupAdditions(item, this.record);
      appended += this.writeObject(object, target.groupResource, target.resource.version, target.resource.preferredVersion);
      if (target.groupResource === 'pods') this.warnSkippedHooks(object);
      if (orderIndex === undefined) cursor.lastKey = key;
      else cursor.ordered = orderIndex;
      if (appended >= APPENDED_BETWEEN_WAITS) {
        appended = 0;
        await this.writer.ready();
        await this.checkpointAfterPart();
        if (this.input.shouldPause()) return 'pause';
      }
    }
    this.live.listedTypeBackedUp(target.groupResource);
    await this.writer.ready();
    await this.checkpointAfterPart();
    return 'continue';
  }

  /**
   * Closes a part once enough is open; besides each part's checkpoint, the counts alone
   * are saved every few seconds for progress (the tarball state stays that of the last
   * part, which is what a resumed run must start from).
   */
  private async checkpointAfterPart(): Promise<void> {
    if (this.writer.openBytes >= this.input.partSize && (await this.writer.flush())) {
      await this.sealPart();
    } else if (Date.now() - this.progressSavedAt < PROGRESS_INTERVAL_MS) {
      return;
    }
    this.record.backup.status.progress = this.live.progress();
    await this.input.checkpoint(this.record);
    this.progressSavedAt = Date.now();
  }

  /** After a part is uploaded: the state a resumed run starts from, its resource list stored first. */
  private async sealPart(): Promise<void> {
    if (!this.live.unsavedNames.isEmpty) {
      await this.input.saveResourceListPart(this.live.resourceListParts + 1, this.live.unsavedNames);
      this.live.namesSaved();
    }
    this.record.tarball = this.live.toState(this.saved.uploadId, this.parts);
  }

  /** What goes after the listed objects: definitions, deletion Secrets, Namespace objects, the end of the archive. */
  private async writeTail(): Promise<void> {
    if (this.input.customResourceDefinitions) {
      const type = this.input.customResourceDefinitions;
      for (const crd of await definitionsOf(this.input, this.live.listedTypes)) {
        this.writeObject(crd, groupResource(type), type.version, type.preferredVersion);
      }
    }
    const contents = this.record.snapshots?.volumeSnapshotContents ?? [];
    const warn = (namespace: string, message: string) => this.report('warning', namespace, message);
    for (const secret of await deletionSecretsToAdd(this.input.client, contents, (s) => this.listedSecret(s), warn)) {
      this.writeObject(secret, 'secrets', 'v1', 'v1');
    }
    const wanted = new Set(this.input.filters.namespaceObjectsToBackUp(this.live.namespacesSeen));
    for (const namespace of await this.input.listNamespaces()) {
      if (wanted.has(namespace.metadata.name)) this.writeObject(namespace, 'namespaces', 'v1', 'v1');
    }
    await this.writer.finish();
  }

  /** Whether the listing of Secrets wrote `secret` (in this run or an earlier one). */
  private listedSecret(secret: KubeObject): boolean {
    const target = this.input.targets.find((t) => t.groupResource === 'secrets' && cursorKey(t) === 'secrets');
    const namespace = secret.metadata.namespace ?? '';
    return !!target && (target.namespaces?.includes(namespace) ?? true) && belongs(secret, target, this.input.filters);
  }

  /** Stops for the function's time limit: keeps what a full part holds; the rest is listed again next time. */
  private async pause(): Promise<'paused'> {
    await this.lock;
    if (this.writer.openBytes >= 5 * 1024 * 1024 && (await this.writer.flush())) await this.sealPart();
    const tarball = this.record.tarball!;
    this.record.backup.status.progress = { ...this.record.backup.status.progress, itemsBackedUp: tarball.itemsBackedUp };
    await this.input.checkpoint(this.record);
    this.log.info('backup paused before the function time limit; it continues in the next invocation', { parts: tarball.parts.length });
    return 'paused';
  }

  private async complete(): Promise<'complete'> {
    await this.input.multipart.complete(this.input.tarballKey, this.saved.uploadId, this.parts, { ifNoneMatch: true });
    this.record.tarball = this.live.toState(this.saved.uploadId, this.parts);
    this.record.backup.status.progress = { totalItems: this.live.itemsBackedUp, itemsBackedUp: this.live.itemsBackedUp };
    this.log.info('tarball uploaded', { parts: this.parts.length, items: this.live.itemsBackedUp });
    return 'complete';
  }
}

/**
 * The definitions of the custom resource types the backup took objects of, as Velero's
 * backupCRD adds them: one GET per type whose group could be a CRD's (it has a dot);
 * built-in types answer 404 and are skipped. A definition that cannot be read is a
 * problem for the results, not a failed backup.
 */
async function definitionsOf(input: TarballStageInput, types: readonly string[]): Promise<KubeObject[]> {
  const crdType = input.customResourceDefinitions!;
  const crdResource = groupResource(crdType);
  const definitions: KubeObject[] = [];
  for (const type of [...types].sort()) {
    if (type === crdResource || !type.slice(type.indexOf('.') + 1).includes('.')) continue;
    try {
      definitions.push(await input.client.get<KubeObject>(`${collectionPath(crdType)}/${type}`));
    } catch (error) {
      if (isNotFound(error)) {
        if (!isBuiltInGroup(type)) input.record.results.warnings.cluster.push(missingDefinition(type));
        if (!isBuiltInGroup(type)) input.log.warn(missingDefinition(type));
        continue;
      }
      if (!(error instanceof KubeApiError)) throw error;
      const message = `could not read the CustomResourceDefinition of ${type}: ${error.message}`;
      addMessage(error.code === 403 ? input.record.results.warnings : input.record.results.errors, undefined, message);
      (error.code === 403 ? input.log.warn : input.log.error).call(input.log, message);
    }
  }
  return definitions;
}

/**
 * Whether a type belongs to an API group Kubernetes reserves (`*.k8s.io`,
 * `*.kubernetes.io`): such types are built in and have no CustomResourceDefinition.
 */
function isBuiltInGroup(groupResource: string): boolean {
  const group = groupResource.slice(groupResource.indexOf('.') + 1);
  return group.endsWith('.k8s.io') || group === 'k8s.io' || group.endsWith('.kubernetes.io');
}

function missingDefinition(groupResource: string): string {
  return (
    `no CustomResourceDefinition of ${groupResource} could be read (it was deleted during the backup, or the type is ` +
    'served by an aggregated API server); the backup holds its objects without their definition, so a restore needs ' +
    'the type to exist in the target cluster'
  );
}

/** The stage's running totals, copied into the record at each part boundary. */
class LiveState {
  itemsBackedUp: number;
  preambleWritten: boolean;
  /** Names of the objects written since the last stored resource-list part. */
  unsavedNames: ResourceList;
  resourceListParts: number;
  private readonly namespaces: Set<string>;
  private readonly types: Set<string>;
  private readonly allApiGroupVersions: boolean;
  private estimated = 0;

  /** `cursors` is the collection's own map, moved on as objects are written. */
  constructor(
    state: TarballState,
    private readonly cursors: Map<string, TypeCursor>,
  ) {
    this.itemsBackedUp = state.itemsBackedUp;
    this.preambleWritten = state.preambleWritten;
    this.unsavedNames = ResourceList.fromJSON(state.resourceList);
    this.resourceListParts = state.resourceListParts ?? 0;
    this.namespaces = new Set(state.namespacesSeen);
    this.types = new Set(state.listedTypesBackedUp ?? []);
    this.allApiGroupVersions = state.allApiGroupVersions === true;
  }

  get namespacesSeen(): string[] {
    return [...this.namespaces];
  }

  /** Group-resources of which at least one listed object went into the backup. */
  get listedTypes(): string[] {
    return [...this.types];
  }

  listedTypeBackedUp(groupResource: string): void {
    this.types.add(groupResource);
  }

  /**
   * Counts and names a written object under its own `<apiVersion>/<Kind>`: with every
   * served version written, each version is an item of its own, as Velero's
   * BackedUpItems is keyed by resourceKey (pkg/backup/item_backupper.go).
   */
  recordObject(object: KubeObject): void {
    this.itemsBackedUp += 1;
    this.unsavedNames.add({
      apiVersion: object.apiVersion ?? '',
      kind: object.kind ?? '',
      namespace: object.metadata.namespace,
      name: object.metadata.name,
    });
    if (object.metadata.namespace) this.namespaces.add(object.metadata.namespace);
  }

  /** The unsaved names were stored as the next resource-list part. */
  namesSaved(): void {
    this.unsavedNames = new ResourceList();
    this.resourceListParts += 1;
  }

  estimate(count: number): void {
    this.estimated += count;
  }

  /** Velero's progress; the total is the servers' estimate until listing is done. */
  progress(): { totalItems: number; itemsBackedUp: number } {
    return { totalItems: Math.max(this.estimated, this.itemsBackedUp), itemsBackedUp: this.itemsBackedUp };
  }

  toState(uploadId: string, parts: UploadedPart[]): TarballState {
    return {
      uploadId,
      parts: [...parts],
      cursors: structuredClone(Object.fromEntries(this.cursors)),
      itemsBackedUp: this.itemsBackedUp,
      resourceList: this.unsavedNames.toJSON(),
      resourceListParts: this.resourceListParts,
      namespacesSeen: this.namespacesSeen,
      listedTypesBackedUp: this.listedTypes,
      preambleWritten: this.preambleWritten,
      ...(this.allApiGroupVersions ? { allApiGroupVersions: true } : {}),
    };
  }
}

function snapshotObjects(record: BackupProgressRecord): KubeObject[] {
  return (record.snapshots?.tarballItems ?? []) as KubeObject[];
}

/** A snapshotted PVC carries, in the tarball, the name of its VolumeSnapshot (restore needs it). */
function withBackupAdditions(item: KubeObject, record: BackupProgressRecord): KubeObject {
  if (item.kind !== 'PersistentVolumeClaim') return item;
  const additions = record.snapshots?.pvcAdditions[itemKey(item)];
  if (!additions) return item;
  return {
    ...item,
    metadata: {
      ...item.metadata,
      labels: { ...item.metadata.labels, ...additions.labels },
      annotations: { ...item.metadata.annotations, ...additions.annotations },
    },
  };
}

function splitApiVersion(apiVersion: string): [string, string] {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
}

/** Resource names of the snapshot kinds, the only objects written without discovery. */
const SNAPSHOT_RESOURCES: Record<string, string> = {
  VolumeSnapshot: 'volumesnapshots',
  VolumeSnapshotContent: 'volumesnapshotcontents',
  VolumeSnapshotClass: 'volumesnapshotclasses',
};

function pluralOf(kind: string): string {
  const plural = SNAPSHOT_RESOURCES[kind];
  if (!plural) throw new Error(`no resource name known for snapshot kind "${kind}"`);
  return plural;
}

/** The longest file name most filesystems take (ext4, XFS, APFS: 255 bytes). */
const MAX_FILE_NAME_BYTES = 255;

/** Whether a tarball path's last component is longer than a filesystem allows. */
function tooLongToExtract(path: string): boolean {
  return Buffer.byteLength(path.slice(path.lastIndexOf('/') + 1), 'utf8') > MAX_FILE_NAME_BYTES;
}

/** `roles.rbac.authorization.k8s.io shop/a\b`, as warnings name objects. */
function describeItem(location: { groupResource: string; namespace?: string; name: string }): string {
  return `${location.groupResource} ${location.namespace ? `${location.namespace}/` : ''}${location.name}`;
}
