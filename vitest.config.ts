import { defineConfig } from 'vitest/config';

// Unit tests are pure and fast. Integration tests share one test bed (two real
// clusters, the snapshot controller, the storage simulator and MinIO) started once
// per run by the global setup; each test file works in its own namespaces and bucket.
// Deploy tests run the Serverless Framework itself and need no bed.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/bed/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One file at a time: the bed's storage simulator settings (delays,
          // failures) are shared, and on two cores the bed needs one of them.
          maxWorkers: 1,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // The deployment as the Serverless Framework builds it (`serverless package`,
        // `invoke local`, `offline` beside `package`): no test bed, but each file spawns
        // the framework and builds every function, so one file at a time.
        test: {
          name: 'deploy',
          include: ['test/deploy/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          maxWorkers: 1,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
