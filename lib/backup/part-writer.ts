import { TarParts } from '../archive/tar-parts';
import type { PartWriter } from './tarball-stage';

/**
 * The tarball stage's writer: TarParts with part boundaries left to the stage, which
 * closes a part only between objects and right before a checkpoint, so a checkpoint
 * always describes exactly what the uploaded parts hold.
 */
/** S3's largest part (5 GiB): as a size threshold, one that is never reached. */
const LARGEST_PART = 5 * 1024 ** 3;

export function createPartWriter(onPart: (bytes: Buffer) => Promise<void>, firstPartIndex = 0): PartWriter {
  const parts = new TarParts({
    onPart: (bytes) => onPart(bytes),
    // Never closed by size alone: the stage calls flush() at object boundaries.
    partSize: LARGEST_PART,
    firstPartIndex,
  });
  return {
    append: (paths, body) => parts.append(paths, body),
    ready: () => parts.ready(),
    get openBytes() {
      return parts.openMemberBytes;
    },
    flush: () => parts.flush(),
    finish: () => parts.finish(),
  };
}
