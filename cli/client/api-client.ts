import { Readable } from 'node:stream';
import { SkiffError, type FieldIssue } from '../../lib/core/errors';

/**
 * An answer of the Skiff API that is not a success, as a SkiffError with the HTTP status
 * (so the CLI exits 2 for the caller's mistakes, 1 for failures) and the server's
 * message and field issues.
 */
export class ApiError extends SkiffError {
  constructor(
    readonly status: number,
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}

/**
 * The HTTP API of a deployed Skiff (serverless.yml's routes), with a bearer token. Each
 * call is one request; answers are parsed as the functions write them.
 */
export class ApiClient {
  private readonly base: string;

  constructor(
    server: string,
    private readonly token: string,
  ) {
    this.base = server.replace(/\/+$/, '');
  }

  /** A JSON answer. Throws ApiError for a non-2xx answer, and an Error naming the server when it cannot be reached. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request(method, path, body);
    return (await response.json()) as T;
  }

  /** A text answer (logs). */
  async text(path: string): Promise<string> {
    return (await this.request('GET', path)).text();
  }

  /** A body from any URL (a presigned S3 URL), as a Node stream; never held whole in memory. */
  static async download(url: string): Promise<Readable> {
    const response = await fetch(url);
    if (!response.ok || !response.body) throw new ApiError(response.status >= 500 ? 502 : response.status, `downloading the tarball failed: HTTP ${response.status}`);
    return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`cannot reach Skiff at ${this.base}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    if (response.ok) return response;
    throw await errorOf(response, `${method} ${path}`);
  }
}

async function errorOf(response: Response, call: string): Promise<ApiError> {
  const text = await response.text();
  let answer: { message?: string; issues?: FieldIssue[] } = {};
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    // Not one of Skiff's answers (a gateway's page): the status says enough.
  }
  if (response.status === 401 || response.status === 403) {
    return new ApiError(response.status, `the server refused the token (HTTP ${response.status}): check SKIFF_TOKEN or the context's token`);
  }
  // The server's message already lists the field issues; they are kept for -o json callers.
  return new ApiError(response.status, answer.message ?? `${call} answered HTTP ${response.status}`, answer.issues ?? []);
}
