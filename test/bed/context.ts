import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import type { LedgerState } from './simulator/ledger';
import { minioClient } from './minio-client';
import { readBedState, type BedState, type ClusterState } from './state';

/**
 * Helpers for integration tests: reaching the clusters, MinIO and the storage
 * simulator of the shared test bed, and isolating each test in its own namespace or
 * bucket so tests can run in parallel against the one bed.
 */

export { waitFor, type WaitOptions } from './wait';

let cached: { path: string; state: BedState } | undefined;

export function bedState(): BedState {
  const path = process.env.SKIFF_BED_STATE ?? inject('skiffBedState');
  if (!path) throw new Error('SKIFF_BED_STATE is not set: run integration tests with `vitest --project integration`');
  if (cached?.path !== path) cached = { path, state: readBedState(path) };
  return cached.state;
}

export function clusterState(cluster: string): ClusterState {
  const state = bedState().clusters[cluster];
  if (!state) {
    throw new Error(`the test bed has no cluster "${cluster}" (it has ${Object.keys(bedState().clusters).join(', ')})`);
  }
  return state;
}

/**
 * Who the client acts as: `admin` uses the admin client certificate (the kubeconfig
 * file), `admin-token` the admin bearer token, `limited` the bearer token of a user
 * with no grants, for testing RBAC and least privilege.
 */
export type Identity = 'admin' | 'admin-token' | 'limited';

export function kubeConfigFor(cluster: string, identity: Identity = 'admin'): KubeConfig {
  const state = clusterState(cluster);
  const kubeConfig = new KubeConfig();
  if (identity === 'admin') {
    kubeConfig.loadFromFile(state.adminKubeconfigPath);
    return kubeConfig;
  }
  kubeConfig.loadFromClusterAndUser(
    { name: state.name, server: state.server, caData: state.caData, skipTLSVerify: false },
    identity === 'admin-token'
      ? { name: 'skiff-bed-admin-token', token: state.adminToken }
      : { name: state.limitedUser, token: state.limitedToken },
  );
  return kubeConfig;
}

/**
 * `<prefix>-<random>`, lowercased and cut to what Kubernetes names (DNS-1123
 * labels) and S3 bucket names both accept.
 */
export function uniqueName(prefix: string, maxLength = 63): string {
  const suffix = randomBytes(4).toString('hex');
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxLength - suffix.length - 1)
    .replace(/-+$/, '');
  return clean ? `${clean}-${suffix}` : suffix;
}

/**
 * Creates a namespace with a unique name and returns the name. Namespaces are not
 * deleted afterwards: the bed and everything in it is discarded after the run.
 */
export async function freshNamespace(cluster: string, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kubeConfigFor(cluster).makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

/** An S3 client for the bed's MinIO (see minio-client.ts). */
export function s3Client(): S3Client {
  return minioClient(bedState().minio);
}

/** Creates a bucket with a unique name and returns the name. */
export async function freshBucket(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await s3Client().send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/**
 * The storage simulator's ledger: every volume and snapshot the simulated storage
 * holds or held (deleted ones stay, marked `deleted`), and its event log.
 */
export async function ledger(): Promise<LedgerState> {
  const { simulator } = bedState();
  if (!simulator) throw new Error('this test bed runs without the storage simulator (test/bed/simulator/main.ts is missing)');
  const res = await fetch(simulator.ledgerUrl);
  if (!res.ok) throw new Error(`GET ${simulator.ledgerUrl} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as LedgerState;
}
