import { S3Client } from '@aws-sdk/client-s3';
import type { BedState } from './state';

/**
 * An S3 client of the bed's MinIO, as tests and the bench reach it directly: path-style
 * addressing, since the endpoint is an IP address, and checksums only where the protocol
 * requires them (S3-compatible servers differ on the SDK's newer defaults).
 */
export function minioClient(minio: BedState['minio']): S3Client {
  return new S3Client({
    endpoint: minio.endpoint,
    region: minio.region,
    credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
