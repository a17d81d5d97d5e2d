// The adversarial suite of the HTTP intakes: every category of bad input (malformed, wrong
// type, oversized, deeply nested, control characters, prototype keys, unknown references,
// replays, bad signatures, hostile headers and query strings) against every webhook verifier and
// every API route that takes input. Each case must get a clear 4xx in the JSON error shape,
// change nothing in the store, and leave the host serving someone else's valid request sent at
// the same time and right after. Add a case by adding a row.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  agent,
  createHost,
  type Host,
  HttpServerToken,
  type JsonValue,
  TaskStoreToken,
} from '@agentd/core';
import { memoryLogger } from '@agentd/core/testing';
import { sqlite } from '@agentd/store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhook } from './plugin.js';
import { MAX_JSON_DEPTH } from './server.js';
import {
  hmacHex,
  type RawAnswer,
  rawExchange,
  send,
  signGithub,
  signStandard,
} from './test-support.js';
import { standardWebhooksKey } from './verify.js';
import { WEBHOOK_UNAUTHORIZED_MESSAGE } from './webhooks.js';

const GH_SECRET = 'adversarial-github-secret';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const HMAC_SECRET = 'adversarial-hmac-secret';
const API_TOKEN = 'adversarial-api-token-0123456789';
const BODY_LIMIT = 256 * 1024;

let dir: string;
let host: Host;
let url: string;
const events: unknown[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agentd-adversarial-'));
  host = createHost({
    logger: memoryLogger().logger,
    timeouts: { drainMs: 5000, stopMs: 5000 },
    agents: [agent('triage', () => 'ok'), agent('writer', () => 'ok')],
    // A real scheduler, so the trigger route has something to refuse unknown names against.
    schedules: [{ name: 'yearly', cron: '0 0 1 1 *', task: { input: 'happy new year' } }],
    plugins: [
      sqlite({ path: join(dir, 'agentd.db') }),
      webhook({
        port: 0,
        bodyLimitBytes: BODY_LIMIT,
        api: { token: API_TOKEN },
        routes: [
          { name: 'gh', path: '/hooks/gh', verify: { scheme: 'github', secret: GH_SECRET } },
          { name: 'std', path: '/hooks/std', verify: { scheme: 'standard', secret: WHSEC } },
          {
            name: 'hmac',
            path: '/hooks/hmac',
            verify: { scheme: 'hmac', secret: HMAC_SECRET, timestampHeader: 'x-timestamp' },
          },
          {
            name: 'text',
            path: '/hooks/text',
            verify: { scheme: 'hmac', secret: HMAC_SECRET },
            format: 'text',
            task: { input: 'said: {{ payload }}' },
          },
          {
            name: 'bus',
            path: '/hooks/bus',
            verify: { scheme: 'hmac', secret: HMAC_SECRET, eventHeader: 'x-event' },
            emit: true,
          },
        ],
      }),
    ],
  });
  await host.start();
  host.events.on('webhook.received', (e) => void events.push(e));
  url = host.resolve(HttpServerToken).address!.url;
});

afterAll(async () => {
  await host?.stop('test end');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// --- how each intake is addressed -------------------------------------------------------------

type Route = 'gh' | 'std' | 'hmac' | 'text' | 'bus';
const JSON_ROUTES: readonly Route[] = ['gh', 'std', 'hmac', 'bus'];
const TASK_JSON_ROUTES: readonly Route[] = ['gh', 'std', 'hmac'];
const ALL_ROUTES: readonly Route[] = ['gh', 'std', 'hmac', 'text', 'bus'];

const now = () => Math.floor(Date.now() / 1000);

/** The headers a correct sender of `route` sends with `body`. */
function signedHeaders(
  route: Route,
  body: string | Buffer,
  id: string = randomUUID(),
): Record<string, string> {
  switch (route) {
    case 'gh':
      return {
        'x-hub-signature-256': signGithub(GH_SECRET, body),
        'x-github-delivery': id,
        'x-github-event': 'push',
      };
    case 'std': {
      const ts = now();
      return {
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': signStandard(standardWebhooksKey(WHSEC), id, ts, body),
      };
    }
    case 'hmac': {
      const ts = now();
      return {
        'x-signature': `sha256=${hmacHex(HMAC_SECRET, body, ts)}`,
        'x-timestamp': String(ts),
        'x-delivery-id': id,
      };
    }
    case 'text':
    case 'bus':
      return {
        'x-signature': `sha256=${hmacHex(HMAC_SECRET, body)}`,
        'x-delivery-id': id,
        'x-event': 'thing.happened',
      };
  }
}

/** A correctly signed delivery of `body`, with `headers` added or replacing the signed ones. */
function deliver(
  route: Route,
  body: string | Buffer,
  headers: Record<string, string | string[]> = {},
  path = `/hooks/${route}`,
): Promise<RawAnswer> {
  return send(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signedHeaders(route, body), ...headers },
    body,
  });
}

