import middy from '@middy/core';
import { apiCredentialsSource, authenticateBearer, signatureOf } from '../lib/http/auth';
import { runtime } from '../lib/runtime/config';
import { lambdaLogContext } from '../lib/runtime/log-context';

const { config } = runtime();
const credentials = apiCredentialsSource(config.api);

/**
 * The HTTP API's Lambda authorizer (simple responses): lets a valid bearer token
 * through, and a signed webhook call on to the function, which checks the signature
 * (an authorizer never sees the body it would have to verify). The functions check
 * every request again, so this is a first gate, not the only one; they also refuse a
 * signed call with any method but POST (403 with a message saying to use a bearer
 * token), which a denial here could only answer with API Gateway's bare "Forbidden".
 *
 * A request without an Authorization header never gets here: the authorizer's identity
 * source is that header, so API Gateway answers 401 itself. A wrong one is denied (403).
 * When the credentials cannot be read the authorizer fails (500), and the next request
 * reads them again.
 */
export const handler = middy(async (event: { headers?: Record<string, string | undefined> }) => {
  const headers = event.headers ?? {};
  const authorization = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  // Only without an identity source (serverless offline with the header missing); both answer 401.
  if (!authorization) throw new Error('Unauthorized');
  return { isAuthorized: authenticateBearer(headers, await credentials()) || signatureOf(headers) !== undefined };
}).use(lambdaLogContext());
