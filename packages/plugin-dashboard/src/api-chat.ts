import { randomUUID } from 'node:crypto';
import { HttpError, type HttpRequest, type InboundRouter } from '@agentd/core';
import { type AnswerSender, type MailboxChannel, parseChatPost } from '@agentd/core/host';
import { type ApiRoute, answer, badRequest, type DashboardDeps, intParam } from './routes.js';

/**
 * Name of the dashboard's chat channel: `Address.channel` of its conversations (one per
 * dashboard user), so a task's `replyTo`, its session (`web:<user>`) and the operator list of
 * the chat commands (`web:local`) say it came from the dashboard.
 *
 * @example
 * ```ts
 * await channels.send({ channel: WEB_CHANNEL, id: 'local' }, { text: 'backup done' });
 * ```
 */
export const WEB_CHANNEL = 'web';

/** Longest a read of the chat waits for a reply, in ms (under common proxies' 30 s idle cut). */
export const MAX_CHAT_WAIT_MS = 25_000;
/** Body cap of a chat post: the longest text (16,000 characters, 4 bytes each in UTF-8) and change. */
const CHAT_BODY_LIMIT = 72 * 1024;
/** A cursor as the channel makes them (`000001733222333444-000000012`). */
const CURSOR = /^[0-9-]{0,40}$/;

/** What the chat routes use besides the dashboard's own parts. */
export interface ChatRouteDeps {
  channel: MailboxChannel;
  router: InboundRouter;
  /** The reply outbox, when the host has a task store: answers are recorded before they are sent. */
  answers: () => AnswerSender | undefined;
}

/**
 * The chat of the dashboard, as the caller's dashboard user: `POST chat` hands `{ text, id }` to
 * the host's inbound router as the `web` channel's (202 once the task is stored, 200 for a
 * command's answer, 409 for an id seen before), and `GET chat?after=CURSOR&wait=MS` returns the
 * conversation since `after` (both sides), waiting up to `wait` ms for something new.
 *
 * @example
 * ```ts
 * mountChatRoutes(route, deps, { channel, router, answers: () => outbox });
 * ```
 */
export function mountChatRoutes(route: ApiRoute, deps: DashboardDeps, chat: ChatRouteDeps): void {
  /** The caller's user: the routes run after the router's check, so the caller is known. */
  const userOf = (request: HttpRequest) => {
    const caller = deps.auth.caller(request);
    if (!caller.ok) throw new HttpError(401, 'unauthorized', 'log in first');
    return caller.user;
  };

  route(
    'POST',
    '/chat',
    async (request) => {
      const user = userOf(request);
      if (!/^application\/json\b/i.test(request.header('content-type') ?? '')) {
        throw new HttpError(415, 'unsupported_media_type', 'send the message as JSON');
      }
      const { text, id = randomUUID() } = parseChatPost(request.json());
      const receipt = await chat.channel.receive(
        chat.router,
        chat.answers(),
        { conversation: user, id, text, name: user },
        { keepInbound: true },
      );
      if (receipt.outcome === 'duplicate') {
        throw new HttpError(409, 'duplicate', `message ${id} was already received`);
      }
      return answer(
        deps,
        {
          outcome: receipt.outcome,
          id,
          ...(receipt.taskId !== undefined && { taskId: receipt.taskId }),
        },
        receipt.outcome === 'accepted' ? 202 : 200,
      );
    },
    { bodyLimitBytes: CHAT_BODY_LIMIT },
  );

  route('GET', '/chat', async (request) => {
    const user = userOf(request);
    const after = request.query.get('after') ?? '';
    if (!CURSOR.test(after)) throw badRequest('after must be a cursor from an earlier answer');
    const wait = intParam(request, 'wait', 0, 0, MAX_CHAT_WAIT_MS);
    const { messages } = await chat.channel.read(user, after, wait, request.signal);
    const cursor = messages.length > 0 ? messages[messages.length - 1]!.seq : after;
    return answer(deps, { user, messages, cursor });
  });
}
