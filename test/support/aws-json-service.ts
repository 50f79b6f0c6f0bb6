import { createServer, type Server } from 'node:http';

/** An answer of a stand-in operation: HTTP status and JSON body (`__type` names an error). */
export interface AwsJsonAnswer {
  status: number;
  body: object;
}

/** A stand-in AWS service listening on 127.0.0.1. */
export interface AwsJsonService {
  /** `http://127.0.0.1:<port>`, for an SDK client's `endpoint` or an AWS_ENDPOINT_URL_* variable. */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * Serves one operation of an AWS service in its JSON protocol (POST with `X-Amz-Target:
 * <target>`, e.g. `AmazonSSM.GetParameter`): each request's JSON input goes to `handle`,
 * whose answer is sent back; any other request is the service's UnknownOperation. It
 * checks no signature. The shared ground of the Secrets Manager and SSM stand-ins.
 */
export async function serveAwsJsonOperation(target: string, handle: (input: unknown) => AwsJsonAnswer): Promise<AwsJsonService> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { status, body } =
        request.method === 'POST' && request.headers['x-amz-target'] === target
          ? handle(JSON.parse(Buffer.concat(chunks).toString('utf8')))
          : { status: 400, body: { __type: 'UnknownOperationException', message: `only ${target} is served here` } };
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
