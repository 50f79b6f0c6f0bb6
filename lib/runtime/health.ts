import { logger } from '../core/logger';

/** What anonymous `GET /healthz` answers: nothing about the deployment but whether it can work. */
export interface HealthAnswer {
  httpStatus: 200 | 503;
  body: { status: 'ok' | 'not ok' };
}

/**
 * Whether this deployment's configuration loads: `load` is the function's cold-start
 * wiring (`runtime()`), which throws when the configuration is missing or invalid. The
 * answer is only "ok" (200) or "not ok" (503), so an anonymous caller learns nothing of
 * the clusters, buckets or versions; why it is not ok goes to the log, and the details
 * are behind authentication at `GET /status`.
 */
export async function configurationHealth(load: () => unknown): Promise<HealthAnswer> {
  try {
    await load();
    return { httpStatus: 200, body: { status: 'ok' } };
  } catch (error) {
    logger.error('health check: the configuration cannot be used', { error });
    return { httpStatus: 503, body: { status: 'not ok' } };
  }
}
