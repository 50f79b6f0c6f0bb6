import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiextensionsV1Api, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { waitFor } from './wait';

/**
 * Installs every CRD in `dir` (the snapshot.storage.k8s.io CRDs of the
 * external-snapshotter release the bed runs) and waits until each is Established,
 * i.e. its API is served. Returns the CRD names.
 */
export async function installCrds(kubeConfig: KubeConfig, dir: string): Promise<string[]> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const files = readdirSync(dir).filter((file) => file.endsWith('.yaml'));
  const crds = files.map((file) => parse(readFileSync(join(dir, file), 'utf8')) as V1CustomResourceDefinition);
  await Promise.all(crds.map((body) => api.createCustomResourceDefinition({ body })));
  const names = crds.map((crd) => crd.metadata?.name ?? '');
  await Promise.all(
    names.map((name) =>
      waitFor(
        async () => {
          const crd = await api.readCustomResourceDefinition({ name });
          return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
        },
        { what: `CRD ${name} to be Established`, timeoutMs: 30_000, intervalMs: 100 },
      ),
    ),
  );
  return names;
}
