import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * The notification channel of a schema's task queue: every host sharing the schema listens on
 * it. A channel name is an identifier (at most 63 bytes), so a long schema name is hashed.
 *
 * @example
 * ```ts
 * workChannel('agentd'); // 'agentd_work:agentd'
 * ```
 */
export function workChannel(schema: string): string {
  const plain = `agentd_work:${schema}`;
  return Buffer.byteLength(plain) <= 63
    ? plain
    : `agentd_work:${createHash('md5').update(schema).digest('hex')}`;
}

/** An open {@link PostgresTaskStore.onWork} subscription. */
export interface WorkSubscription {
  /** Stops listening and returns the connection to the pool. */
  close(): Promise<void>;
}

/** Options of {@link PostgresTaskStore.onWork}. */
export interface WorkListenerOptions {
  /** Wait before reconnecting after the listening connection broke (default 1 s). */
  retryMs?: number;
  /**
   * Told about a broken listening connection (it reconnects by itself) and about errors the
   * listener threw. Without it they are dropped: the runner's polling still finds the work.
   */
  onError?: (error: Error) => void;
}

/**
 * Holds one pooled connection that LISTENs on `channel` and calls `listener` on each
 * notification. When the connection breaks it reconnects after `retryMs` and calls `listener`
 * once (work may have been enqueued while nobody listened).
 */
export async function listenForWork(
  pool: pg.Pool,
  channel: string,
  listener: () => void,
  options: WorkListenerOptions = {},
): Promise<WorkSubscription> {
  const retryMs = options.retryMs ?? 1_000;
  const report = (error: unknown) => {
    try {
      options.onError?.(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // The error handler itself failed: nothing more to tell.
    }
  };
  const call = () => {
    try {
      listener();
    } catch (error) {
      report(error);
    }
  };
  let client: pg.PoolClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let detach = (): (() => void) => () => {};
  const listenSql = `LISTEN "${channel.replaceAll('"', '""')}"`;

  const onNotification = (message: pg.Notification) => {
    if (message.channel === channel) call();
  };
  // One handler per connection: a late second error from a connection already replaced must
  // not release the new one, nor start a second reconnect loop.
  const connect = async () => {
    const c = await pool.connect();
    let broken = false;
    const onError = (error: Error) => {
      if (broken) return;
      broken = true;
      c.off('notification', onNotification);
      if (client === c) client = undefined;
      c.release(error);
      report(error);
      if (!closed) timer = setTimeout(reconnect, retryMs);
    };
    c.on('notification', onNotification);
    c.on('error', onError);
    try {
      await c.query(listenSql);
    } catch (error) {
      c.off('notification', onNotification);
      if (!broken) {
        broken = true;
        c.release(error as Error);
      }
      // The 'error' handler stays: a destroyed connection may still emit, and unheard that ends
      // the process.
      throw error;
    }
    client = c;
    detach = () => {
      broken = true;
      return () => c.off('error', onError);
    };
  };
  const reconnect = () => {
    timer = undefined;
    if (closed) return;
    connect().then(
      () => {
        if (closed) void release();
        else call();
      },
      (error: unknown) => {
        report(error);
        if (!closed) timer = setTimeout(reconnect, retryMs);
      },
    );
  };
  const release = async () => {
    const c = client;
    client = undefined;
    if (!c) return;
    c.off('notification', onNotification);
    // From here the connection's errors are ours to ignore (its 'error' handler stays attached).
    const stopHearing = detach();
    try {
      await c.query('UNLISTEN *');
      // Back in the pool, the pool hears its errors.
      stopHearing();
      c.release();
    } catch (error) {
      c.release(error as Error);
    }
  };

  await connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await release();
    },
  };
}
