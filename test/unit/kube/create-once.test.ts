import { afterEach, describe, expect, it } from 'vitest';
import { createOnce } from '../../../lib/kube/create-once';
import { KubeAmbiguousWriteError, KubeApiError } from '../../../lib/kube/errors';
import { listAll, type KubeObject } from '../../../lib/kube/list-all';
import { answer, kubeClientFor, startKubeServer, status, type KubeServer } from '../../support/kube-server';

/**
 * What the stand-in server does with one create:
 * - `created`: stores the object and answers 201;
 * - `stored-then-503`: stores it and answers 503, as a proxy does whose upstream was slow;
 * - `stored-then-hang-up`: stores it and closes the connection without answering;
 * - `lost-503`: answers 503 without storing it;
 * - `name-taken`: answers 409 AlreadyExists (the generated name collided), storing nothing;
 * - `forbidden`: answers 403.
 */
type CreateStep = 'created' | 'stored-then-503' | 'stored-then-hang-up' | 'lost-503' | 'name-taken' | 'forbidden';

const COLLECTION = '/api/v1/namespaces/app/configmaps';
const LABEL = 'velero.io/backup-name';
const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'velero-data-', namespace: 'app', labels: { [LABEL]: 'b1' } } };

/**
 * A collection that names created objects from generateName, stores them, and lists
 * them by an equality label selector. Each create takes the next step; `listRefused`
 * makes every list a 403.
 */
async function collectionServer(steps: CreateStep[], options: { listRefused?: boolean } = {}) {
  const stored: KubeObject[] = [];
  let creates = 0;
  const server = await startKubeServer((received, res, req) => {
    if (received.method === 'POST') {
      const step = steps[creates++]!;
      const object = received.body as KubeObject & { metadata: { generateName: string } };
      const name = `${object.metadata.generateName}${creates}`;
      const created = { ...object, metadata: { ...object.metadata, name, uid: `uid-${creates}` } };
      if (step === 'created' || step === 'stored-then-503' || step === 'stored-then-hang-up') stored.push(created);
      if (step === 'created') answer(res, 201, created);
      else if (step === 'stored-then-hang-up') req.socket.destroy();
      else if (step === 'name-taken') answer(res, 409, status(409, 'AlreadyExists', `configmaps "${created.metadata.name}" already exists`));
      else if (step === 'forbidden') answer(res, 403, status(403, 'Forbidden', 'configmaps is forbidden'));
      else answer(res, 503, status(503, 'ServiceUnavailable', 'upstream timed out'));
      return;
    }
    if (options.listRefused) {
      answer(res, 403, status(403, 'Forbidden', 'configmaps is forbidden: cannot list'));
      return;
    }
    const selector = new URL(received.path, 'http://x').searchParams.get('labelSelector') ?? '';
    const [key, value] = selector.split('=');
    const items = stored.filter((o) => !key || o.metadata.labels?.[key] === value);
    answer(res, 200, { apiVersion: 'v1', kind: 'ConfigMapList', metadata: {}, items });
  });
  const posts = () => server.received.filter((r) => r.method === 'POST').length;
  const lists = () => server.received.filter((r) => r.method === 'GET').length;
  return { server, stored, posts, lists };
}

let server: KubeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setUp(steps: CreateStep[], options?: { listRefused?: boolean }) {
  const fake = await collectionServer(steps, options);
  server = fake.server;
  const { client } = kubeClientFor(fake.server.url);
  const find = async () => (await listAll(client, COLLECTION, { labelSelector: `${LABEL}=b1` }))[0];
  return { ...fake, client, find };
}

describe('Function: createOnce', () => {
  it.each<[string, CreateStep[], { name: string; posts: number; lists: number }]>([
    ['created at once', ['created'], { name: 'velero-data-1', posts: 1, lists: 0 }],
    ['stored, but answered 503: found, not created again', ['stored-then-503', 'created'], { name: 'velero-data-1', posts: 1, lists: 1 }],
    ['stored, but the connection closed: found, not created again', ['stored-then-hang-up', 'created'], { name: 'velero-data-1', posts: 1, lists: 1 }],
    ['not stored and answered 503: not found, created again', ['lost-503', 'created'], { name: 'velero-data-2', posts: 2, lists: 1 }],
    ['lost once, then stored but answered 503: found after the second create', ['lost-503', 'stored-then-503'], { name: 'velero-data-2', posts: 2, lists: 2 }],
    ['refused for a generated name that was taken: created again', ['name-taken', 'created'], { name: 'velero-data-2', posts: 2, lists: 0 }],
  ])('answers the one object when it was %s', async (_case, steps, expected) => {
    const { client, find, stored, posts, lists } = await setUp(steps);

    const created = await createOnce<KubeObject>(client, COLLECTION, body, find);

    expect(created.metadata.name).toBe(expected.name);
    expect(stored.map((o) => o.metadata.name)).toEqual([expected.name]);
    expect(posts()).toBe(expected.posts);
    expect(lists()).toBe(expected.lists);
  });

  it('throws KubeAmbiguousWriteError when neither of two ambiguous creates is found', async () => {
    const { client, find, posts, lists } = await setUp(['lost-503', 'lost-503', 'created']);

    const error = await createOnce(client, COLLECTION, body, find).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubeAmbiguousWriteError);
    expect(posts()).toBe(2);
    expect(lists()).toBe(2);
  });

  it('does not create again when the lookup fails, and says the object may exist', async () => {
    const { client, find, posts } = await setUp(['stored-then-503', 'created'], { listRefused: true });

    const error = await createOnce(client, COLLECTION, body, find).catch((e: unknown) => e);

    expect(posts()).toBe(1);
    expect(error).toBeInstanceOf(KubeAmbiguousWriteError);
    expect((error as Error).message).toContain('cannot list');
    expect((error as Error).cause).toMatchObject({ code: 403 });
  });

  it('throws a refused create as it is, without looking', async () => {
    const { client, find, posts, lists } = await setUp(['forbidden']);

    const error = await createOnce(client, COLLECTION, body, find).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).not.toBeInstanceOf(KubeAmbiguousWriteError);
    expect(error).toMatchObject({ code: 403 });
    expect(posts()).toBe(1);
    expect(lists()).toBe(0);
  });
});
