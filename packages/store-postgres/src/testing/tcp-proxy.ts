import { createConnection, createServer, type Socket } from 'node:net';

/** A loopback TCP proxy a test can cut, as a network would. */
export interface TcpProxy {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
  /**
   * Cuts the network: every open connection is reset, and new ones are refused until
   * {@link TcpProxy.heal} (a connect hangs then fails, as to a host that does not answer, when
   * `blackhole` is true; otherwise it is reset at once).
   */
  cut(options?: { blackhole?: boolean }): void;
  /** Lets connections through again. */
  heal(): void;
  /** Connections open through it right now. */
  readonly open: number;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 (a free port) and forwards every connection to `target`, so a test can
 * cut the network between a client and a server it must not stop (the shared PostgreSQL).
 *
 * @example
 * ```ts
 * const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
 * const store = await openPostgresStore({ url: `postgres://postgres@127.0.0.1:${proxy.port}/test` });
 * proxy.cut(); // the store's connections break
 * proxy.heal(); // and it reconnects
 * await proxy.close();
 * ```
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let mode: 'pass' | 'reset' | 'blackhole' = 'pass';
  const held = new Set<Socket>();
  const server = createServer((client) => {
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'blackhole') {
      // Accepted and never answered: the client's connect timeout decides.
      held.add(client);
      client.on('error', () => {});
      client.on('close', () => held.delete(client));
      return;
    }
    const upstream = createConnection(target);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const proxy: TcpProxy = {
    port,
    get open() {
      return pairs.size;
    },
    cut(options = {}) {
      mode = options.blackhole ? 'blackhole' : 'reset';
      for (const [client, upstream] of pairs) {
        client.resetAndDestroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    heal() {
      mode = 'pass';
      for (const socket of held) socket.resetAndDestroy();
      held.clear();
    },
    async close() {
      proxy.cut();
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
