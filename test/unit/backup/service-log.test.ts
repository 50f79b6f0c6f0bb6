import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { BackupProgressRecord } from '../../../lib/backup/progress-record';
import { getBackup, getBackupLog, type BackupServiceDeps } from '../../../lib/backup/service';
import type { SkiffConfig } from '../../../lib/config';
import { NotFoundError, RemoteError, ValidationError } from '../../../lib/core/errors';
import type { BackupStore } from '../../../lib/store/backup-store';
import { objectStoreLayout } from '../../../lib/store/layout';
import { forBackup } from '../../builders';

/** What one storage location holds: progress records, finished backups' metadata, other objects by key. */
interface LocationContents {
  progress?: Record<string, Partial<BackupProgressRecord>>;
  finished?: string[];
  objects?: Record<string, Buffer>;
  /** Every read fails, as a location that cannot be reached. */
  down?: boolean;
}

/** The reads of a BackupStore that looking a backup up uses, over fixed contents. */
function fakeStore(location: string, contents: LocationContents): BackupStore {
  const layout = objectStoreLayout('');
  const read = async <T>(value: () => T): Promise<T> => {
    if (contents.down) throw new RemoteError(`object store location "${location}"`, 'connection refused');
    return value();
  };
  return {
    location,
    layout,
    getProgress: (name: string) => read(() => (contents.progress?.[name] ? { record: contents.progress[name], etag: '"1"' } : undefined)),
    getBackupMetadata: (name: string) =>
      read(() => (contents.finished?.includes(name) ? forBackup('velero', name).phase('Completed').result() : undefined)),
    getObject: (key: string) => read(() => contents.objects?.[key]),
    getJsonVersion: (key: string) =>
      read(() => (contents.objects?.[key] ? { document: JSON.parse(contents.objects[key].toString('utf8')) as unknown, etag: '"1"' } : undefined)),
  } as unknown as BackupStore;
}

function serviceOver(locations: Record<string, LocationContents>): BackupServiceDeps {
  const config = { storageLocations: Object.keys(locations).map((name) => ({ name })) } as unknown as SkiffConfig;
  return { config, storeFor: (name) => fakeStore(name, locations[name]!), now: () => new Date('2026-06-01T10:00:00Z') };
}

const logKey = (backup: string) => objectStoreLayout('').backupLogKey(backup);
const failedRecord = (name: string): Partial<BackupProgressRecord> => ({
  backup: forBackup('velero', name).phase('Failed').result(),
  stage: 'Failed',
  log: ['level=info msg="backup started"', 'level=error msg="backup failed: cannot reach API server"'],
});

const markerKey = (backup: string) => objectStoreLayout('').deletionMarkerKey(backup);
const marker = (backup: string, withCopy: boolean) =>
  Buffer.from(
    JSON.stringify({
      version: 1,
      backup,
      cause: 'expired',
      why: 'expired at 2026-05-01T00:00:00Z',
      since: '2026-05-01T00:01:00Z',
      waitingOn: ['snapshot h1 is the source of cluster beta: PVC shop/data'],
      ...(withCopy ? { storedBackup: forBackup('velero', backup).phase('Completed').result() } : {}),
    }),
  );

describe('Function: getBackup of a backup being deleted', () => {
  it.each([
    { case: 'its objects still there', finished: ['b1'], withCopy: false },
    { case: 'its objects gone, the marker keeping a copy', finished: [], withCopy: true },
  ])('shows phase Deleting with the reason and what it waits on: $case', async ({ finished, withCopy }) => {
    const deps = serviceOver({ default: { finished, objects: { [markerKey('b1')]: marker('b1', withCopy) } } });
    const backup = await getBackup(deps, 'b1');
    expect(backup.status.phase).toBe('Deleting');
    expect(backup.metadata.annotations).toEqual({
      'skiff.io/deletion-reason': 'expired at 2026-05-01T00:00:00Z',
      'skiff.io/deletion-waiting-on': 'snapshot h1 is the source of cluster beta: PVC shop/data',
    });
  });
});

describe('Function: getBackupLog', () => {
  it('reads a running or failed backup from its progress record', async () => {
    const deps = serviceOver({ default: { progress: { b1: failedRecord('b1') } } });
    expect(await getBackupLog(deps, 'b1')).toBe('level=info msg="backup started"\nlevel=error msg="backup failed: cannot reach API server"\n');
  });

  it('reads a finished backup from its gzipped log, in the location that holds it', async () => {
    const deps = serviceOver({
      default: {},
      other: { finished: ['b1'], objects: { [logKey('b1')]: gzipSync('level=info msg="backup completed"\n') } },
    });
    expect(await getBackupLog(deps, 'b1')).toBe('level=info msg="backup completed"\n');
  });

  it('prefers the progress record when a backup also has a stored log, as a finishing one has for a moment', async () => {
    const deps = serviceOver({
      default: { progress: { b1: failedRecord('b1') }, finished: ['b1'], objects: { [logKey('b1')]: gzipSync('stored\n') } },
    });
    expect(await getBackupLog(deps, 'b1')).toContain('backup failed');
  });

  it('answers an unknown backup with the NotFoundError getBackup gives', async () => {
    const deps = serviceOver({ default: {}, other: {} });
    const error = await getBackupLog(deps, 'nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toEqual(await getBackup(deps, 'nope').catch((e: unknown) => e));
  });

  it('refuses a name no backup can have before reading anything', async () => {
    const deps = serviceOver({ default: { down: true } });
    await expect(getBackupLog(deps, '../metadata')).rejects.toBeInstanceOf(ValidationError);
  });

  it('finds a backup past a location that cannot be read, and gives that failure when it is found nowhere', async () => {
    const deps = serviceOver({ broken: { down: true }, default: { progress: { b1: failedRecord('b1') } } });
    expect(await getBackupLog(deps, 'b1')).toContain('backup started');
    await expect(getBackupLog(deps, 'b2')).rejects.toBeInstanceOf(RemoteError);
  });

  it('says which object is missing when a finished backup has no log', async () => {
    const deps = serviceOver({ default: { finished: ['b1'] } });
    await expect(getBackupLog(deps, 'b1')).rejects.toThrow(/log of backup "b1" not found.*backups\/b1\/b1-logs\.gz/);
  });

  it('reports a stored log that is not gzip as the store\'s fault, naming the key', async () => {
    const deps = serviceOver({ default: { finished: ['b1'], objects: { [logKey('b1')]: Buffer.from('plain text') } } });
    const error = await getBackupLog(deps, 'b1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as Error).message).toContain('backups/b1/b1-logs.gz');
  });
});
