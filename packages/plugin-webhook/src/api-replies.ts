import {
  type Address,
  type EventBus,
  HttpError,
  type HttpRequest,
  type HttpServer,
  type TaskStore,
} from '@agentd/core';
import type { ChannelRegistry } from '@agentd/core/host';
import { z } from 'zod';
import { API_PREFIX } from './options.js';
import { parseWaitDuration, waitForTask } from './task-wait.js';

/**
 * Longest wait one request may ask for (`timeout` of the wait route).
 *
 * @example
 * ```ts
 * await fetch(`${url}/api/v1/tasks/${id}/wait?timeout=${MAX_WAIT_MS}ms`, { headers });
 * ```
 */
export const MAX_WAIT_MS = 300_000;
/** The wait when none is asked for. */
export const DEFAULT_WAIT_MS = 30_000;

const addressPart = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

/**
 * `replyTo` of a task created through the API: a channel the host has and that channel's
 * address (a Telegram chat id), optionally a thread.
 *
 * @example
 * ```ts
 * replyToSchema.parse({ channel: 'telegram', id: '12345' });
 * ```
 */
export const replyToSchema = z
  .object({ channel: addressPart(100), id: addressPart(200), thread: addressPart(100).optional() })
  .strict();

/**
 * Refuses a `replyTo` no reply could reach, before anything is stored: a channel this host does
 * not have (400 `unknown_channel`), or an address the channel says it cannot take (400
 * `invalid_address`, for channels that check addresses).
 *
 * @example
 * ```ts
 * checkReplyTo(channels, { channel: 'telegram', id: 'not-a-chat' }); // throws HttpError 400
 * ```
 */
export function checkReplyTo(channels: ChannelRegistry | undefined, to: Address): void {
  const channel = channels?.get(to.channel);
  if (!channel) {
    const known = channels?.list().map((c) => c.name) ?? [];
    throw new HttpError(
      400,
      'unknown_channel',
      `replyTo.channel "${to.channel}" is not a channel of this host (known: ${known.join(', ') || 'none'})`,
    );
  }
  const problem = channel.checkAddress?.(to);
  if (problem !== undefined) {
    throw new HttpError(
      400,
      'invalid_address',
      `replyTo is not a ${to.channel} address: ${problem}`,
    );
  }
}

/**
 * The `timeout` query parameter of a long poll (`30s`, `2m`, `1500ms`, or seconds), at most
 * {@link MAX_WAIT_MS}; 400 `bad_request` otherwise.
 *
 * @example
 * ```ts
 * waitParam(req); // 30000 without ?timeout
 * ```
 */
export function waitParam(req: HttpRequest, fallback = DEFAULT_WAIT_MS): number {
  const raw = req.query.get('timeout');
  if (raw === null || raw === '') return fallback;
  const ms = parseWaitDuration(raw);
  if (ms === undefined || ms > MAX_WAIT_MS) {
    throw new HttpError(
      400,
      'bad_request',
      `timeout must be a duration such as 30s, 2m or 1500ms, at most ${MAX_WAIT_MS / 1000}s`,
    );
  }
  return ms;
}

/**
 * Mounts `GET /api/v1/tasks/:id/wait?timeout=30s`: answers once the task has finished
 * (`done: true`) or when the wait ends first (`done: false`, the task as it is now); 404 for an
 * unknown id. Woken by the event bus (see {@link waitForTask}).
 *
 * @example
 * ```ts
 * mountTaskWait(server, { events, tasks: () => store });
 * // curl -H "Authorization: Bearer $T" "$URL/api/v1/tasks/$ID/wait?timeout=60s"
 * ```
 */
export function mountTaskWait(
  server: HttpServer,
  deps: { events: EventBus; tasks: () => TaskStore | undefined },
): void {
  server.route({
    method: 'GET',
    path: `${API_PREFIX}/tasks/:id/wait`,
    auth: 'bearer',
    handler: async (req) => {
      const tasks = deps.tasks();
      if (!tasks) throw new HttpError(503, 'no_store', 'this host has no task store');
      const timeoutMs = waitParam(req);
      const id = req.params.id!;
      const { task, done } = await waitForTask(
        { events: deps.events, tasks },
        id,
        timeoutMs,
        req.signal,
      );
      if (!task) throw new HttpError(404, 'not_found', `no task with id ${id}`);
      return { json: { task, done } as never };
    },
  });
}
