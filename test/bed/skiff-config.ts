import type { BedState } from './state';

/**
 * A Skiff configuration for the test bed: every bed cluster, with the admin token,
 * backing up to one MinIO bucket. What `npm start` and the end-to-end tests run
 * Skiff with.
 */
export function skiffConfigForBed(state: BedState, options: { bucket: string; apiToken: string; prefix?: string }) {
  return {
    api: { bearerTokens: [options.apiToken] },
    clusters: Object.values(state.clusters).map((cluster) => ({
      name: cluster.name,
      server: cluster.server,
      caData: Buffer.from(cluster.caData, 'base64').toString('utf8'),
      auth: { token: cluster.adminToken },
      storageLocations: ['default'],
    })),
    storageLocations: [
      {
        name: 'default',
        bucket: options.bucket,
        ...(options.prefix ? { prefix: options.prefix } : {}),
        endpoint: state.minio.endpoint,
        region: state.minio.region,
        forcePathStyle: true,
        credentials: { accessKeyId: state.minio.accessKey, secretAccessKey: state.minio.secretKey },
      },
    ],
  };
}
