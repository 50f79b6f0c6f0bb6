import { defineConfig } from 'vitest/config';

// Unit tests are pure and fast. Integration tests share one test bed (two real
// clusters, the snapshot controller, the storage simulator and MinIO) started once
// per run by the global setup; each test file works in its own namespaces and bucket.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/bed/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores: the bed itself needs one.
          maxWorkers: 2,
        },
      },
    ],
  },
});
