/**
 * Kubernetes Events on the objects the sidecars act on (ProvisioningFailed on a
 * PVC, SnapshotCreationFailed on a content, ...), as client-go's recorder writes
 * them: repeats of the same reason and message bump `count` instead of piling up.
 * Best effort: a failed event write is logged, never fatal.
 */

import { randomBytes } from 'node:crypto';
import type { Cluster } from './kube';
import { errorText, isNotFound, resourcePath } from './kube';
import { log } from './log';
import type { KubeObject } from './types';

interface Recorded {
  name: string;
  namespace: string;
  count: number;
}

export class EventRecorder {
  private readonly recorded = new Map<string, Recorded>();

  constructor(
    private readonly cluster: Cluster,
    private readonly component: string,
  ) {}

  normal(object: KubeObject, reason: string, message: string): void {
    void this.emit(object, 'Normal', reason, message);
  }

  warning(object: KubeObject, reason: string, message: string): void {
    void this.emit(object, 'Warning', reason, message);
  }

  private async emit(object: KubeObject, type: string, reason: string, message: string): Promise<void> {
    const meta = object.metadata;
    // Events of cluster-scoped objects live in `default`, as client-go puts them.
    const namespace = meta.namespace ?? 'default';
    const key = `${meta.uid ?? meta.name}|${type}|${reason}|${message}`;
    const now = new Date().toISOString();
    const previous = this.recorded.get(key);
    try {
      if (previous) {
        previous.count++;
        try {
          await this.cluster.mergePatch(resourcePath('v1', 'events', { namespace, name: previous.name }), {
            count: previous.count,
            lastTimestamp: now,
          });
          return;
        } catch (err) {
          if (!isNotFound(err)) throw err;
          // The event expired (TTL); write a fresh one.
        }
      }
      const name = `${meta.name}.${randomBytes(8).toString('hex')}`;
      await this.cluster.create(resourcePath('v1', 'events', { namespace }), {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: meta.name,
          namespace: meta.namespace,
          uid: meta.uid,
          resourceVersion: meta.resourceVersion,
        },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: `${this.component}-sim`,
      });
      this.recorded.set(key, { name, namespace, count: 1 });
      if (this.recorded.size > 5000) this.recorded.delete(this.recorded.keys().next().value!);
    } catch (err) {
      log(this.cluster.name, `event ${reason} on ${object.kind}/${meta.name} not written: ${errorText(err)}`);
    }
  }
}
