import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createClusterPki, type CertFiles, type ClusterPki } from './certs';
import { installCrds } from './crds';
import { writeKubeconfig } from './kubeconfig';
import { timed } from './log';
import type { Binaries } from './paths';
import { freePorts } from './ports';
import { awaitLogLine, awaitReady, type Supervisor } from './processes';
import type { ClusterState } from './state';

/**
 * One Kubernetes control plane without nodes: etcd, kube-apiserver,
 * kube-controller-manager and the CSI snapshot controller, all on 127.0.0.1, with
 * TLS, RBAC, client-certificate and token authentication like a real cluster.
 * It starts in two steps so the bed can start the storage simulator, which needs
 * the API, while the controllers start.
 */

const limitedUser = 'skiff-bed-limited';

// Controllers that matter for backup and restore of objects and volumes. The rest
// (pods, nodes, jobs, endpoints...) would only log about the missing nodes.
const controllers = [
  'serviceaccount-token-controller',
  'serviceaccount-controller',
  'root-ca-certificate-publisher-controller',
  'namespace-controller',
  'garbage-collector-controller',
  'clusterrole-aggregation-controller',
  'persistentvolume-binder-controller',
  'persistentvolume-expander-controller',
  'persistentvolume-protection-controller',
  'persistentvolumeclaim-protection-controller',
];

interface ClusterOptions {
  name: string;
  dir: string;
  binaries: Binaries;
  supervisor: Supervisor;
}

/** A cluster whose API is up; its controllers are not started yet. */
export interface ControlPlane {
  options: ClusterOptions;
  state: ClusterState;
  pki: ClusterPki;
}

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** GET /readyz with the admin certificate; resolves to the HTTP status. */
function readyz(server: string, pki: ClusterPki): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${server}/readyz`, {
      ca: readFileSync(pki.ca.cert),
      cert: readFileSync(pki.admin.cert),
      key: readFileSync(pki.admin.key),
      timeout: 5_000,
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5s')));
    req.on('error', reject);
    req.end();
  });
}

/** Whether the cluster's API server answers /readyz with 200 (false while it is down). */
export async function apiserverReady(plane: ControlPlane): Promise<boolean> {
  return (await readyz(plane.state.server, plane.pki).catch(() => 0)) === 200;
}

async function etcdHealthy(url: string): Promise<boolean> {
  const res = await fetch(`${url}/health`);
  const body = (await res.json()) as { health?: string };
  return body.health === 'true';
}

function kubeconfigFor(plane: ControlPlane, user: string, client: CertFiles): string {
  const { name, dir } = plane.options;
  const path = join(dir, `${user}.kubeconfig`);
  writeKubeconfig(path, { cluster: name, server: plane.state.server, caFile: plane.pki.ca.cert, user, client });
  return path;
}

/** Starts etcd and kube-apiserver and waits until the API server is ready. */
export async function startControlPlane(options: ClusterOptions): Promise<ControlPlane> {
  const { name, dir, binaries, supervisor } = options;
  const pkiDir = join(dir, 'pki');
  mkdirSync(pkiDir, { recursive: true });
  const ports = await freePorts('etcdClient', 'etcdPeer', 'apiserver');
  const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
  const etcdPeerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
  const server = `https://127.0.0.1:${ports.apiserver}`;

  // etcd serves plain HTTP on loopback, so it need not wait for the certificates.
  const etcd = supervisor.start(`${name}/etcd`, binaries.etcd, [
    `--name=${name}`,
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${etcdPeerUrl}`,
    `--initial-advertise-peer-urls=${etcdPeerUrl}`,
    `--initial-cluster=${name}=${etcdPeerUrl}`,
    // Scratch data: durability is worth nothing here, and fsync is the slowest
    // part of etcd on a busy disk.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ]);
  const [pki] = await Promise.all([
    timed(`${name}/certificates`, () => createClusterPki(pkiDir, name)),
    timed(`${name}/etcd`, () => awaitReady(etcd, 'etcd /health', () => etcdHealthy(etcdUrl), 30_000)),
  ]);

  const adminToken = newToken();
  const limitedToken = newToken();
  const tokenFile = join(pkiDir, 'tokens.csv');
  // token,user,uid,"groups": the admin token has the same rights as the admin
  // certificate; the limited user gets only what RBAC gives every authenticated user.
  writeFileSync(
    tokenFile,
    `${adminToken},skiff-bed-admin-token,skiff-bed-admin-token,"system:masters"\n` +
      `${limitedToken},${limitedUser},${limitedUser}\n`,
    { mode: 0o600 },
  );

  const apiserver = supervisor.start(`${name}/kube-apiserver`, binaries.kubeApiserver, [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${ports.apiserver}`,
    // Endpoints may not hold a loopback address, so the `kubernetes` Service gets
    // none (the test kit of kube-apiserver does the same); nothing runs in pods here.
    '--endpoint-reconciler-type=none',
    `--cert-dir=${join(dir, 'apiserver')}`,
    `--tls-cert-file=${pki.apiserver.cert}`,
    `--tls-private-key-file=${pki.apiserver.key}`,
    `--client-ca-file=${pki.ca.cert}`,
    '--authorization-mode=Node,RBAC',
    `--token-auth-file=${tokenFile}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccount.publicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccount.privateKey}`,
    '--service-cluster-ip-range=10.0.0.0/24',
  ]);
  await timed(`${name}/kube-apiserver`, () =>
    awaitReady(apiserver, `${server}/readyz`, async () => (await readyz(server, pki)) === 200, 120_000),
  );

  const adminKubeconfigPath = join(dir, 'admin.kubeconfig');
  writeKubeconfig(adminKubeconfigPath, { cluster: name, server, caFile: pki.ca.cert, user: 'admin', client: pki.admin });
  return {
    options,
    pki,
    state: {
      name,
      server,
      caFile: pki.ca.cert,
      caData: readFileSync(pki.ca.cert).toString('base64'),
      adminKubeconfigPath,
      adminToken,
      limitedToken,
      limitedUser,
    },
  };
}

