import { spawn } from 'node:child_process';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from './ports';
import { repoRoot } from './paths';

export interface OfflineStack {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:3000 */
  httpUrl: string;
  /** The local Lambda API (for direct invocations), e.g. http://127.0.0.1:3002 */
  lambdaUrl: string;
  /** Full name of a function as the Lambda API knows it. */
  functionName(short: string): string;
  logFile: string;
  stop(): Promise<void>;
}

/** A client of the stack's local Lambda API, for direct invocations as `serverless invoke` makes them. */
export function offlineLambdaClient(offline: OfflineStack): LambdaClient {
  return new LambdaClient({
    endpoint: offline.lambdaUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * Serves Skiff's functions with `serverless offline` (HTTP API and Lambda invoke API)
 * under the given configuration; the runner function is invoked through the local
 * Lambda API, as on AWS. The scheduler's minute tick is off unless asked for.
 */
export async function startOffline(options: {
  config: unknown;
  logDir: string;
  scheduler?: boolean;
  env?: Record<string, string>;
}): Promise<OfflineStack> {
  const { httpPort, lambdaPort } = await freePorts('httpPort', 'lambdaPort');
  const logFile = join(options.logDir, `serverless-offline-${httpPort}.log`);
  const out = openSync(logFile, 'a');
  const lambdaUrl = `http://127.0.0.1:${lambdaPort}`;
  const child = spawn(join(repoRoot, 'node_modules/.bin/serverless'), ['offline', 'start', '--host', '127.0.0.1'], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      SLS_TELEMETRY_DISABLED: '1',
      SKIFF_CONFIG: JSON.stringify(options.config),
      SKIFF_HTTP_PORT: String(httpPort),
      SKIFF_LAMBDA_PORT: String(lambdaPort),
      SKIFF_LAMBDA_ENDPOINT: lambdaUrl,
      SKIFF_SCHEDULER_ENABLED: options.scheduler ? 'true' : 'false',
      // Local runs use whatever region the SDK would; nothing here reaches AWS.
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ...options.env,
    },
  });
  closeSync(out);
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const killGroup = () => signalGroup('SIGTERM');
  process.once('exit', killGroup);
  let ready = false;
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A stack that dies under a test (an unhandled error in a handler ends serverless
  // offline) otherwise shows only as "fetch failed" in whatever request came next.
  child.once('exit', (code, signal) => {
    if (!ready || stopping) return;
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    console.error(`serverless offline exited unexpectedly (${signal ?? `code ${code}`}); ${logFile} ends with:\n${tail}`);
  });
  const deadline = Date.now() + 180_000;
  while (!readFileSync(logFile, 'utf8').includes('Server ready')) {
    const ended = await Promise.race([exited.then(() => true), sleep(500).then(() => false)]);
    if (ended || Date.now() > deadline) {
      killGroup();
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
      throw new Error(`serverless offline did not start (${ended ? 'it exited' : 'timed out'}); ${logFile}:\n${tail}`);
    }
  }
  ready = true;
  return {
    httpUrl: `http://127.0.0.1:${httpPort}`,
    lambdaUrl,
    functionName: (short) => `skiff-dev-${short}`,
    logFile,
    stop: async () => {
      stopping = true;
      killGroup();
      const gone = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      // Workers busy in a handler can ignore SIGTERM; nothing may outlive the test file.
      if (!gone) signalGroup('SIGKILL');
      process.removeListener('exit', killGroup);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
