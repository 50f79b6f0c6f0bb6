import { describe, expect, it } from 'vitest';
import { runServerless } from './serverless';

/**
 * `serverless invoke local -f <fn>` runs a function's ESM bundle here and exits: the
 * framework loads handlers with require() and never looks for `.mjs`, so the local
 * plugin gives it a CommonJS entry.
 */
const CONFIG = { SKIFF_CONFIG_FILE: 'test/deploy/skiff.yaml', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };

describe('serverless invoke local', () => {
  it('answers an HTTP event of healthz and exits', async () => {
    // Act
    const run = await runServerless(['invoke', 'local', '-f', 'healthz', '--data', '{"rawPath":"/healthz","requestContext":{"http":{"method":"GET"}}}'], CONFIG, 120_000);

    // Assess
    expect(run.timedOut, run.output).toBe(false);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/"statusCode": 200/);
  });

  it('passes --data to a direct invocation, with the configuration file shipped beside the bundle', async () => {
    // Act
    const run = await runServerless(['invoke', 'local', '-f', 'readiness', '--data', '{"cluster":"staging"}'], CONFIG, 120_000);

    // Assess
    expect(run.timedOut, run.output).toBe(false);
    expect(run.code, run.output).toBe(0);
    // The cluster list comes from test/deploy/skiff.yaml: the configuration reached the handler.
    expect(run.output).toContain('"message": "cluster \\"staging\\" not found; configured: prod"');
  });
});