/**
 * Starts kube-controller-manager, installs the snapshot CRDs and starts the
 * snapshot controller; resolves when all of them work.
 */
export async function startControllers(plane: ControlPlane): Promise<void> {
  const { name, binaries, supervisor } = plane.options;
  const { pki } = plane;
  const adminConfig = new KubeConfig();
  adminConfig.loadFromFile(plane.state.adminKubeconfigPath);

  const controllerManager = async () => {
    const component = supervisor.start(`${name}/kube-controller-manager`, binaries.kubeControllerManager, [
      `--kubeconfig=${kubeconfigFor(plane, 'controller-manager', pki.controllerManager)}`,
      '--leader-elect=false',
      // No metrics or health endpoint: readiness is judged by what it does.
      '--secure-port=0',
      // Each controller acts as its own service account with the narrow role
      // Kubernetes bootstraps for it, as in kubeadm clusters.
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.serviceAccount.privateKey}`,
      `--root-ca-file=${pki.ca.cert}`,
      `--controllers=${controllers.join(',')}`,
    ]);
    const core = adminConfig.makeApiClient(CoreV1Api);
    // The service-account controller creating `default` shows the controller
    // manager got its per-controller credentials and runs its controllers.
    await awaitReady(
      component,
      'the default ServiceAccount of namespace default',
      () => core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }),
      60_000,
    );
  };

  const snapshots = async () => {
    await timed(`${name}/snapshot-crds`, () => installCrds(adminConfig, binaries.snapshotCrdDir));
    await timed(`${name}/snapshot-controller`, async () => {
      const component = supervisor.start(`${name}/snapshot-controller`, binaries.snapshotController, [
        `--kubeconfig=${kubeconfigFor(plane, 'snapshot-controller', pki.snapshotController)}`,
        '--leader-election=false',
        // Its defaults (5 QPS, burst 10) serialise many snapshots; a production
        // install raises them too, and tests measure snapshot concurrency.
        '--kube-api-qps=100',
        '--kube-api-burst=200',
        // Without the group-snapshot CRDs it would first wait 30s for them; Skiff
        // does not use group snapshots.
        '--feature-gates=CSIVolumeGroupSnapshot=false',
      ]);
      await awaitLogLine(component, /Starting snapshot controller/, 60_000);
    });
  };

  await Promise.all([timed(`${name}/kube-controller-manager`, controllerManager), snapshots()]);
}
