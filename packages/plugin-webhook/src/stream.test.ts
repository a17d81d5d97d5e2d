// Streamed answers (`HttpResponse.stream`): pieces reach the client as they are yielded, masked
// like any answer, and a client that leaves stops the iteration.
import { request } from 'node:http';
import { memoryLogger } from '@agentd/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentdHttpServer } from './server.js';
import { until } from './test-support.js';

const servers: AgentdHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(stream: () => AsyncIterable<string>) {
  const server = new AgentdHttpServer(
    {
      host: '127.0.0.1',
      port: 0,
      bodyLimitBytes: 1024,
      headersTimeoutMs: 2000,
      requestTimeoutMs: 4000,
      keepAliveTimeoutMs: 1000,
      mask: (text) => text.replaceAll('s3cret', '***'),
    },
    memoryLogger().logger,
  );
  servers.push(server);
  server.route({
    method: 'GET',
    path: '/stream',
    handler: () => ({ headers: { 'content-type': 'text/event-stream' }, stream: stream() }),
  });
  return (await server.listen()).url;
}

describe('streamed answers', () => {
  it('sends each piece as it is yielded, masked', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const url = await serve(async function* () {
      yield 'data: first\n\n';
      await gate;
      yield 'data: the s3cret\n\n';
    });
    const pieces: string[] = [];
    const done = new Promise<number>((ok, fail) => {
      request(`${url}/stream`, (res) => {
        res.setEncoding('utf8');
        res.on('data', (d: string) => pieces.push(d));
        res.on('end', () => ok(res.statusCode ?? 0));
      })
        .on('error', fail)
        .end();
    });
    // The first piece arrives while the stream is still open.
    await until(() => pieces.join('').includes('data: first'));
    release();
    expect(await done).toBe(200);
    expect(pieces.join('')).toBe('data: first\n\ndata: the ***\n\n');
  });

  it('stops iterating when the client goes away', async () => {
    let finished = false;
    const url = await serve(async function* () {
      try {
        for (;;) {
          yield 'tick\n';
          await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        finished = true;
      }
    });
    await new Promise<void>((ok) => {
      const req = request(`${url}/stream`, (res) => {
        res.once('data', () => {
          req.destroy();
          ok();
        });
      });
      req.on('error', () => {});
      req.end();
    });
    await until(() => finished, 3000);
  });
});
