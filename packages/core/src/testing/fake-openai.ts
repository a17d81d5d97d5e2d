import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One chat completion request the fake server received. */
export interface FakeOpenAIRequest {
  /** The `Authorization` header as sent (`Bearer ...`), if any. */
  authorization: string | undefined;
  body: { model?: string; messages?: { role: string; content: string }[] };
}

/** What a handler answers: an HTTP status and a JSON (or text) body. */
export interface FakeOpenAIAnswer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (timeouts). */
  delayMs?: number;
}

/** A running fake OpenAI-compatible API; see {@link startFakeOpenAI}. */
export interface FakeOpenAI {
  /** Base URL to give `llmAgent` (`http://127.0.0.1:<port>/v1`). */
  readonly baseUrl: string;
  /** Every request so far. */
  readonly requests: FakeOpenAIRequest[];
  /** Replaces how the server answers. */
  respond(handler: (req: FakeOpenAIRequest) => FakeOpenAIAnswer): void;
  close(): Promise<void>;
}

/**
 * A chat completion answer with `content` as the assistant's message.
 *
 * @example
 * ```ts
 * fake.respond(() => completion('hello'));
 * ```
 */
export function completion(content: string | null): FakeOpenAIAnswer {
  return {
    body: {
      choices: [{ message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 2 },
    },
  };
}

/**
 * A fake OpenAI-compatible chat API on 127.0.0.1 (a real HTTP server) for tests: it records
 * each `POST /v1/chat/completions` and answers as told. By default it checks the API key
 * (`apiKey`: a wrong or missing one gets a 401 whose body echoes it, as real providers do) and
 * answers `echo: <last user message>`.
 *
 * @example
 * ```ts
 * const fake = await startFakeOpenAI({ apiKey: 'sk-test-123456' });
 * const writer = llmAgent({ name: 'writer', baseUrl: fake.baseUrl, apiKey: 'sk-test-123456', model: 'm' });
 * // ... run a task, then:
 * expect(fake.requests[0]?.authorization).toBe('Bearer sk-test-123456');
 * await fake.close();
 * ```
 */
export async function startFakeOpenAI(options: { apiKey?: string } = {}): Promise<FakeOpenAI> {
  const requests: FakeOpenAIRequest[] = [];
  let handler = (req: FakeOpenAIRequest): FakeOpenAIAnswer => {
    const given = req.authorization?.replace(/^Bearer /, '');
    if (options.apiKey !== undefined && given !== options.apiKey) {
      return {
        status: 401,
        body: {
          error: {
            message: `Incorrect API key provided: ${given ?? '(none)'}.`,
            type: 'invalid_request_error',
            code: 'invalid_api_key',
          },
        },
      };
    }
    const last = req.body.messages?.at(-1)?.content ?? '';
    return completion(`echo: ${last}`);
  };
  const server = createServer((req, res) => {
    void readBody(req).then(async (text) => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      let body: FakeOpenAIRequest['body'] = {};
      try {
        body = JSON.parse(text) as FakeOpenAIRequest['body'];
      } catch {}
      const request: FakeOpenAIRequest = { authorization: req.headers.authorization, body };
      requests.push(request);
      const answer = handler(request);
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      if (res.destroyed) return;
      const payload =
        typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
      res.writeHead(answer.status ?? 200, {
        'content-type': typeof answer.body === 'string' ? 'text/plain' : 'application/json',
        ...answer.headers,
      });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    respond(next) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      text += d;
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}
