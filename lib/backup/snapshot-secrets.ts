import type { KubeClient } from '../kube/client';
import { KubeApiError } from '../kube/errors';
import type { KubeObject } from '../kube/list-all';
import type { VolumeSnapshotContent } from '../csi/snapshot-api';
import { deletionSecretOf, type SecretRef } from '../csi/backup-items';

/**
 * The Secrets the backup's VolumeSnapshotContents name for deleting their snapshots,
 * read from the cluster. Velero's VolumeSnapshotContent action adds them to the backup
 * as additional items, whatever the filters say, so that a restored content can still be
 * deleted by its driver. `listed` tells a Secret the listing already wrote (it must not be
 * in the tarball twice). A Secret that cannot be read becomes a warning: the snapshot is
 * still restorable, only its deletion needs the Secret put back by hand.
 */
export async function deletionSecretsToAdd(
  client: KubeClient,
  contents: readonly unknown[],
  listed: (secret: KubeObject) => boolean,
  warn: (namespace: string, message: string) => void,
): Promise<KubeObject[]> {
  const secrets: KubeObject[] = [];
  for (const ref of uniqueRefs(contents as VolumeSnapshotContent[])) {
    try {
      const secret = await client.get<KubeObject>(`/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/secrets/${encodeURIComponent(ref.name)}`);
      if (!listed(secret)) secrets.push(secret);
    } catch (error) {
      if (!(error instanceof KubeApiError)) throw error;
      warn(ref.namespace, `could not read Secret ${ref.namespace}/${ref.name}, which snapshot deletion needs: ${error.message}`);
    }
  }
  return secrets;
}

function uniqueRefs(contents: readonly VolumeSnapshotContent[]): SecretRef[] {
  const byKey = new Map<string, SecretRef>();
  for (const content of contents) {
    const ref = deletionSecretOf(content);
    if (ref) byKey.set(`${ref.namespace}/${ref.name}`, ref);
  }
  return [...byKey.values()].sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1));
}
