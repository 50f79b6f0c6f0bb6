import type { KubeClient } from './client';
import { KubeAmbiguousWriteError, isAlreadyExists } from './errors';

/** How many times createOnce sends the create at most. */
const MAX_CREATES = 2;

/**
 * Creates an object whose name the API server chooses (`metadata.generateName`)
 * exactly once, though a create may fail without saying whether it was applied.
 *
 * A create with a fixed name is idempotent by name: the second one is refused with
 * 409 AlreadyExists. With generateName it is not: the server appends a fresh random
 * suffix to the prefix for each create (Kubernetes documentation, "Object Names and
 * IDs"; ObjectMeta.generateName), so a create sent again after its answer was lost
 * makes a second object. The client therefore never sends a POST twice on its own
 * (KubeAmbiguousWriteError, retry.ts), and this function, after such a failure, looks
 * for the object with `find` (by the labels `body` gives it) and creates it again only
 * when it is not there. After a second ambiguous failure it looks once more, so that
 * an object created then is not left behind either.
 *
 * A 409 AlreadyExists of a generateName create means the generated name was taken and
 * nothing was created: it is created again too, as Velero does (velero#6807). API
 * servers before 1.31 gave up on the first collision; later ones try several names
 * themselves.
 *
 * What it cannot rule out: a create the server is still applying while `find` looks
 * (an API server that goes on after a proxy in front of it gave up) is not found, and
 * is created again.
 *
 * @param path the collection, e.g. `/apis/snapshot.storage.k8s.io/v1/namespaces/ns/volumesnapshots`.
 * @param body the object to create, with `metadata.generateName` and the labels `find` looks for.
 * @param find looks for an object this create made (a LIST by label selector, say);
 *   undefined when there is none. It must throw, not answer undefined, when it cannot
 *   tell: an unanswered lookup is not "not there".
 * @returns the created object as the server answered it, or the one `find` found.
 * @throws KubeAmbiguousWriteError when the object may exist but `find` did not find it
 *   after the last create, or `find` failed (the lookup's error is then its `cause`).
 * @throws any other error of the create (KubeApiError, KubeUnreachableError) as it is.
 */
export async function createOnce<T>(client: KubeClient, path: string, body: unknown, find: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let ambiguity: KubeAmbiguousWriteError;
    try {
      return await client.create<T>(path, body);
    } catch (error) {
      if (isAlreadyExists(error) && hasGeneratedName(body) && attempt < MAX_CREATES) continue;
      if (!(error instanceof KubeAmbiguousWriteError)) throw error;
      ambiguity = error;
    }
    let found: T | undefined;
    try {
      found = await find();
    } catch (lookupError) {
      throw new KubeAmbiguousWriteError(
        ambiguity.cluster,
        ambiguity.code,
        ambiguity.reason,
        `POST ${path} may have been applied, and looking for what it created failed: ${(lookupError as Error).message}`,
        { cause: lookupError },
      );
    }
    if (found !== undefined) return found;
    if (attempt >= MAX_CREATES) throw ambiguity;
  }
}

function hasGeneratedName(body: unknown): boolean {
  const metadata = (body as { metadata?: { name?: string; generateName?: string } } | undefined)?.metadata;
  return Boolean(metadata?.generateName && !metadata.name);
}
