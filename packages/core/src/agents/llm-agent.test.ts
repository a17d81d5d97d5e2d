import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRunContext } from '../contracts/agent.js';
import type { HistoryEntry } from '../contracts/session.js';
import type { Task } from '../contracts/task.js';
import { ErrorClassifier } from '../failover/classifier.js';
import { systemClock } from '../kernel/system-clock.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { llmAgent } from './llm-agent.js';

type Handler = (
  req: IncomingMessage,
  body: { model: string; messages: { role: string; content: string }[] },
  res: ServerResponse,
) => void;
let handler: Handler = () => {};
let server: Server;
let baseUrl: string;
const seen: { auth?: string; body: unknown }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const body = JSON.parse(raw);
      seen.push({ auth: req.headers.authorization, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const json = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const answer = (content: string | null, finish = 'stop', extra: object = {}) => ({
  choices: [{ message: { role: 'assistant', content, ...extra }, finish_reason: finish }],
  usage: { prompt_tokens: 12, completion_tokens: 5 },
});

const task = { id: 't', metadata: {} } as unknown as Task;
const ctx = (history: HistoryEntry[] = []): AgentRunContext => ({
  task,
  signal: new AbortController().signal,
  logger: memoryLogger().logger,
  clock: systemClock,
  session: { persona: 'pirate' } as AgentRunContext['session'],
  history: async () => history,
});
const classify = new ErrorClassifier();
const agentFor = (timeoutMs = 2000) =>
  llmAgent({
    name: 'gpt',
    baseUrl,
    apiKey: 'sk-test',
    model: 'm1',
    system: 'Be brief.',
    timeoutMs,
    price: { inputPerMTokUsd: 1_000_000, outputPerMTokUsd: 2_000_000 },
  });
const failureOf = async (h: Handler, timeoutMs?: number) => {
  handler = h;
  const err = await agentFor(timeoutMs)
    .run('hi', ctx())
    .catch((e: unknown) => e);
  return classify.classify(err);
};

describe('llm agent against a fake OpenAI-compatible server', () => {
  it('sends system prompt, persona, history and input; returns the answer and usage', async () => {
    handler = (_req, _body, res) => json(res, 200, answer('Arr, hello.'));
    const history: HistoryEntry[] = [
      { role: 'user', content: 'earlier', at: 1 },
      { role: 'assistant', content: 'reply', at: 2 },
    ];
    const result = await agentFor().run('hi', ctx(history));
    expect(result).toEqual({
      output: 'Arr, hello.',
      usage: { model: 'm1', inputTokens: 12, outputTokens: 5, costUsd: 22 },
    });
    const last = seen.at(-1)!;
    expect(last.auth).toBe('Bearer sk-test');
    expect(last.body).toMatchObject({
      model: 'm1',
      messages: [
        { role: 'system', content: 'Be brief.\n\nPersona: pirate' },
        { role: 'user', content: 'earlier' },
        { role: 'assistant', content: 'reply' },
        { role: 'user', content: 'hi' },
      ],
    });
  });

  it('429 with Retry-After is a rate limit that carries the wait', async () => {
    expect(
      await failureOf((_q, _b, res) =>
        json(res, 429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '7' }),
      ),
    ).toMatchObject({
      class: 'rate_limit',
      action: 'failover',
      retryAfterMs: 7000,
    });
  });

  it('401 is an auth error (give up)', async () => {
    expect(
      await failureOf((_q, _b, res) =>
        json(res, 401, { error: { message: 'Incorrect API key provided' } }),
      ),
    ).toMatchObject({
      class: 'auth',
      action: 'give_up',
    });
  });

  it('500 is an API error (retry)', async () => {
    expect(
      await failureOf((_q, _b, res) => json(res, 500, { error: { message: 'internal' } })),
    ).toMatchObject({ class: 'api_error', action: 'retry' });
  });

  it('a request that takes too long is a timeout', async () => {
    expect(
      await failureOf((_q, _b, res) => setTimeout(() => json(res, 200, answer('late')), 500), 100),
    ).toMatchObject({ class: 'timeout' });
  });

  it('content-filter refusals give up: finish_reason, refusal field, and a 400 content_filter error', async () => {
    expect(
      await failureOf((_q, _b, res) => json(res, 200, answer(null, 'content_filter'))),
    ).toMatchObject({ class: 'content_filter', action: 'give_up' });
    expect(
      await failureOf((_q, _b, res) =>
        json(res, 200, answer(null, 'stop', { refusal: 'I cannot help with that.' })),
      ),
    ).toMatchObject({ class: 'content_filter' });
    expect(
      await failureOf((_q, _b, res) =>
        json(res, 400, { error: { message: 'The response was filtered', code: 'content_filter' } }),
      ),
    ).toMatchObject({ class: 'content_filter' });
  });

  it('an empty answer is an empty result (fail over)', async () => {
    expect(await failureOf((_q, _b, res) => json(res, 200, answer('  ')))).toMatchObject({
      class: 'empty_result',
      action: 'failover',
    });
  });

  it('a server that is down is an API error', async () => {
    const down = llmAgent({ name: 'x', baseUrl: 'http://127.0.0.1:1/v1', model: 'm' });
    const err = await down.run('hi', ctx()).catch((e: unknown) => e);
    expect(classify.classify(err)).toMatchObject({ class: 'api_error' });
  });
});
