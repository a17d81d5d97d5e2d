import { createServer } from 'node:net';

/** A TCP port that was free on 127.0.0.1 a moment ago (for a child host's HTTP server). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}
