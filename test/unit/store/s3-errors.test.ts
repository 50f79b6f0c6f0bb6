import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ConfigError, RemoteError } from '../../../lib/core/errors';
import { isNotFound, isPreconditionFailed, storeError, type StoreTarget } from '../../../lib/store/s3-errors';

const target: StoreTarget = { location: 'primary', bucket: 'backups-bucket', region: 'eu-west-1', endpoint: 'http://10.0.0.5:9000' };

function s3Exception(name: string, status: number, extra: Record<string, unknown> = {}): S3ServiceException {
  const error = new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: `${name} happened` });
  return Object.assign(error, extra);
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.5:9000`), { code });
}

describe('Function: storeError', () => {
  it.each<[string, unknown, RegExp]>([
    ['AccessDenied on a put', s3Exception('AccessDenied', 403), /lack s3:PutObject on bucket "backups-bucket"/],
    ['a wrong secret key', s3Exception('SignatureDoesNotMatch', 403), /refused the credentials of location "primary"/],
    ['a missing bucket', s3Exception('NoSuchBucket', 404), /bucket "backups-bucket" does not exist at endpoint http:\/\/10\.0\.0\.5:9000/],
    ['a wrong region', s3Exception('PermanentRedirect', 301), /not in region "eu-west-1"/],
    ['a refused connection', networkError('ECONNREFUSED'), /ECONNREFUSED.*cannot reach endpoint http:\/\/10\.0\.0\.5:9000/],
    ['throttling', s3Exception('SlowDown', 503), /retry later/],
  ])('explains %s', (_, error, hint) => {
    const wrapped = storeError(target, 'PutObject', 'backups/b/b.tar.gz', error);
    expect(wrapped).toBeInstanceOf(RemoteError);
    expect(wrapped.message).toContain('object store location "primary"');
    expect(wrapped.message).toContain('"backups/b/b.tar.gz" in bucket "backups-bucket"');
    expect(wrapped.message).toMatch(hint);
  });

  it('says that AWS answers 403 for a missing key without s3:ListBucket', () => {
    expect(storeError(target, 'GetObject', 'k', s3Exception('AccessDenied', 403)).message).toContain('s3:ListBucket');
  });

  it('keeps credential fields of the SDK error out of the message and the error', () => {
    const error = s3Exception('SignatureDoesNotMatch', 403, {
      AWSAccessKeyId: 'AKIASECRETKEYID',
      StringToSign: 'AWS4-HMAC-SHA256 signing material',
    });
    const wrapped = storeError(target, 'PutObject', 'k', error);
    expect(JSON.stringify([wrapped.message, { ...wrapped }])).not.toMatch(/AKIASECRETKEYID|signing material/);
    expect(wrapped.cause).toBeUndefined();
  });

  it('passes Skiff errors through unchanged', () => {
    const error = new ConfigError('secret from env:S3_KEY is not set or empty');
    expect(storeError(target, 'GetObject', 'k', error)).toBe(error);
  });
});

describe('Function: isNotFound', () => {
  it.each<[unknown, boolean]>([
    [s3Exception('NoSuchKey', 404), true],
    [s3Exception('NotFound', 404), true],
    [s3Exception('NoSuchBucket', 404), false],
    [s3Exception('AccessDenied', 403), false],
  ])('%s -> %s', (error, expected) => {
    expect(isNotFound(error)).toBe(expected);
  });
});

describe('Function: isPreconditionFailed', () => {
  it.each<[unknown, boolean]>([
    [s3Exception('PreconditionFailed', 412), true],
    [s3Exception('ConditionalRequestConflict', 409), true],
    [s3Exception('AccessDenied', 403), false],
  ])('%s -> %s', (error, expected) => {
    expect(isPreconditionFailed(error)).toBe(expected);
  });
});
