import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** The repository root: the bed runs repository scripts (build.sh, the simulator). */
export const repoRoot = resolve(import.meta.dirname, '../..');

/** Same default as build.sh, so the binaries and the run records share one place. */
export const cacheDir = process.env.SKIFF_BED_CACHE ?? join(homedir(), '.cache', 'skiff-bed');

/** Records of running beds, at a fixed place so any later run can find leftovers. */
export const runsDir = join(cacheDir, 'run');

/** Parent of the per-run work dirs (certs, data, logs, state). */
export const workRoot = process.env.SKIFF_BED_WORK ?? join(tmpdir(), 'skiff-bed');

export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  snapshotController: string;
  snapshotCrdDir: string;
  minio: string;
}

/**
 * Asks build.sh where the cached programs are (it derives the folders from the
 * pinned versions) without building: the bed must not silently start a 20-minute
 * compile, so a missing binary is an error telling how to build it.
 */
export async function findBinaries(): Promise<Binaries> {
  const { stdout } = await promisify(execFile)('bash', [join(repoRoot, 'test/bed/build.sh'), 'keys']);
  const keys = Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split('=', 2) as [string, string]),
  );
  const kube = keys.SKIFF_BED_KUBE;
  const minio = keys.SKIFF_BED_MINIO;
  if (!kube || !minio) throw new Error(`test/bed/build.sh keys printed no program folders:\n${stdout}`);
  const binaries: Binaries = {
    etcd: join(kube, 'bin/etcd'),
    kubeApiserver: join(kube, 'bin/kube-apiserver'),
    kubeControllerManager: join(kube, 'bin/kube-controller-manager'),
    snapshotController: join(kube, 'bin/snapshot-controller'),
    snapshotCrdDir: join(kube, 'crd'),
    minio: join(minio, 'bin/minio'),
  };
  const missing = Object.values(binaries).filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(
      `test bed programs are not built yet (missing ${missing.join(', ')}).\n` +
        'Build them once with `npm run bed:build` (bash test/bed/build.sh); the first build takes 20-30 minutes.',
    );
  }
  return binaries;
}