/** A delivery with the signed headers reworked by `edit` (to break them). */
function tampered(
  route: Route,
  body: string,
  edit: (h: Record<string, string>) => Record<string, string | string[]>,
): Promise<RawAnswer> {
  return send(`${url}/hooks/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...edit(signedHeaders(route, body)) },
    body,
  });
}

function api(
  path: string,
  init: {
    method?: string;
    json?: unknown;
    body?: string | Buffer;
    headers?: Record<string, string | string[]>;
  } = {},
): Promise<RawAnswer> {
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
  return send(`${url}/api/v1${path}`, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${API_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    body,
  });
}

/** Sends `raw` bytes and reads the answer as {@link send} would. */
async function raw(bytes: string): Promise<RawAnswer> {
  const reply = await rawExchange(url, bytes);
  const split = reply.indexOf('\r\n\r\n');
  const text = split === -1 ? '' : reply.slice(split + 4);
  return {
    status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(reply)?.[1] ?? 0),
    headers: {},
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

/** One request with `count` extra headers (node's client sends them all). */
function manyHeaders(path: string, count: number, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { ...extra };
  for (let i = 0; i < count; i++) headers[`x-pad-${i}`] = String(i);
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: <T>() => JSON.parse(text) as T,
        }),
      );
    });
    req.on('error', reject);
    req.end('{}');
  });
}

const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const invalidUtf8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
const oversized = JSON.stringify({ blob: 'x'.repeat(BODY_LIMIT + 1024) });

async function taskCount(): Promise<number> {
  const counts = await host.resolve(TaskStoreToken).counts();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

// --- the table --------------------------------------------------------------------------------

interface BadCase {
  name: string;
  send: () => Promise<RawAnswer>;
  status: number;
  code: string | RegExp;
  /** What the message must say: the reason, so a sender or operator can fix it. */
  message: RegExp | string;
}

// 2,000 headers pass either the count limit or node's 16 KiB limit first, depending on their
// size and how they arrive: both are 431, never a 401 for a header dropped on the way.
const headerFlood = {
  status: 431,
  code: /^(too_many_headers|headers_too_large)$/,
  message: /more than 100 headers|exceed 16 KiB/,
};
const unauthorized = { status: 401, code: 'unauthorized', message: WEBHOOK_UNAUTHORIZED_MESSAGE };
const badJson = { status: 400, code: 'bad_request' };

const webhookCases: BadCase[] = [
  ...JSON_ROUTES.flatMap((r): BadCase[] => [
    {
      name: `${r}: malformed JSON`,
      send: () => deliver(r, '{"a":'),
      ...badJson,
      message: 'the body is not valid JSON',
    },
    { name: `${r}: empty body`, send: () => deliver(r, ''), ...badJson, message: /is empty/ },
    { name: `${r}: only a BOM`, send: () => deliver(r, '\ufeff'), ...badJson, message: /is empty/ },
    {
      name: `${r}: a form-encoded body`,
      send: () =>
        deliver(r, 'payload=%7B%22a%22%3A1%7D', {
          'content-type': 'application/x-www-form-urlencoded',
        }),
      ...badJson,
      message:
        /not valid JSON \(it was sent as application\/x-www-form-urlencoded; send application\/json\)/,
    },
    {
      name: `${r}: a gzip body`,
      send: () => deliver(r, gzipSync('{"a":1}'), { 'content-encoding': 'gzip' }),
      ...badJson,
      message: /Content-Encoding: gzip/,
    },
    {
      name: `${r}: 10,000 levels of nesting in 20 KB`,
      send: () => deliver(r, nested(10_000)),
      ...badJson,
      message: `the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels of arrays and objects (the limit)`,
    },
    {
      name: `${r}: bytes that are not UTF-8`,
      send: () => deliver(r, invalidUtf8),
      ...badJson,
      message: /not valid UTF-8/,
    },
    {
      name: `${r}: a raw control character inside a string`,
      send: () => deliver(r, '{"a":"\u0001"}'),
      ...badJson,
      message: 'the body is not valid JSON',
    },
  ]),
  ...TASK_JSON_ROUTES.map(
    (r): BadCase => ({
      name: `${r}: a number JSON cannot store (1e999)`,
      send: () => deliver(r, '{"n":1e999}'),
      ...badJson,
      message: /payload cannot be stored: .*Infinity/,
    }),
  ),
  {
    name: 'text: a gzip body',
    send: () => deliver('text', gzipSync('hello'), { 'content-encoding': 'gzip' }),
    ...badJson,
    message: /not valid UTF-8 text \(it was sent with Content-Encoding: gzip/,
  },
  {
    name: 'text: bytes that are not UTF-8',
    send: () => deliver('text', invalidUtf8),
    ...badJson,
    message: /not valid UTF-8/,
  },
  ...ALL_ROUTES.flatMap((r): BadCase[] => [
    {
      name: `${r}: a declared body over the cap`,
      send: () => deliver(r, oversized),
      status: 413,
      code: 'payload_too_large',
      message: `the body exceeds ${BODY_LIMIT} bytes`,
    },
    {
      name: `${r}: a chunked body over the cap`,
      send: () =>
        send(`${url}/hooks/${r}`, {
          method: 'POST',
          headers: signedHeaders(r, oversized),
          chunks: [oversized.slice(0, 100_000), oversized.slice(100_000)],
        }),
      status: 413,
      code: 'payload_too_large',
      message: `the body exceeds ${BODY_LIMIT} bytes`,
    },
    {
      name: `${r}: no signature at all`,
      send: () => send(`${url}/hooks/${r}`, { method: 'POST', body: '{}' }),
      ...unauthorized,
    },
    {
      name: `${r}: signed over another body`,
      send: () =>
        send(`${url}/hooks/${r}`, {
          method: 'POST',
          headers: signedHeaders(r, '{"amount":1}'),
          body: '{"amount":1000}',
        }),
      ...unauthorized,
    },
    {
      name: `${r}: 2,000 headers`,
      send: () => manyHeaders(`/hooks/${r}`, 2000, signedHeaders(r, '{}')),
      ...headerFlood,
    },
    {
      name: `${r}: a 20 KB header value`,
      send: () => deliver(r, '{}', { 'x-junk': 'j'.repeat(20_000) }),
      status: 431,
      code: 'headers_too_large',
      message: /exceed 16 KiB/,
    },
  ]),
  // Signatures and timestamps, scheme by scheme.
  {
    name: 'gh: sha1 signature',
    send: () =>
      tampered('gh', '{}', (h) => ({
        ...h,
        'x-hub-signature-256': h['x-hub-signature-256']!.replace('sha256=', 'sha1='),
      })),
    ...unauthorized,
  },
  {
    name: 'gh: truncated signature',
    send: () =>
      tampered('gh', '{}', (h) => ({
        ...h,
        'x-hub-signature-256': h['x-hub-signature-256']!.slice(0, 40),
      })),
    ...unauthorized,
  },
  {
    name: 'gh: signed with another secret',
    send: () =>
      tampered('gh', '{}', (h) => ({ ...h, 'x-hub-signature-256': signGithub('guess', '{}') })),
    ...unauthorized,
  },
  {
    name: 'gh: the signature header twice (a valid one and a forged one)',
    send: () =>
      tampered('gh', '{}', (h) => ({
        ...h,
        'x-hub-signature-256': [h['x-hub-signature-256']!, signGithub('guess', '{}')],
      })),
    ...unauthorized,
  },
  {
    name: 'std: no webhook-id',
    send: () => tampered('std', '{}', ({ 'webhook-id': _, ...h }) => h),
    ...unauthorized,
  },
  {
    name: 'std: no timestamp',
    send: () => tampered('std', '{}', ({ 'webhook-timestamp': _, ...h }) => h),
    ...unauthorized,
  },
  {
    name: 'std: a timestamp that is not a number',
    send: () => tampered('std', '{}', (h) => ({ ...h, 'webhook-timestamp': 'yesterday' })),
    ...unauthorized,
  },
  {
    name: 'std: a timestamp 10 minutes old',
    send: () => {
      const ts = now() - 600;
      return send(`${url}/hooks/std`, {
        method: 'POST',
        headers: {
          'webhook-id': 'old',
          'webhook-timestamp': String(ts),
          'webhook-signature': signStandard(standardWebhooksKey(WHSEC), 'old', ts, '{}'),
        },
        body: '{}',
      });
    },
    ...unauthorized,
  },
  {
    name: 'std: a timestamp 10 minutes ahead',
    send: () => {
      const ts = now() + 600;
      return send(`${url}/hooks/std`, {
        method: 'POST',
        headers: {
          'webhook-id': 'new',
          'webhook-timestamp': String(ts),
          'webhook-signature': signStandard(standardWebhooksKey(WHSEC), 'new', ts, '{}'),
        },
        body: '{}',
      });
    },
    ...unauthorized,
  },
  {
    name: 'std: the timestamp header twice',
    send: () =>
      tampered('std', '{}', (h) => ({
        ...h,
        'webhook-timestamp': [h['webhook-timestamp']!, h['webhook-timestamp']!],
      })),
    ...unauthorized,
  },
  {
    name: 'std: another id than the one signed',
    send: () => tampered('std', '{}', (h) => ({ ...h, 'webhook-id': 'swapped' })),
    ...unauthorized,
  },
  {
    name: 'std: only unknown signature versions',
    send: () =>
      tampered('std', '{}', (h) => ({
        ...h,
        'webhook-signature': h['webhook-signature']!.replace('v1,', 'v1a,'),
      })),
    ...unauthorized,
  },
  {
    name: 'std: signature that is not base64',
    send: () => tampered('std', '{}', (h) => ({ ...h, 'webhook-signature': 'v1,!!!!' })),
    ...unauthorized,
  },
  {
    name: 'hmac: no timestamp',
    send: () => tampered('hmac', '{}', ({ 'x-timestamp': _, ...h }) => h),
    ...unauthorized,
  },
  {
    name: 'hmac: a timestamp that is not the signed one',
    send: () =>
      tampered('hmac', '{}', (h) => ({
        ...h,
        'x-timestamp': String(Number(h['x-timestamp']) - 1),
      })),
    ...unauthorized,
  },
  {
    name: 'hmac: a stale timestamp, correctly signed',
    send: () => {
      const ts = now() - 3600;
      return send(`${url}/hooks/hmac`, {
        method: 'POST',
        headers: {
          'x-signature': `sha256=${hmacHex(HMAC_SECRET, '{}', ts)}`,
          'x-timestamp': String(ts),
        },
        body: '{}',
      });
    },
    ...unauthorized,
  },
  {
    name: 'hmac: base64 where hex is expected',
    send: () =>
      tampered('hmac', '{}', (h) => ({
        ...h,
        'x-signature': `sha256=${Buffer.from(h['x-signature']!.slice(7), 'hex').toString('base64')}`,
      })),
    ...unauthorized,
  },
  {
    name: 'text: a signature without its prefix',
    send: () =>
      tampered('text', 'hi', (h) => ({ ...h, 'x-signature': h['x-signature']!.slice(7) })),
    ...unauthorized,
  },
  {
    name: 'bus: signed with another secret',
    send: () =>
      tampered('bus', '{}', (h) => ({ ...h, 'x-signature': `sha256=${hmacHex('guess', '{}')}` })),
    ...unauthorized,
  },
  // Unknown references and junk in the request line.
  {
    name: 'an unknown webhook path',
    send: () => deliver('std', '{}', {}, '/hooks/nope'),
    status: 404,
    code: 'not_found',
    message: 'no route for /hooks/nope',
  },
  {
    name: 'a webhook path with a trailing slash',
    send: () => deliver('std', '{}', {}, '/hooks/std/'),
    status: 404,
    code: 'not_found',
    message: /no route/,
  },
  {
    name: 'a webhook path in upper case',
    send: () => deliver('std', '{}', {}, '/HOOKS/STD'),
    status: 404,
    code: 'not_found',
    message: /no route/,
  },
  {
    name: 'a dot-dot path to the API',
    send: () =>
      raw('POST /hooks/../api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}'),
    status: 404,
    code: 'not_found',
    message: /no route/,
  },
  {
    name: 'OPTIONS * (asterisk form)',
    send: () => raw('OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    status: 404,
    code: 'not_found',
    message: 'no route for *',
  },
  {
    name: 'GET on a webhook path',
    send: () => send(`${url}/hooks/std`),
    status: 405,
    code: 'method_not_allowed',
    message: 'GET is not allowed on /hooks/std',
  },
  // What node:http itself refuses, answered in the same JSON shape.
  {
    name: 'NUL in a header value',
    send: () =>
      raw(
        'POST /hooks/std HTTP/1.1\r\nHost: x\r\nWebhook-Id: a\u0000b\r\nContent-Length: 2\r\n\r\n{}',
      ),
    status: 400,
    code: 'bad_request',
    message: /malformed HTTP request: Invalid header value char/,
  },
  {
    name: 'a terminal escape in a header value',
    send: () =>
      raw(
        'POST /hooks/std HTTP/1.1\r\nHost: x\r\nX-Title: \u001b]0;pwned\u0007\r\nContent-Length: 2\r\n\r\n{}',
      ),
    status: 400,
    code: 'bad_request',
    message: /malformed HTTP request/,
  },
  {
    name: 'Content-Length and Transfer-Encoding together (smuggling)',
    send: () =>
      raw(
        'POST /hooks/std HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ),
    status: 400,
    code: 'bad_request',
    message: /malformed HTTP request/,
  },
  {
    name: 'two different Content-Lengths',
    send: () =>
      raw(
        'POST /hooks/std HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      ),
    status: 400,
    code: 'bad_request',
    message: /malformed HTTP request/,
  },
  {
    name: 'a negative Content-Length',
    send: () => raw('POST /hooks/std HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}'),
    status: 400,
    code: 'bad_request',
    message: /malformed HTTP request/,
  },
  {
    name: 'an HTTP/0.9 request line',
    send: () => raw('GET /\r\n\r\n'),
    status: 505,
    code: 'http_version_not_supported',
    message: /HTTP\/1\.0 and HTTP\/1\.1/,
  },
  {
    name: 'a CONNECT tunnel request',
    send: () => raw('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'),
    status: 405,
    code: 'method_not_allowed',
    message: /not a proxy/,
  },
  {
    name: 'an HTTP/1.1 request without Host',
    send: () => raw('POST /hooks/std HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}'),
    status: 400,
    code: 'bad_request',
    message: /needs a Host header/,
  },
];

const task = { input: 'summarise the logs' };
const invalidTask = (json: unknown, message: RegExp | string): Omit<BadCase, 'name'> => ({
  send: () => api('/tasks', { json }),
  status: 400,
  code: 'bad_request',
  message,
});

const apiCases: BadCase[] = [
  {
    name: 'POST /tasks: malformed JSON',
    send: () => api('/tasks', { body: '{"input":' }),
    ...badJson,
    message: 'the body is not valid JSON',
  },
  {
    name: 'POST /tasks: empty body',
    send: () => api('/tasks', { method: 'POST' }),
    ...badJson,
    message: /is empty/,
  },
  {
    name: 'POST /tasks: text/plain',
    send: () => api('/tasks', { json: task, headers: { 'content-type': 'text/plain' } }),
    status: 415,
    code: 'unsupported_media_type',
    message: 'the body must be sent as application/json, not text/plain',
  },
  {
    name: 'POST /tasks: a form',
    send: () =>
      api('/tasks', {
        body: 'input=hello',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    status: 415,
    code: 'unsupported_media_type',
    message: /not application\/x-www-form-urlencoded/,
  },
  {
    name: 'POST /tasks: over the cap',
    send: () => api('/tasks', { json: { input: 'x'.repeat(BODY_LIMIT) } }),
    status: 413,
    code: 'payload_too_large',
    message: /exceeds/,
  },
  {
    name: 'POST /tasks: 2,000 levels of nesting',
    send: () => api('/tasks', { body: `{"input":${nested(2000)}}` }),
    ...badJson,
    message: /nested deeper than 100 levels/,
  },
  {
    name: 'POST /tasks: not UTF-8',
    send: () => api('/tasks', { body: invalidUtf8 }),
    ...badJson,
    message: /not valid UTF-8/,
  },
  {
    name: 'POST /tasks: a number JSON cannot hold',
    send: () => api('/tasks', { body: '{"input":1e999}' }),
    ...badJson,
    message: /invalid task: input/,
  },
  { name: 'POST /tasks: an array body', ...invalidTask([task], /invalid task: .*expected object/) },
  { name: 'POST /tasks: a null body', ...invalidTask(null, /invalid task: .*expected object/) },
  {
    name: 'POST /tasks: a string body',
    ...invalidTask('do it', /invalid task: .*expected object/),
  },
  {
    name: 'POST /tasks: neither input nor description',
    ...invalidTask({ priority: 'high' }, /a task needs an input or a description/),
  },
  {
    name: 'POST /tasks: a number as description',
    ...invalidTask({ description: 5 }, /description: .*expected string/),
  },
  {
    name: 'POST /tasks: an unknown priority',
    ...invalidTask({ ...task, priority: 'urgent' }, /priority/),
  },
  { name: 'POST /tasks: priority 9', ...invalidTask({ ...task, priority: 9 }, /priority/) },
  {
    name: 'POST /tasks: maxAttempts as a string',
    ...invalidTask({ ...task, maxAttempts: '3' }, /maxAttempts/),
  },
  {
    name: 'POST /tasks: maxAttempts 0',
    ...invalidTask({ ...task, maxAttempts: 0 }, /maxAttempts/),
  },
  {
    name: 'POST /tasks: maxAttempts 1000',
    ...invalidTask({ ...task, maxAttempts: 1000 }, /maxAttempts/),
  },
  {
    name: 'POST /tasks: runAt "tomorrow"',
    ...invalidTask({ ...task, runAt: 'tomorrow' }, /runAt/),
  },
  { name: 'POST /tasks: a negative runAt', ...invalidTask({ ...task, runAt: -5 }, /runAt/) },
  { name: 'POST /tasks: runAt 1e300', ...invalidTask({ ...task, runAt: 1e300 }, /runAt/) },
  {
    name: 'POST /tasks: metadata as an array',
    ...invalidTask({ ...task, metadata: [1] }, /metadata/),
  },
  {
    name: 'POST /tasks: metadata as a string',
    ...invalidTask({ ...task, metadata: 'x' }, /metadata/),
  },
  {
    name: 'POST /tasks: an unknown field',
    ...invalidTask({ ...task, owner: 'me' }, /Unrecognized key: "owner"/),
  },
  {
    name: 'POST /tasks: a top-level __proto__ field',
    send: () => api('/tasks', { body: '{"input":"x","__proto__":{"admin":true}}' }),
    ...badJson,
    message: /Unrecognized key: "__proto__"/,
  },
  {
    name: 'POST /tasks: an unknown agent',
    ...invalidTask({ ...task, agent: 'nope' }, 'unknown agent "nope" (known: triage, writer)'),
  },
  {
    name: 'POST /tasks: an agent that is a number',
    ...invalidTask({ ...task, agent: 42 }, /agent: .*expected string/),
  },
  {
    name: 'POST /tasks: NUL in the agent name',
    ...invalidTask(
      { ...task, agent: 'tri\u0000age' },
      /agent: must not contain control characters/,
    ),
  },
  {
    name: 'POST /tasks: a terminal escape in the session key',
    ...invalidTask(
      { ...task, sessionKey: '\u001b[2Jx' },
      /sessionKey: must not contain control characters/,
    ),
  },
  {
    name: 'POST /tasks: a newline in the type',
    ...invalidTask({ ...task, type: 'a\nb' }, /type: must not contain control characters/),
  },
  {
    name: 'POST /tasks: an empty idempotency key',
    ...invalidTask({ ...task, idempotencyKey: '' }, /idempotencyKey/),
  },
  {
    name: 'POST /tasks: a 600-character idempotency key',
    ...invalidTask({ ...task, idempotencyKey: 'k'.repeat(600) }, /idempotencyKey/),
  },
  {
    name: 'POST /tasks: 2,000 headers (not 401)',
    send: () => manyHeaders('/api/v1/tasks', 2000, { authorization: `Bearer ${API_TOKEN}` }),
    ...headerFlood,
  },
  {
    name: 'POST /tasks: a 20 KB header value',
    send: () => api('/tasks', { json: task, headers: { 'x-junk': 'j'.repeat(20_000) } }),
    status: 431,
    code: 'headers_too_large',
    message: /exceed 16 KiB/,
  },
  {
    name: 'POST /tasks: the token in the query string only',
    send: () =>
      send(`${url}/api/v1/tasks?token=${API_TOKEN}`, {
        method: 'POST',
        body: JSON.stringify(task),
      }),
    status: 401,
    code: 'unauthorized',
    message: /missing or invalid credentials/,
  },
  ...[
    ['limit=abc', /limit must be a whole number from 1 to 1000/],
    ['limit=0', /limit must be a whole number/],
    ['limit=1e3', /limit must be a whole number/],
    ['limit=0x10', /limit must be a whole number/],
    ['limit=-1', /limit must be a whole number/],
    ['limit=%', /limit must be a whole number/],
    ['offset=x', /offset must be a whole number/],
    ['status=bogus', /unknown status "bogus"/],
    ['status=pending,,done', /unknown status ""/],
    ['order=sideways', /order must be newest or oldest/],
    ['%zz=%00&limit=%00', /limit must be a whole number/],
  ].map(
    ([query, message]): BadCase => ({
      name: `GET /tasks?${query}`,
      send: () => api(`/tasks?${query}`),
      status: 400,
      code: 'bad_request',
      message: message as RegExp,
    }),
  ),
  {
    name: 'GET /tasks/:id unknown',
    send: () => api('/tasks/t_nope'),
    status: 404,
    code: 'not_found',
    message: 'no task with id t_nope',
  },
  {
    name: 'GET /tasks/:id a broken escape',
    send: () => api('/tasks/%zz'),
    status: 404,
    code: 'not_found',
    message: 'no task with id %zz',
  },
  {
    name: 'GET /tasks/:id an encoded NUL',
    send: () => api('/tasks/%00'),
    status: 404,
    code: 'not_found',
    message: 'no task with id \u0000',
  },
  {
    name: 'POST /tasks/:id/cancel unknown',
    send: () => api('/tasks/t_nope/cancel', { method: 'POST' }),
    status: 404,
    code: 'not_found',
    message: 'no task with id t_nope',
  },
  {
    name: 'GET /sessions?limit=many',
    send: () => api('/sessions?limit=many'),
    status: 400,
    code: 'bad_request',
    message: /limit must be a whole number/,
  },
  {
    name: 'GET /sessions?status=bogus',
    send: () => api('/sessions?status=bogus'),
    status: 400,
    code: 'bad_request',
    message: /unknown status "bogus"/,
  },
  {
    name: 'GET /sessions/:id unknown',
    send: () => api('/sessions/s_nope'),
    status: 404,
    code: 'not_found',
    message: 'no session with id s_nope',
  },
  {
    name: 'GET /sessions/:id/history unknown',
    send: () => api('/sessions/s_nope/history?limit=x'),
    status: 404,
    code: 'not_found',
    message: 'no session with id s_nope',
  },
  {
    name: 'POST /schedules/:name/trigger unknown',
    send: () => api('/schedules/nope/trigger', { method: 'POST' }),
    status: 404,
    code: 'not_found',
    message: 'no schedule named nope',
  },
  {
    name: 'an unknown API route',
    send: () => api('/tasks/t_1/retry', { method: 'POST' }),
    status: 404,
    code: 'not_found',
    message: 'no route for /api/v1/tasks/t_1/retry',
  },
  {
    name: 'DELETE /tasks',
    send: () => api('/tasks', { method: 'DELETE' }),
    status: 405,
    code: 'method_not_allowed',
    message: 'DELETE is not allowed on /api/v1/tasks',
  },
];

// Someone else's valid requests, sent at the same time as each bad one and right after it.
let other = 0;
const validDelivery = () => deliver('std', JSON.stringify({ type: 'other.user', n: ++other }));
const validEnqueue = () =>
  api('/tasks', { json: { input: `other user ${++other}`, agent: 'writer' } });

describe.each([
  ['webhooks', webhookCases],
  ['the HTTP API', apiCases],
])('bad input to %s', (_intake, cases) => {
  it.each(cases)('$name: $status, nothing stored, others served', async (c) => {
    const tasksBefore = await taskCount();
    const eventsBefore = events.length;
    const [bad, during] = await Promise.all([c.send(), validDelivery()]);
    const after = await validEnqueue();

    expect(bad.status).toBe(c.status);
    const body = bad.json<{ error: { code: string; message: string } }>();
    if (typeof c.code === 'string') expect(body.error.code).toBe(c.code);
    else expect(body.error.code).toMatch(c.code);
    if (typeof c.message === 'string') expect(body.error.message).toBe(c.message);
    else expect(body.error.message).toMatch(c.message);

    expect(during.status).toBe(202);
    expect(during.json()).toMatchObject({ duplicate: false });
    expect(after.status).toBe(201);
    // Only the two valid requests left a trace.
    expect(await taskCount()).toBe(tasksBefore + 2);
    expect(events.length).toBe(eventsBefore);
  });
});

// --- replays: recognised, never doubled -------------------------------------------------------

describe('replayed deliveries', () => {
  it.each(ALL_ROUTES)('%s: the same delivery again is acknowledged as a duplicate', async (r) => {
    const body = r === 'text' ? 'disk full' : JSON.stringify({ type: 'replay', route: r });
    const headers = signedHeaders(r, body, `replay-${r}`);
    const first = await deliver(r, body, headers);
    const tasksAfterFirst = await taskCount();
    const eventsAfterFirst = events.length;
    const again = await Promise.all([deliver(r, body, headers), deliver(r, body, headers)]);
    expect(first.status).toBe(202);
    expect(first.json()).toMatchObject({ duplicate: false });
    for (const a of again) {
      expect(a.status).toBe(202);
      expect(a.json()).toEqual(
        r === 'bus' ? { duplicate: true } : { taskId: first.json().taskId, duplicate: true },
      );
    }
    expect(await taskCount()).toBe(tasksAfterFirst);
    expect(events.length).toBe(eventsAfterFirst);
  });

  it('a 5,000-character delivery id is kept short in the key, and its replay recognised', async () => {
    const id = `long-${'x'.repeat(5000)}`;
    const body = '{"type":"long.id"}';
    const headers = signedHeaders('std', body, id);
    const first = await deliver('std', body, headers);
    expect(first.status).toBe(202);
    const before = await taskCount();
    const again = await deliver('std', body, headers);
    expect(again.json()).toEqual({ taskId: first.json().taskId, duplicate: true });
    expect(await taskCount()).toBe(before);
    const stored = await host.resolve(TaskStoreToken).get(first.json<{ taskId: string }>().taskId);
    expect(stored?.idempotencyKey).toMatch(/^webhook:std:sha256:[0-9a-f]{64}$/);
  });

  it('a GitHub delivery without a delivery id is recognised by its body', async () => {
    const body = JSON.stringify({ zen: 'Anything added dilutes everything else.' });
    const headers = { 'x-hub-signature-256': signGithub(GH_SECRET, body) };
    const first = await send(`${url}/hooks/gh`, { method: 'POST', headers, body });
    const before = await taskCount();
    const again = await send(`${url}/hooks/gh`, { method: 'POST', headers, body });
    expect(again.json()).toEqual({ taskId: first.json().taskId, duplicate: true });
    expect(await taskCount()).toBe(before);
  });
});

// --- odd but valid input: taken once, stored exactly as sent ----------------------------------

describe('odd but valid input is kept as plain data', () => {
  const hostile =
    '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":1,' +
    '"text":"a\\u0000b\\u001b]0;title\\u0007 \\u202e","deep":' +
    // Nested so that, wrapped in an API body, it reaches the limit exactly.
    `${'['.repeat(MAX_JSON_DEPTH - 2)}${']'.repeat(MAX_JSON_DEPTH - 2)}}`;

  async function stored(taskId: string) {
    const t = await host.resolve(TaskStoreToken).get(taskId);
    expect(t).toBeDefined();
    return t!;
  }

  function expectSame(actual: JsonValue | undefined, sent: string) {
    // JSON.stringify writes own `__proto__` keys, so equal text means nothing was dropped.
    expect(JSON.stringify(actual)).toBe(JSON.stringify(JSON.parse(sent)));
    expect(Object.hasOwn(actual as object, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(actual)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }

  it.each(TASK_JSON_ROUTES)(
    '%s: prototype keys, control characters and deep nesting',
    async (r) => {
      const answer = await deliver(r, hostile);
      expect(answer.status).toBe(202);
      expectSame((await stored(answer.json<{ taskId: string }>().taskId)).input, hostile);
    },
  );

  it('bus: the emitted payload keeps prototype keys as data', async () => {
    const before = events.length;
    expect((await deliver('bus', hostile)).status).toBe(202);
    expect(events.length).toBe(before + 1);
    expectSame((events.at(-1) as { payload: JsonValue }).payload, hostile);
  });

  it('API: prototype keys in input and metadata are stored as sent', async () => {
    const metadata = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"k":2}';
    const answer = await api('/tasks', { body: `{"input":${hostile},"metadata":${metadata}}` });
    expect(answer.status).toBe(201);
    const t = await stored(answer.json<{ task: { id: string } }>().task.id);
    expectSame(t.input, hostile);
    expectSame(t.metadata, metadata);
    // And the API gives them back the same way.
    const read = await api(`/tasks/${t.id}`);
    const readBack = JSON.parse(read.text).task as { input: JsonValue; metadata: JsonValue };
    expectSame(readBack.input, hostile);
    expectSame(readBack.metadata, metadata);
  });

  it('a junk query string on a webhook path is ignored (it is not signed)', async () => {
    const answer = await deliver('std', '{"type":"q"}', {}, '/hooks/std?%zz=%00&a=b&&=');
    expect(answer.status).toBe(202);
    expect((await stored(answer.json<{ taskId: string }>().taskId)).input).toEqual({ type: 'q' });
  });

  it('text: any UTF-8 text, control characters included, is the payload', async () => {
    const text = 'line 1\nline 2\u0000\u001b[31m red \u{1f600}';
    const answer = await deliver('text', text, { 'content-type': 'text/plain' });
    expect(answer.status).toBe(202);
    expect((await stored(answer.json<{ taskId: string }>().taskId)).input).toBe(`said: ${text}`);
  });
});
