import { AgentdError } from '@agentd/core';
import type pg from 'pg';

/**
 * Runs `fn` with a connection of its own from the pool (a transaction, a session lock), and
 * gives it back. While it is checked out, a connection that breaks (a restarted server, a
 * network cut) emits `error` on the client, which the pool does not listen to then: unheard,
 * that event would end the process. Here it is heard, `fn`'s query rejects instead, and the
 * broken connection is destroyed rather than returned to the pool. So is one after an
 * unexpected error, whose session state (an open transaction, a held lock) is unknown.
 *
 * @example
 * ```ts
 * await withClient(pool, async (client) => {
 *   await client.query('begin');
 *   await client.query('commit');
 * });
 * ```
 */
export async function withClient<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let lost = false;
  const onError = () => {
    lost = true;
  };
  client.on('error', onError);
  let failed = false;
  try {
    return await fn(client);
  } catch (error) {
    failed = !(error instanceof AgentdError);
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(lost || failed);
  }
}

/**
 * Runs `fn` in one transaction on a connection of its own ({@link withClient}): committed when
 * `fn` resolves, rolled back when it throws. A rollback that fails rejects with the driver's
 * error, so `withClient` destroys that connection rather than give the pool one with a
 * transaction still open.
 *
 * @example
 * ```ts
 * await inTransaction(pool, async (client) => {
 *   await client.query('update ...');
 * });
 * ```
 */
export function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query('begin');
    try {
      const result = await fn(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback');
      throw error;
    }
  });
}
