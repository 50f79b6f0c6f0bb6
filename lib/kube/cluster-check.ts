import type { Clock } from '../core/clock';
import type { KubeClient } from './client';
import { KubeApiError, KubeUnreachableError } from './errors';

/**
 * A live check of one cluster's API server, as `GET /status` reports it: reachable
 * (`GET /version`, which the API server serves to anyone) and the credentials accepted
 * (a SelfSubjectReview, authentication.k8s.io/v1, which any authenticated user may
 * create and which names the user the server took them for; a SelfSubjectAccessReview
 * on servers older than 1.28). What the credentials may do is the readiness report's
 * job (GET /clusters/{name}/readiness).
 */

export interface ClusterCheck {
  phase: 'Available' | 'Unavailable';
  /** What is wrong and what to check; absent when Available. */
  message?: string;
  /** The API server's gitVersion, e.g. v1.33.2, once reached. */
  kubernetesVersion?: string;
  /** The user the API server took the credentials for (a name, never a credential). */
  user?: string;
  lastValidationTime: string;
}

/** Longest a check waits for one cluster; /status must answer well within API Gateway's 29 s. */
export const CLUSTER_CHECK_TIMEOUT_MS = 10_000;

const ANONYMOUS = 'system:anonymous';

/**
 * Checks the cluster `connect` reaches. Never throws: a cluster that cannot be reached,
 * refuses the credentials, or does not answer within CLUSTER_CHECK_TIMEOUT_MS is
 * Unavailable with a message (the API server's words and the server URL, never a
 * credential). Closes the client it was given.
 */
export async function checkCluster(connect: () => Promise<KubeClient>, clock: Clock): Promise<ClusterCheck> {
  const lastValidationTime = clock.now().toISOString();
  let client: KubeClient | undefined;
  const probe = async (): Promise<ClusterCheck> => {
    client = await connect();
    const version = await client.request<{ gitVersion?: string }>({ path: '/version', maxAttempts: 2 });
    const kubernetesVersion = version?.gitVersion;
    const user = await reviewedUser(client);
    if (user === ANONYMOUS) {
      return {
        phase: 'Unavailable',
        message: `the API server took the credentials for ${ANONYMOUS}: they were not sent or not recognised; check the cluster's auth`,
        ...(kubernetesVersion ? { kubernetesVersion } : {}),
        lastValidationTime,
      };
    }
    return { phase: 'Available', ...(kubernetesVersion ? { kubernetesVersion } : {}), ...(user ? { user } : {}), lastValidationTime };
  };
  const timeout = clock.sleep(CLUSTER_CHECK_TIMEOUT_MS).then(
    (): ClusterCheck => ({
      phase: 'Unavailable',
      message: `the API server did not answer within ${CLUSTER_CHECK_TIMEOUT_MS / 1000} s; check the cluster's server URL and that the network allows the connection`,
      lastValidationTime,
    }),
  );
  try {
    return await Promise.race([probe(), timeout]);
  } catch (error) {
    return { phase: 'Unavailable', message: unavailableMessage(error), lastValidationTime };
  } finally {
    (client as KubeClient | undefined)?.close();
  }
}

/** The user name the API server authenticated the client as; undefined when the server does not say. */
async function reviewedUser(client: KubeClient): Promise<string | undefined> {
  try {
    const review = await client.create<{ status?: { userInfo?: { username?: string } } }>('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    return review?.status?.userInfo?.username;
  } catch (error) {
    if (!(error instanceof KubeApiError && error.code === 404)) throw error;
  }
  // Before Kubernetes 1.28: any authenticated user may ask an access review; a 401 refuses the credentials.
  await client.create('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { verb: 'get', resource: 'namespaces' } },
  });
  return undefined;
}

function unavailableMessage(error: unknown): string {
  if (error instanceof KubeUnreachableError) return `${error.message}; check the cluster's server URL, CA and network access`;
  if (error instanceof KubeApiError && error.code === 401) {
    return `${error.message}; the API server refused the credentials: check the cluster's auth (token, client certificate or kubeconfig)`;
  }
  if (error instanceof KubeApiError && error.code === 403) {
    return `${error.message}; the credentials may not even ask who they are: check the cluster's auth and its RBAC`;
  }
  return error instanceof Error ? error.message : String(error);
}
