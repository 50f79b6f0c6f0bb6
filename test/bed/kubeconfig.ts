import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { CertFiles } from './certs';

function base64File(path: string): string {
  return readFileSync(path).toString('base64');
}

/**
 * Writes a self-contained kubeconfig (CA and client certificate embedded), so it
 * works from any directory and can be handed to another program as is. The file
 * holds a private key: it is readable by its owner only.
 */
export function writeKubeconfig(
  path: string,
  options: { cluster: string; server: string; caFile: string; user: string; client: CertFiles },
): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: options.cluster,
        cluster: { server: options.server, 'certificate-authority-data': base64File(options.caFile) },
      },
    ],
    users: [
      {
        name: options.user,
        user: {
          'client-certificate-data': base64File(options.client.cert),
          'client-key-data': base64File(options.client.key),
        },
      },
    ],
    contexts: [{ name: options.cluster, context: { cluster: options.cluster, user: options.user } }],
    'current-context': options.cluster,
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
}
