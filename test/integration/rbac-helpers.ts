import { parseAllDocuments } from 'yaml';
import type { KubeClient } from '../../lib/kube/client';
import { isAlreadyExists } from '../../lib/kube/errors';
import type { KubeObject } from '../../lib/kube/list-all';
import { REMOTE_RBAC_MANIFEST } from '../../lib/readiness/rbac-text';
import { waitFor } from '../bed/context';

/**
 * The remote RBAC manifest in a bed cluster, as `kubectl apply -f` of the file would
 * make it, and tokens of service accounts: what the tests that run Skiff with the
 * manifest's account (and no other right) share.
 */

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
};

/** One object of the manifest, as parsed from its YAML. */
export type Manifested = KubeObject & Record<string, any>;

/**
 * Creates, with `admin`, each object of the manifest that `edit` keeps (and maybe
 * changes); objects that exist are left as they are, so a second call is harmless.
 */
export async function applyManifest(admin: KubeClient, edit: (object: Manifested) => Manifested | undefined = (object) => object): Promise<void> {
  for (const document of parseAllDocuments(REMOTE_RBAC_MANIFEST)) {
    const object = edit(document.toJS() as Manifested);
    if (!object) continue;
    const base = object.apiVersion === 'v1' ? '/api/v1' : `/apis/${object.apiVersion}`;
    const ns = object.metadata.namespace ? `/namespaces/${object.metadata.namespace}` : '';
    try {
      await admin.create(`${base}${ns}/${PLURALS[object.kind!]}`, object);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }
}

/** A one-hour token of service account `namespace/name` (a TokenRequest, as `kubectl create token` makes). */
export async function tokenFor(admin: KubeClient, namespace: string, name: string): Promise<string> {
  const answer = await admin.create<{ status: { token: string } }>(`/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  return answer.status.token;
}

/**
 * Waits until `client` may GET `path`: the API server's RBAC authorizer learns new
 * roles and bindings from its informers, a moment after they are created.
 */
export async function waitForRights(client: KubeClient, path: string, what: string): Promise<void> {
  await waitFor(
    async () => {
      try {
        await client.get(path, { limit: 1 });
        return true;
      } catch {
        return false;
      }
    },
    { what: `the rights of ${what}`, timeoutMs: 30_000 },
  );
}
