import type { ServerResponse } from 'node:http';
import type { HttpResponse } from '@agentd/core';

/**
 * Writes a streamed answer (`HttpResponse.stream`: Server-Sent Events, a long export) chunk by
 * chunk, waiting for the socket to drain when it is full, so a slow client costs memory for one
 * chunk, not for everything produced. Iteration stops (the iterable's `return` runs) when the
 * client goes away or `stop` is called (the server drains), so the producer frees what it holds.
 *
 * @param mask applied to string chunks: nothing secret leaves in an answer.
 * @returns `stop`, which ends the answer early.
 *
 * @example
 * ```ts
 * const stop = sendStream(res, { status: 200, stream: ticks() }, headers, (s) => s);
 * ```
 */
export function sendStream(
  res: ServerResponse,
  answer: HttpResponse & { stream: AsyncIterable<string | Uint8Array> },
  headers: Record<string, string | number | string[]>,
  mask: ((text: string) => string) | undefined,
): () => void {
  const iterator = answer.stream[Symbol.asyncIterator]();
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    void iterator.return?.()?.catch(() => undefined);
    if (!res.writableEnded) res.end();
  };
  res.once('close', stop);
  res.writeHead(answer.status ?? 200, { 'cache-control': 'no-store', ...headers });
  res.flushHeaders();
  void (async () => {
    try {
      while (!stopped) {
        const next = await iterator.next();
        if (next.done || stopped) break;
        const chunk = typeof next.value === 'string' && mask ? mask(next.value) : next.value;
        if (!res.write(chunk)) {
          await new Promise<void>((resolve) => {
            res.once('drain', resolve);
            res.once('close', resolve);
          });
        }
      }
    } catch {
      // A producer that throws ends its answer; the headers are gone, so no error answer.
    } finally {
      stop();
    }
  })();
  return stop;
}
