import { createHash, timingSafeEqual } from 'node:crypto';
import { type HttpServer, IntakeClosedError, type Logger } from '@agentd/core';
import type { Update } from 'grammy/types';

/** Telegram sends updates of at most a few KB; a megabyte leaves room for long captions. */
const UPDATE_LIMIT_BYTES = 1024 * 1024;

const digest = (text: string) => createHash('sha256').update(text).digest();

const problem = (status: number, code: string, message: string) => ({
  status,
  json: { error: { code, message } },
});

/**
 * Mounts the route Telegram posts updates to. An update is answered 200 only once it is
 * handled (stored as a task, or answered), so Telegram delivers again anything that failed; 401
 * without the secret token (compared in constant time), 400 for a body that is not an update,
 * 503 while the host stops (even for updates that would need no task, so their answers are not
 * cut short). Returns the function that removes the route.
 *
 * @example
 * ```ts
 * mountWebhook(http, { path: '/telegram', secretToken, handle, accepting: () => true, logger });
 * ```
 */
export function mountWebhook(
  http: Pick<HttpServer, 'route'>,
  options: {
    path: string;
    secretToken: string;
    handle: (update: Update) => Promise<void>;
    /** False while the host stops: updates then get 503, and Telegram delivers them again. */
    accepting: () => boolean;
    logger: Logger;
  },
): () => void {
  const expected = digest(options.secretToken);
  return http.route({
    method: 'POST',
    path: options.path,
    bodyLimitBytes: UPDATE_LIMIT_BYTES,
    handler: async (request) => {
      const given = request.header('x-telegram-bot-api-secret-token');
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        return problem(401, 'unauthorized', 'missing or wrong X-Telegram-Bot-Api-Secret-Token');
      }
      let update: unknown;
      try {
        update = request.json();
      } catch (error) {
        // plugin-webhook's parse names what is wrong (not UTF-8, nested too deeply, not JSON).
        const detail = error instanceof Error && 'status' in error ? `: ${error.message}` : '';
        return problem(400, 'bad_request', `the body is not JSON${detail}`);
      }
      if (
        typeof update !== 'object' ||
        update === null ||
        typeof (update as { update_id?: unknown }).update_id !== 'number'
      ) {
        return problem(400, 'bad_request', 'the body is not a Telegram update (no update_id)');
      }
      if (!options.accepting()) {
        return problem(503, 'unavailable', 'the host is stopping; Telegram will deliver again');
      }
      try {
        await options.handle(update as Update);
        return { status: 200, json: {} };
      } catch (error) {
        if (error instanceof IntakeClosedError) {
          return problem(503, 'unavailable', 'the host is stopping; Telegram will deliver again');
        }
        options.logger.warn(
          { err: error, updateId: (update as Update).update_id },
          'could not take in a Telegram update; Telegram will deliver it again',
        );
        return problem(
          500,
          'internal',
          'the update could not be stored; Telegram will deliver again',
        );
      }
    },
  });
}
