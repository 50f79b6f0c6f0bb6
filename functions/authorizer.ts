import { authenticateBearer, hasSignatureHeaders, resolveApiCredentials, type ApiCredentials } from '../lib/http/auth';
import { runtime } from '../lib/runtime';

const { config } = runtime();
let credentials: Promise<ApiCredentials> | undefined;

/**
 * The HTTP API's Lambda authorizer (simple responses): lets a valid bearer token
 * through, and a signed webhook call on to the function, which checks the signature
 * (an authorizer never sees the body it would have to verify). The functions check
 * every request again, so this is a first gate, not the only one.
 */
export const handler = async (event: { headers?: Record<string, string | undefined> }) => {
  credentials ??= resolveApiCredentials(config.api);
  const headers = event.headers ?? {};
  if (authenticateBearer(headers, await credentials) || hasSignatureHeaders(headers)) return { isAuthorized: true };
  // API Gateway answers 401 for this exact error (a plain denial would be 403).
  throw new Error('Unauthorized');
};
