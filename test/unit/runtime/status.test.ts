import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../lib/config';
import { statusReport, type StatusChecks } from '../../../lib/runtime/status';

const secretToken = 'status-test-secret-token';
const secretKey = 'status-test-secret-key';
const config = validateConfig(
  {
    api: { bearerTokens: [secretToken] },
    clusters: [{ name: 'alpha', server: 'https://10.0.0.1:6443', auth: { token: secretToken }, storageLocations: ['default'] }],
    storageLocations: [
      {
        name: 'default',
        bucket: 'backups',
        region: 'us-east-1',
        endpoint: 'https://minio.example:9000',
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secretKey },
      },
    ],
    schedules: [{ name: 'nightly', cluster: 'alpha', schedule: '0 2 * * *', timeZone: 'Europe/Berlin', paused: true }],
  },
  'test',
);
const at = '2026-11-30T12:00:00.000Z';

function checks(cluster: 'Available' | 'Unavailable', location: 'Available' | 'Unavailable'): StatusChecks {
  return {
    cluster: async () => ({ phase: cluster, lastValidationTime: at }),
    location: async () => ({ phase: location, lastValidationTime: at }),
  };
}

describe('Function: statusReport', () => {
  it.each([
    ['Available', 'Available', 'ok'],
    ['Unavailable', 'Available', 'degraded'],
    ['Available', 'Unavailable', 'degraded'],
  ] as const)('with the cluster %s and the location %s, says %s', async (cluster, location, expected) => {
    const report = await statusReport(config, '1.2.3', checks(cluster, location));
    expect(report.status).toBe(expected);
    expect(report.clusters).toEqual([
      { name: 'alpha', server: 'https://10.0.0.1:6443', auth: 'bearer token (inline)', storageLocations: ['default'], phase: cluster, lastValidationTime: at },
    ]);
    expect(report.storageLocations[0]).toMatchObject({ name: 'default', bucket: 'backups', accessMode: 'ReadWrite', phase: location });
  });

  it('lists the schedules and never shows a secret', async () => {
    const report = await statusReport(config, '1.2.3', checks('Available', 'Available'));
    expect(report.schedules).toEqual([{ name: 'nightly', cluster: 'alpha', schedule: '0 2 * * *', timeZone: 'Europe/Berlin', paused: true }]);
    const text = JSON.stringify(report);
    expect(text).not.toContain(secretToken);
    expect(text).not.toContain(secretKey);
  });
});
