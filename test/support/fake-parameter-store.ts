import { createServer, type Server } from 'node:http';

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
  const fake: FakeParameterStore = {
    endpoint: '',
    parameters: new Map(Object.entries(parameters)),
    denied: new Set(),
    requests: [],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const answer = (status: number, body: object) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(body));
      };
      if (request.method !== 'POST' || request.headers['x-amz-target'] !== 'AmazonSSM.GetParameter') {
        return answer(400, { __type: 'UnknownOperationException', message: 'only GetParameter is served here' });
      }
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Name: string; WithDecryption?: boolean };
      fake.requests.push(input);
      if (fake.denied.has(input.Name)) {
        return answer(400, { __type: 'AccessDeniedException', message: `not authorized to perform ssm:GetParameter on ${input.Name}` });
      }
      const value = fake.parameters.get(input.Name);
      if (value === undefined) return answer(400, { __type: 'ParameterNotFound', message: '' });
      answer(200, {
        Parameter: {
          Name: input.Name,
          Type: 'SecureString',
          // An undecrypted SecureString comes back as its ciphertext.
          Value: input.WithDecryption ? value : Buffer.from(`encrypted:${value}`).toString('base64'),
          Version: 1,
          ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${input.Name}`,
          DataType: 'text',
          LastModifiedDate: Date.now() / 1000,
        },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return fake;
}
