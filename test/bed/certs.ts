import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** File paths of a certificate and its private key (PEM). */
export interface CertFiles {
  cert: string;
  key: string;
}

export interface ClusterPki {
  ca: CertFiles;
  apiserver: CertFiles;
  admin: CertFiles;
  controllerManager: CertFiles;
  snapshotController: CertFiles;
  /** Key pair the API server signs service-account tokens with. */
  serviceAccount: { privateKey: string; publicKey: string };
}

const run = promisify(execFile);

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`);
  }
}

// P-256 keys: generated in milliseconds (RSA takes far longer) and accepted by every
// Kubernetes component, including for service-account token signing (ES256).
const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
// Long enough for a `cli.ts up` left running for weeks; every run makes new ones.
const days = ['-days', '30'];

async function createCa(dir: string, commonName: string): Promise<CertFiles> {
  const files = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  await openssl(['req', '-x509', ...newKey, ...days, '-keyout', files.key, '-out', files.cert,
    '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return files;
}

async function issue(
  dir: string,
  name: string,
  ca: CertFiles,
  subject: string,
  usage: { server: string[] } | 'client',
): Promise<CertFiles> {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const extensions =
    usage === 'client'
      ? ['-addext', 'extendedKeyUsage=clientAuth']
      : ['-addext', 'extendedKeyUsage=serverAuth', '-addext', `subjectAltName=${usage.server.join(',')}`];
  await openssl(['req', '-x509', ...newKey, ...days, '-keyout', files.key, '-out', files.cert,
    '-CA', ca.cert, '-CAkey', ca.key, '-subj', subject,
    '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
    ...extensions]);
  return files;
}

/**
 * Every credential of one cluster, signed by a CA of its own: clusters of one run
 * trust nothing of each other, as separate real clusters would not. Kubernetes maps
 * a client certificate's CN to the user and each O to a group.
 */
export async function createClusterPki(dir: string, cluster: string): Promise<ClusterPki> {
  const ca = await createCa(dir, `skiff-bed-${cluster}-ca`);
  const serviceAccount = { privateKey: join(dir, 'service-account.key'), publicKey: join(dir, 'service-account.pub') };
  const [apiserver, admin, controllerManager, snapshotController] = await Promise.all([
    issue(dir, 'apiserver', ca, '/CN=kube-apiserver', { server: ['IP:127.0.0.1', 'DNS:localhost'] }),
    issue(dir, 'admin', ca, '/O=system:masters/CN=skiff-bed-admin', 'client'),
    issue(dir, 'controller-manager', ca, '/CN=system:kube-controller-manager', 'client'),
    // The bed does not exercise the snapshot controller's own RBAC, so it runs as
    // an admin under a name of its own (visible in audit and events).
    issue(dir, 'snapshot-controller', ca, '/O=system:masters/CN=skiff-bed-snapshot-controller', 'client'),
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', serviceAccount.privateKey]).then(
      () => openssl(['pkey', '-in', serviceAccount.privateKey, '-pubout', '-out', serviceAccount.publicKey]),
    ),
  ]);
  return { ca, apiserver, admin, controllerManager, snapshotController, serviceAccount };
}
