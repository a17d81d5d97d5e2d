import { AgentdError } from '@agentd/core';

/**
 * Whether an error means "the server is not there" or "it will not let us in" (a restart, a
 * dropped connection, a network cut, a full pool), not a bad query.
 *
 * @example
 * ```ts
 * isConnectionError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })); // true
 * ```
 */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  return (
    /^(ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE)/.test(code) ||
    code.startsWith('08') || // connection exception
    code === '28P01' || // invalid password
    code === '28000' || // invalid authorization
    code === '3D000' || // no such database
    code === '57P01' || // admin shutdown (pg_terminate_backend, a fast stop)
    code === '57P02' || // crash shutdown
    code === '57P03' || // cannot connect now (starting up, shutting down)
    // TLS: a certificate that cannot be verified (self-signed, expired, wrong name), a failed
    // handshake. Not a bad query: the server cannot be used as configured.
    /CERT|SSL|TLS|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code) ||
    (typeof e?.message === 'string' && /does not support SSL/i.test(e.message)) ||
    (typeof e?.message === 'string' && /timeout|terminat|Connection/i.test(e.message))
  );
}

/**
 * Wraps a store part so that a call failing because the database cannot be reached rejects with
 * `E_STORE_UNAVAILABLE` (the code intake answers 503 for, and does not keep as a dead letter),
 * its message made by `describe` (no password). Other errors pass through unchanged. The part
 * stays itself otherwise: `instanceof` and optional methods (`'onWork' in part`) still work.
 *
 * @example
 * ```ts
 * const tasks = reportUnavailable(new PostgresTaskStore(handle), (e) => `cannot reach ${e}`);
 * ```
 */
export function reportUnavailable<T extends object>(
  part: T,
  describe: (error: unknown) => string,
): T {
  const translate = (error: unknown): unknown =>
    error instanceof AgentdError || !isConnectionError(error)
      ? error
      : new AgentdError('E_STORE_UNAVAILABLE', describe(error), { cause: error });
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(part, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== 'function' || key === 'constructor') return value;
      let fn = wrapped.get(key);
      if (!fn) {
        fn = (...args: unknown[]) => {
          let result: unknown;
          try {
            result = value.apply(target, args);
          } catch (error) {
            throw translate(error);
          }
          return result instanceof Promise
            ? result.catch((error: unknown) => {
                throw translate(error);
              })
            : result;
        };
        wrapped.set(key, fn);
      }
      return fn;
    },
  });
}
