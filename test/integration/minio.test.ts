import { createHash, randomBytes } from 'node:crypto';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshBucket, s3Client } from '../bed/context';

// The object store behaviour Skiff relies on, checked against the bed's MinIO.
// Each test works in a bucket of its own.

let s3: S3Client;

beforeAll(() => {
  s3 = s3Client();
});

async function putMany(bucket: string, keys: string[]): Promise<void> {
  const queue = [...keys];
  const worker = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

async function getText(bucket: string, key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await res.Body?.transformToString()) ?? '';
}

describe('MinIO', () => {
  it('stores and returns an object', async () => {
    const bucket = await freshBucket('put-get');
    const body = JSON.stringify({ kind: 'Backup', metadata: { name: 'b1' } });
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'backups/b1/velero-backup.json', Body: body, ContentType: 'application/json' }),
    );

    expect(await getText(bucket, 'backups/b1/velero-backup.json')).toBe(body);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'backups/b1/velero-backup.json' }));
    expect(head.ContentLength).toBe(Buffer.byteLength(body));
    expect(head.ContentType).toBe('application/json');
  });

  it('lists page by page with continuation tokens', async () => {
    const bucket = await freshBucket('list-pages');
    const keys = Array.from({ length: 23 }, (_, i) => `backups/b${String(i).padStart(2, '0')}/velero-backup.json`);
    await putMany(bucket, keys);

    const listed: string[] = [];
    const pageSizes: number[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: 'backups/', MaxKeys: 5, ContinuationToken: token }),
      );
      pageSizes.push(page.KeyCount ?? 0);
      listed.push(...(page.Contents ?? []).map((object) => object.Key ?? ''));
      expect(page.IsTruncated).toBe(page.NextContinuationToken !== undefined);
      token = page.NextContinuationToken;
    } while (token);

    expect(pageSizes).toEqual([5, 5, 5, 5, 3]);
    expect(listed).toEqual([...keys].sort());
  });

  it('lists the backups/ folder by delimiter', async () => {
    const bucket = await freshBucket('list-prefixes');
    await putMany(bucket, ['backups/a/velero-backup.json', 'backups/a/a.tar.gz', 'backups/b/velero-backup.json']);

    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'backups/', Delimiter: '/' }));
    expect(page.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['backups/a/', 'backups/b/']);
    expect(page.Contents ?? []).toEqual([]);
  });

  it('uploads a large object in several parts and returns it intact', async () => {
    const bucket = await freshBucket('multipart');
    const partSize = 5 * 1024 * 1024;
    // Three parts, the last one short. Random content: a misplaced or repeated part
    // changes the digest.
    const body = randomBytes(2 * partSize + 123_457);
    const digest = createHash('sha256').update(body).digest('hex');

    const parts = new Set<number>();
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'backups/big/big.tar.gz', Body: body },
      partSize,
      queueSize: 2,
      leavePartsOnError: false,
    });
    upload.on('httpUploadProgress', (progress) => {
      if (progress.part !== undefined) parts.add(progress.part);
    });
    const result = await upload.done();

    expect([...parts].sort()).toEqual([1, 2, 3]);
    // S3 marks the ETag of a multipart object with its part count.
    expect(result.ETag).toMatch(/-3"?$/);
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'backups/big/big.tar.gz' }));
    const returned = Buffer.from((await res.Body?.transformToByteArray()) ?? []);
    expect(returned.length).toBe(body.length);
    expect(createHash('sha256').update(returned).digest('hex')).toBe(digest);
  });

  it('refuses to overwrite an existing object with If-None-Match: *', async () => {
    const bucket = await freshBucket('conditional');
    const key = 'metadata/locks/schedule-daily';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first', IfNoneMatch: '*' }));

    const second = s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'second', IfNoneMatch: '*' }));
    const error = await second.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(S3ServiceException);
    expect((error as S3ServiceException).name).toBe('PreconditionFailed');
    expect((error as S3ServiceException).$metadata.httpStatusCode).toBe(412);
    expect(await getText(bucket, key)).toBe('first');
  });

  it('deletes many keys in one batch, leaving the bucket empty', async () => {
    const bucket = await freshBucket('batch-delete');
    const keys = Array.from({ length: 250 }, (_, i) => `backups/b${i % 10}/object-${i}`);
    await putMany(bucket, keys);

    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: false } }),
    );
    expect(result.Errors ?? []).toEqual([]);
    expect(result.Deleted?.map((d) => d.Key).sort()).toEqual([...keys].sort());

    const after = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(after.KeyCount).toBe(0);
    expect(after.Contents ?? []).toEqual([]);
  });
});
