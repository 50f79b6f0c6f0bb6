import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
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

/** One HTTP answer, read whole (API answers are small; tarballs go through `download`). */
interface Answer {
  status: number;
  text: string;
}

/**
 * The HTTP API of a deployed Skiff (serverless.yml's routes), with a bearer token. Each
 * call is one request; answers are parsed as the functions write them. Uses node:http(s)
 * rather than fetch: fetch loads its HTTP client (undici) on first use, a good part of
 * a short command's start.
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
    return JSON.parse((await this.request(method, path, body)).text) as T;
  }

  /** A text answer (logs). */
  async text(path: string): Promise<string> {
    return (await this.request('GET', path)).text;
  }

  /** A body from any URL (a presigned S3 URL), as a Node stream; never held whole in memory. */
  static async download(url: string): Promise<Readable> {
    const response = await open(url, 'GET', {});
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      response.resume();
      throw new ApiError(status >= 500 ? 502 : status, `downloading the tarball failed: HTTP ${status}`);
    }
    return response;
  }

  private async request(method: string, path: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    const payload = body !== undefined ? JSON.stringify(body) : undefined;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    let answer: Answer;
    try {
      const response = await open(`${this.base}${path}`, method, headers, payload);
      let text = '';
      response.setEncoding('utf8');
      for await (const chunk of response) text += chunk as string;
      answer = { status: response.statusCode ?? 0, text };
    } catch (error) {
      throw new Error(`cannot reach Skiff at ${this.base}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw errorOf(answer, `${method} ${path}`);
  }
}

async function open(url: string, method: string, headers: Record<string, string>, payload?: string): Promise<IncomingMessage> {
  const target = new URL(url);
  const { request } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(target, { method, headers }, resolve);
    req.on('error', reject);
    req.end(payload);
  });
}

function errorOf(response: Answer, call: string): ApiError {
  let answer: { message?: string; issues?: FieldIssue[] } = {};
  try {
    answer = JSON.parse(response.text) as typeof answer;
  } catch {
    // Not one of Skiff's answers (a gateway's page): the status says enough.
  }
  if (response.status === 401 || response.status === 403) {
    return new ApiError(response.status, `the server refused the token (HTTP ${response.status}): check SKIFF_TOKEN or the context's token`);
  }
  // The server's message already lists the field issues; they are kept for -o json callers.
  return new ApiError(response.status, answer.message ?? `${call} answered HTTP ${response.status}`, answer.issues ?? []);
}
