import { afterEach, describe, expect, it } from 'vitest';
import { checkCluster } from '../../../lib/kube/cluster-check';
import type { Clock } from '../../../lib/core/clock';
import { answer, closedPortUrl, kubeClientFor, startKubeServer, status, type KubeServer, type KubeServerHandler } from '../../support/kube-server';

/**
 * What GET /status says about one cluster, against a stand-in API server that answers
 * /version and the self reviews the way a real one does in each case.
 */
const NOW = new Date('2026-11-30T12:00:00Z');
/** A clock whose timeout never fires unless the test says so. */
const clock = (timeout: Promise<void> = new Promise(() => undefined)): Clock => ({ now: () => NOW, sleep: () => timeout });

let server: KubeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const version = { gitVersion: 'v1.33.2' };
const handlers: Record<string, KubeServerHandler> = {
  accepted: (r, res) =>
    r.path === '/version'
      ? answer(res, 200, version)
      : answer(res, 201, { kind: 'SelfSubjectReview', status: { userInfo: { username: 'system:serviceaccount:kube-system:skiff' } } }),
  refused: (r, res) => answer(res, 401, status(401, 'Unauthorized', 'Unauthorized')),
  anonymous: (r, res) =>
    r.path === '/version' ? answer(res, 200, version) : answer(res, 201, { kind: 'SelfSubjectReview', status: { userInfo: { username: 'system:anonymous' } } }),
  beforeSelfSubjectReview: (r, res) => {
    if (r.path === '/version') return answer(res, 200, version);
    if (r.path.includes('selfsubjectreviews')) return answer(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    return answer(res, 201, { kind: 'SelfSubjectAccessReview', status: { allowed: false } });
  },
};

describe('Function: checkCluster', () => {
  it.each([
    { case: 'accepted', phase: 'Available', user: 'system:serviceaccount:kube-system:skiff', message: undefined },
    { case: 'refused', phase: 'Unavailable', user: undefined, message: /HTTP 401.*refused the credentials: check the cluster's auth/ },
    { case: 'anonymous', phase: 'Unavailable', user: undefined, message: /took the credentials for system:anonymous/ },
    { case: 'beforeSelfSubjectReview', phase: 'Available', user: undefined, message: undefined },
  ])('reports credentials $case as $phase', async ({ case: name, phase, user, message }) => {
    // Prepare
    server = await startKubeServer(handlers[name]!);

    // Act
    const check = await checkCluster(async () => kubeClientFor(server!.url).client, clock());

    // Assess
    expect(check.phase).toBe(phase);
    expect(check.user).toBe(user);
    if (message) expect(check.message).toMatch(message);
    else expect(check.message).toBeUndefined();
    expect(check.lastValidationTime).toBe(NOW.toISOString());
    if (phase === 'Available') expect(check.kubernetesVersion).toBe('v1.33.2');
  });

  it('reports an API server nobody answers at as Unavailable, naming it', async () => {
    const url = await closedPortUrl();
    const check = await checkCluster(async () => kubeClientFor(url).client, clock());
    expect(check).toMatchObject({ phase: 'Unavailable', message: expect.stringContaining(url.replace('http://', '')) });
    expect(check.message).toMatch(/check the cluster's server URL/);
  });

  it('gives up on a server that does not answer once the timeout fires', async () => {
    // Prepare: a server that never answers; the clock's timeout fires at once.
    server = await startKubeServer(() => undefined);

    // Act
    const check = await checkCluster(async () => kubeClientFor(server!.url).client, clock(Promise.resolve()));

    // Assess
    expect(check).toMatchObject({ phase: 'Unavailable', message: expect.stringMatching(/did not answer within 10 s/) });
  });

  it('reports a cluster whose credentials cannot be resolved as Unavailable', async () => {
    const check = await checkCluster(async () => {
      throw new Error('secret "prod/token" could not be read from Secrets Manager');
    }, clock());
    expect(check).toMatchObject({ phase: 'Unavailable', message: expect.stringContaining('prod/token') });
  });
});
