import { memoryLogger } from '@agentd/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentdHttpServer } from './server.js';

const servers: AgentdHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function listen(stream: (signal: AbortSignal, ended: () => void) => AsyncIterable<string>) {
  const state = { ended: 0 };
  const server = new AgentdHttpServer(
    {
      host: '127.0.0.1',
      port: 0,
      bodyLimitBytes: 1024,
      headersTimeoutMs: 2000,
      requestTimeoutMs: 4000,
      keepAliveTimeoutMs: 1000,
      mask: (text) => text.replaceAll('hunter2', '[redacted]'),
    },
    memoryLogger().logger,
  );
  servers.push(server);
  server.route({
    method: 'GET',
    path: '/events',
    handler: (request) => ({
      headers: { 'content-type': 'text/event-stream' },
      stream: stream(request.signal, () => {
        state.ended++;
      }),
    }),
  });
  const { url } = await server.listen();
  return { server, url, state };
}

/** Ticks until the consumer stops it (the iterator's return runs the finally). */
async function* ticks(signal: AbortSignal, ended: () => void): AsyncGenerator<string> {
  try {
    for (let i = 0; !signal.aborted; i++) {
      yield `data: ${i} hunter2\n\n`;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    ended();
  }
}

describe('streamed answers (HttpResponse.stream)', () => {
  it('sends chunks as they come, masked, and stops the producer when the client goes', async () => {
    const { url, state, server } = await listen(ticks);
    const abort = new AbortController();
    const response = await fetch(`${url}/events`, { signal: abort.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('content-length')).toBeNull();
    expect(response.headers.get('cache-control')).toBe('no-store');
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('data: 2')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('data: 0 [redacted]');
    expect(text).not.toContain('hunter2');
    expect(server.inFlight).toBe(1);
    abort.abort();
    await expect.poll(() => state.ended).toBe(1);
    await expect.poll(() => server.inFlight).toBe(0);
  });

  it('ends open streams when the server drains, so a drain does not wait for them', async () => {
    const { url, state, server } = await listen(ticks);
    const response = await fetch(`${url}/events`);
    const reader = response.body!.getReader();
    await reader.read();
    const started = Date.now();
    await server.drain(AbortSignal.timeout(5000));
    expect(Date.now() - started).toBeLessThan(1000);
    await expect.poll(() => state.ended).toBe(1);
    let done = false;
    while (!done) done = (await reader.read()).done;
  });

  it('ends the answer when the producer throws, without an error answer after the headers', async () => {
    const { url } = await listen(async function* broken() {
      yield 'data: first\n\n';
      throw new Error('producer broke');
    });
    const response = await fetch(`${url}/events`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('data: first\n\n');
  });
});
