import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ConflictError, NotFoundError, ValidationError, type FieldIssue } from '../core/errors';
import { MAX_PARTS, MIN_PART_SIZE } from './limits';
import {
  isNoSuchUpload,
  isPreconditionFailed,
  readOnlyError,
  storeError,
  unexpectedAnswer,
  type S3Operation,
  type StoreTarget,
} from './s3-errors';

/**
 * Resumable multipart uploads: a tarball larger than one Lambda invocation can write is
 * uploaded part by part, and the small, serialisable MultipartState (upload id and the
 * parts done) lets a later invocation carry on where a timed-out one stopped.
 *
 * Parts may be uploaded again under the same number (the last upload wins), and only
 * the parts passed to `complete` end up in the object, so a resumed writer that
 * restarts from its last checkpoint simply overwrites whatever the lost invocation
 * uploaded after it.
 */

/** One uploaded part; `size` lets `complete` check S3's minimum before S3 refuses. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
}

/** What a later invocation needs to continue an upload. Plain JSON. */
export interface MultipartState {
  key: string;
  uploadId: string;
  parts: UploadedPart[];
}

/**
 * Problems that make `parts` unusable for CompleteMultipartUpload: numbers out of range
 * or repeated, or a part other than the last below S3's minimum size (S3 would refuse
 * the whole upload with EntityTooSmall only at completion).
 */
export function partListIssues(parts: readonly UploadedPart[], minPartSize = MIN_PART_SIZE): FieldIssue[] {
  if (parts.length === 0) return [{ path: 'parts', message: 'an upload needs at least one part' }];
  const issues: FieldIssue[] = [];
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  sorted.forEach((part, i) => {
    if (!Number.isInteger(part.partNumber) || part.partNumber < 1 || part.partNumber > MAX_PARTS) {
      issues.push({ path: `parts.${i}.partNumber`, message: `${part.partNumber} is not a part number from 1 to ${MAX_PARTS}` });
    }
    if (i > 0 && sorted[i - 1]?.partNumber === part.partNumber) {
      issues.push({ path: `parts.${i}.partNumber`, message: `part ${part.partNumber} is listed twice` });
    }
    if (i < sorted.length - 1 && part.size < minPartSize) {
      issues.push({
        path: `parts.${i}.size`,
        message: `part ${part.partNumber} has ${part.size} bytes; every part but the last needs at least ${minPartSize}`,
      });
    }
  });
  return issues;
}

/** Multipart uploads to one storage location. Obtain it from a BackupStore (`store.multipart`). */
export class MultipartUploads {
  constructor(
    private readonly s3: S3Client,
    private readonly target: StoreTarget,
    private readonly writable: boolean,
  ) {}

  private assertWritable(what: string): void {
    if (!this.writable) throw readOnlyError(this.target, what);
  }

  /**
   * Sends one request; an unknown upload id becomes NotFoundError, a lost condition
   * `onConflict()`, anything else a RemoteError naming the key.
   */
  private async call<T>(
    operation: S3Operation,
    key: string,
    uploadId: string | undefined,
    send: () => Promise<T>,
    onConflict?: () => ConflictError,
  ): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (uploadId !== undefined && isNoSuchUpload(error)) {
        throw new NotFoundError(
          'multipart upload',
          `${uploadId} of ${key}`,
          `storage location "${this.target.location}" no longer has it (aborted, completed, or removed by a lifecycle rule for incomplete uploads); start the upload again`,
        );
      }
      if (onConflict && isPreconditionFailed(error)) throw onConflict();
      throw storeError(this.target, operation, key, error);
    }
  }

  /** Starts an upload of `key` and returns its upload id. */
  async startMultipart(key: string, options: { contentType?: string } = {}): Promise<string> {
    this.assertWritable(`start an upload of ${key}`);
    const answer = await this.call('CreateMultipartUpload', key, undefined, () =>
      this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.target.bucket, Key: key, ContentType: options.contentType })),
    );
    if (!answer.UploadId) {
      throw unexpectedAnswer(this.target, 'CreateMultipartUpload', key, 'an UploadId');
    }
    return answer.UploadId;
  }

  /**
   * Uploads one part. Every part but the last must be at least 5 MiB; that is checked
   * by `complete`, since only the caller knows which part is last.
   */
  async uploadPart(key: string, uploadId: string, partNumber: number, bytes: Uint8Array): Promise<UploadedPart> {
    this.assertWritable(`upload a part of ${key}`);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
      throw new ValidationError('multipart upload', [
        {
          path: 'partNumber',
          message: `${partNumber} is not a part number from 1 to ${MAX_PARTS}; with more data than ${MAX_PARTS} parts hold, use larger parts`,
        },
      ]);
    }
    const answer = await this.call('UploadPart', key, uploadId, () =>
      this.s3.send(
        new UploadPartCommand({
          Bucket: this.target.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: bytes,
          ContentLength: bytes.byteLength,
        }),
      ),
    );
    if (!answer.ETag) throw unexpectedAnswer(this.target, 'UploadPart', key, `an ETag for part ${partNumber}`);
    return { partNumber, etag: answer.ETag, size: bytes.byteLength };
  }

  /**
   * Assembles `parts` (in part-number order, whatever order they are given in) into the
   * object. With `ifNoneMatch`, completion fails with ConflictError if the key already
   * exists, so a finished object is never replaced.
   */
  async complete(
    key: string,
    uploadId: string,
    parts: readonly UploadedPart[],
    options: { ifNoneMatch?: boolean } = {},
  ): Promise<{ etag: string | undefined }> {
    this.assertWritable(`complete the upload of ${key}`);
    const issues = partListIssues(parts);
    if (issues.length > 0) throw new ValidationError(`parts of the upload of ${key}`, issues);
    const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    const answer = await this.call(
      'CompleteMultipartUpload',
      key,
      uploadId,
      () =>
        this.s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.target.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: ordered.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
            ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
          }),
        ),
      () =>
        new ConflictError(
          `"${key}" already exists in storage location "${this.target.location}", so the upload was not completed; abort upload ${uploadId} and choose another name`,
        ),
    );
    return { etag: answer.ETag };
  }

  /** Abandons an upload; its parts are deleted and no object appears. Aborting twice is fine. */
  async abort(key: string, uploadId: string): Promise<void> {
    this.assertWritable(`abort the upload of ${key}`);
    try {
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      // Already gone is what aborting wants: a retried abort must not fail.
      if (!isNoSuchUpload(error)) throw storeError(this.target, 'AbortMultipartUpload', key, error);
    }
  }

  /** Every part the store holds for the upload, following pagination to the end. */
  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    do {
      const page = await this.call('ListParts', key, uploadId, () =>
        this.s3.send(
          new ListPartsCommand({ Bucket: this.target.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
        ),
      );
      for (const part of page.Parts ?? []) {
        if (part.PartNumber !== undefined && part.ETag) {
          parts.push({ partNumber: part.PartNumber, etag: part.ETag, size: part.Size ?? 0 });
        }
      }
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
    return parts;
  }
}
