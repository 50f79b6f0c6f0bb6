import { serveAwsJsonOperation } from './aws-json-service';

/**
 * A stand-in for AWS Systems Manager Parameter Store on 127.0.0.1: it answers
 * GetParameter in the service's JSON protocol (POST, `X-Amz-Target:
 * AmazonSSM.GetParameter`) from `parameters`, as SecureStrings, and with
 * AccessDeniedException for the names in `denied`. It checks no signature.
 */
export interface FakeParameterStore {
  /** `http://127.0.0.1:<port>`, for an SDK client's `endpoint` or AWS_ENDPOINT_URL_SSM. */
  endpoint: string;
  /** Parameter values by name. */
  parameters: Map<string, string>;
  /** Names the caller may not read. */
  denied: Set<string>;
  /** Every GetParameter request as it arrived. */
  requests: { Name: string; WithDecryption?: boolean }[];
  close(): Promise<void>;
}

export async function startFakeParameterStore(parameters: Record<string, string>): Promise<FakeParameterStore> {
  const state = { parameters: new Map(Object.entries(parameters)), denied: new Set<string>(), requests: [] as FakeParameterStore['requests'] };
  const service = await serveAwsJsonOperation('AmazonSSM.GetParameter', (body) => {
    const input = body as { Name: string; WithDecryption?: boolean };
    state.requests.push(input);
    if (state.denied.has(input.Name)) {
      return { status: 400, body: { __type: 'AccessDeniedException', message: `not authorized to perform ssm:GetParameter on ${input.Name}` } };
    }
    const value = state.parameters.get(input.Name);
    if (value === undefined) return { status: 400, body: { __type: 'ParameterNotFound', message: '' } };
    const parameter = {
      Name: input.Name,
      Type: 'SecureString',
      // An undecrypted SecureString comes back as its ciphertext.
      Value: input.WithDecryption ? value : Buffer.from(`encrypted:${value}`).toString('base64'),
      Version: 1,
      ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${input.Name}`,
      DataType: 'text',
      LastModifiedDate: Date.now() / 1000,
    };
    return { status: 200, body: { Parameter: parameter } };
  });
  return Object.assign(state, service);
}
