import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Api, HttpError } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { type BotApiFetch, botApiFetch } from './bot-api-fetch.js';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP server on loopback that records each request and answers with `answer`. */
async function serve(answer: (seen: Seen, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = {
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    seen.push(request);
    answer(request, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { seen, root, server };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const open: { server: Server; fetch: BotApiFetch }[] = [];
afterEach(async () => {
  for (const { server, fetch } of open.splice(0)) {
    // A test may have closed its client already.
    await fetch.close().catch(() => undefined);
    server.closeAllConnections();
    server.close();
  }
});

async function setUp(answer: (seen: Seen, res: ServerResponse) => void) {
  const served = await serve(answer);
  const fetch = botApiFetch(4);
  open.push({ server: served.server, fetch });
  return { ...served, fetch };
}

describe('botApiFetch', () => {
  it('sends the method, headers and JSON body grammY gives, and reads the answer whole', async () => {
    const { seen, root, fetch } = await setUp((_, res) =>
      json(res, 200, { ok: true, result: { message_id: 7 } }),
    );
    const response = await fetch(`${root}/bot123:abc/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: 5, text: 'hi' }),
    });
    expect(response.ok).toBe(true);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, result: { message_id: 7 } });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/bot123:abc/sendMessage',
      body: '{"chat_id":5,"text":"hi"}',
    });
    expect(seen[0]?.headers['content-type']).toBe('application/json');
  });

  it("answers an error status as Telegram's JSON with ok false, not as a rejection", async () => {
    const { root, fetch } = await setUp((_, res) =>
      json(res, 429, { ok: false, error_code: 429, parameters: { retry_after: 3 } }),
    );
    const response = await fetch(`${root}/bot1:x/sendMessage`, { method: 'POST', body: '{}' });
    expect(response.ok).toBe(false);
    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ error_code: 429 });
  });

  it('keeps the path of an API root that has one (a local Bot API server behind a prefix)', async () => {
    const { seen, root, fetch } = await setUp((_, res) => json(res, 200, { ok: true }));
    await fetch(`${root}/telegram/api/bot1:x/getMe?x=1`);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/telegram/api/bot1:x/getMe?x=1' });
  });

  it('assembles an answer that arrives in many chunks, multi-byte characters included', async () => {
    const text = 'ä€😀'.repeat(40_000); // about 360 kB, split across reads
    const { root, fetch } = await setUp((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const body = Buffer.from(JSON.stringify({ ok: true, result: text }));
      // Odd-sized writes cut characters in half at the chunk edges.
      for (let at = 0; at < body.length; at += 1_001) res.write(body.subarray(at, at + 1_001));
      res.end();
    });
    const response = await fetch(`${root}/bot1:x/getMe`);
    expect(await response.json()).toEqual({ ok: true, result: text });
  });

  it('streams an upload body (grammY sends files as a multipart stream)', async () => {
    const { seen, root, fetch } = await setUp((_, res) => json(res, 200, { ok: true }));
    const parts = ['--b\r\n', 'content of a file', '\r\n--b--\r\n'];
    await fetch(`${root}/bot1:x/sendDocument`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
      // As grammY builds it: Readable.from over byte chunks (its itrToStream).
      body: Readable.from(
        parts.map((p) => new TextEncoder().encode(p)),
        { objectMode: false },
      ),
    });
    expect(seen[0]?.body).toBe(parts.join(''));
  });

  it('fails with the signal’s reason when the call is aborted in flight, and the pool serves on', async () => {
    const { seen, root, fetch } = await setUp((request, res) => {
      if (request.url?.endsWith('/hang')) return; // never answers
      json(res, 200, { ok: true });
    });
    const controller = new AbortController();
    const call = fetch(`${root}/bot1:x/hang`, { signal: controller.signal });
    await expect.poll(() => seen.length).toBe(1);
    const reason = new Error('grammY timed out');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    const next = await fetch(`${root}/bot1:x/getMe`);
    expect(await next.json()).toEqual({ ok: true });
  });

  it('does not send a call whose signal was aborted before it started', async () => {
    const { seen, root, fetch } = await setUp((_, res) => json(res, 200, { ok: true }));
    const reason = new Error('stopped');
    await expect(fetch(`${root}/bot1:x/getMe`, { signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
    await fetch(`${root}/bot1:x/getMe`);
    expect(seen.map((s) => s.url)).toEqual(['/bot1:x/getMe']);
  });

  it('rejects with the connection error when nothing listens, and after close', async () => {
    const { server, root, fetch } = await setUp((_, res) => json(res, 200, { ok: true }));
    server.close();
    await once(server, 'close');
    await expect(fetch(`${root}/bot1:x/getMe`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await fetch.close();
    await expect(fetch(`${root}/bot1:x/getMe`)).rejects.toThrow(/client is (closed|destroyed)/i);
  });

  it("serves grammY's Api, whose timeout ends a call the server never answers", async () => {
    const { root, fetch } = await setUp((request, res) => {
      if (request.url?.endsWith('/getMe')) {
        json(res, 200, { ok: true, result: { id: 1, is_bot: true, first_name: 'b' } });
      }
    });
    const api = new Api('1:x', { apiRoot: root, fetch: fetch as never, timeoutSeconds: 1 });
    expect(await api.getMe()).toMatchObject({ id: 1, is_bot: true });
    const started = Date.now();
    await expect(api.sendMessage(5, 'hi')).rejects.toBeInstanceOf(HttpError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
