import {
  BACKUP_FORMAT_VERSION,
  BACKUP_KIND,
  BACKUP_MAJOR_VERSION,
  VELERO_API_VERSION,
  formatTime,
  type Backup,
  type BackupPhase,
  type BackupSpec,
  type LabelSelector,
} from '../../lib/velero/backup';
import { SCHEDULE_NAME_LABEL } from '../../lib/velero/labels';

/**
 * Fluent builder for velero.io/v1 Backups in tests, after Velero's pkg/builder:
 * `forBackup('velero', 'b1').includedNamespaces('app').phase('Completed').result()`.
 * It does not validate: tests of validation call parseBackupSpec themselves.
 */
export class BackupBuilder {
  private readonly backup: Backup;

  constructor(namespace: string, name: string) {
    this.backup = {
      apiVersion: VELERO_API_VERSION,
      kind: BACKUP_KIND,
      metadata: { namespace, name },
      spec: {},
      status: {},
    };
  }

  private withSpec(patch: Partial<BackupSpec>): this {
    Object.assign(this.backup.spec, patch);
    return this;
  }

  includedNamespaces(...namespaces: string[]): this {
    return this.withSpec({ includedNamespaces: namespaces });
  }

  excludedNamespaces(...namespaces: string[]): this {
    return this.withSpec({ excludedNamespaces: namespaces });
  }

  includedResources(...resources: string[]): this {
    return this.withSpec({ includedResources: resources });
  }

  excludedResources(...resources: string[]): this {
    return this.withSpec({ excludedResources: resources });
  }

  includeClusterResources(value: boolean): this {
    return this.withSpec({ includeClusterResources: value });
  }

  includedClusterScopedResources(...resources: string[]): this {
    return this.withSpec({ includedClusterScopedResources: resources });
  }

  excludedClusterScopedResources(...resources: string[]): this {
    return this.withSpec({ excludedClusterScopedResources: resources });
  }

  includedNamespaceScopedResources(...resources: string[]): this {
    return this.withSpec({ includedNamespaceScopedResources: resources });
  }

  excludedNamespaceScopedResources(...resources: string[]): this {
    return this.withSpec({ excludedNamespaceScopedResources: resources });
  }

  labelSelector(selector: LabelSelector): this {
    return this.withSpec({ labelSelector: selector });
  }

  orLabelSelectors(...selectors: LabelSelector[]): this {
    return this.withSpec({ orLabelSelectors: selectors });
  }

  storageLocation(name: string): this {
    return this.withSpec({ storageLocation: name });
  }

  ttl(duration: string): this {
    return this.withSpec({ ttl: duration });
  }

  labels(labels: Record<string, string>): this {
    this.backup.metadata.labels = { ...this.backup.metadata.labels, ...labels };
    return this;
  }

  /** Labels the backup as made by schedule `name`, as Velero's Schedule controller does. */
  fromSchedule(name: string): this {
    return this.labels({ [SCHEDULE_NAME_LABEL]: name });
  }

  annotations(annotations: Record<string, string>): this {
    this.backup.metadata.annotations = { ...this.backup.metadata.annotations, ...annotations };
    return this;
  }

  phase(phase: BackupPhase): this {
    this.backup.status.phase = phase;
    return this;
  }

  formatVersion(version = BACKUP_FORMAT_VERSION): this {
    this.backup.status.version = BACKUP_MAJOR_VERSION;
    this.backup.status.formatVersion = version;
    return this;
  }

  expiration(at: Date): this {
    this.backup.status.expiration = formatTime(at);
    return this;
  }

  startTimestamp(at: Date): this {
    this.backup.status.startTimestamp = formatTime(at);
    return this;
  }

  completionTimestamp(at: Date): this {
    this.backup.status.completionTimestamp = formatTime(at);
    return this;
  }

  /** status.errors and status.warnings, the counts velero's tables show. */
  counts(errors: number, warnings: number): this {
    this.backup.status.errors = errors;
    this.backup.status.warnings = warnings;
    return this;
  }

  /** A copy of the Backup built so far. */
  result(): Backup {
    return structuredClone(this.backup);
  }
}

/** Starts a Backup named `name` in `namespace`. */
export function forBackup(namespace: string, name: string): BackupBuilder {
  return new BackupBuilder(namespace, name);
}
