import { randomUUID } from 'node:crypto';
import {
  HttpError,
  type HttpRequest,
  type HttpServer,
  type InboundRouter,
  type JsonValue,
} from '@agentd/core';
import {
  type AnswerSender,
  isConversationId,
  type MailboxChannel,
  parseChatPost,
} from '@agentd/core/host';
import { waitParam } from './api-replies.js';
import { API_PREFIX } from './options.js';
import { isJsonType } from './server.js';

/**
 * Name of the channel behind the chat routes of the HTTP API (what `agentd chat` talks to); its
 * addresses are conversation ids.
 *
 * @example
 * ```ts
 * const to = { channel: CHAT_CHANNEL, id: 'terminal-alice' };
 * ```
 */
export const CHAT_CHANNEL = 'api';
/** Where the `api` channel kept its messages before it became core's MailboxChannel: kept, so they survive an upgrade. */
export const CHAT_NAMESPACE = 'chat-channel';

/** What the chat routes use. */
export interface ChatApiDeps {
  channel: MailboxChannel;
  router: InboundRouter;
  /** The reply outbox, when the host has a task store: answers are recorded before they are sent. */
  answers: () => AnswerSender | undefined;
}

function conversationOf(req: HttpRequest): string {
  const id = req.params.conversation!;
  if (!isConversationId(id)) {
    throw new HttpError(
      400,
      'invalid_address',
      'a conversation id is 1-100 letters, digits and ._:- characters',
    );
  }
  return id;
}

/**
 * Mounts the chat routes of the API: `POST /api/v1/chat/:conversation/messages` hands a
 * message to the host's inbound router as the `api` channel (commands, budgets and sessions
 * apply as for Telegram), and `GET /api/v1/chat/:conversation/messages?after=SEQ&timeout=25s`
 * returns what the host sent to the conversation since `after`, waiting for it when there is
 * nothing yet (a long poll).
 *
 * @example
 * ```ts
 * mountChatApi(server, { channel, router, answers: () => outbox });
 * ```
 */
export function mountChatApi(server: HttpServer, deps: ChatApiDeps): void {
  const path = `${API_PREFIX}/chat/:conversation/messages`;
  server.route({
    method: 'POST',
    path,
    auth: 'bearer',
    handler: async (req) => {
      const conversation = conversationOf(req);
      const type = req.header('content-type');
      if (type !== undefined && !isJsonType(type)) {
        throw new HttpError(415, 'unsupported_media_type', 'the body must be application/json');
      }
      const { text, id = randomUUID(), name } = parseChatPost(req.json());
      const receipt = await deps.channel.receive(deps.router, deps.answers(), {
        conversation,
        id,
        text,
        ...(name !== undefined && { name }),
      });
      const body: Record<string, JsonValue> = { outcome: receipt.outcome, id };
      if (receipt.taskId !== undefined) body.taskId = receipt.taskId;
      return { status: receipt.outcome === 'accepted' ? 202 : 200, json: body };
    },
  });
  server.route({
    method: 'GET',
    path,
    auth: 'bearer',
    handler: async (req) => {
      const conversation = conversationOf(req);
      const after = req.query.get('after') ?? '';
      if (after.length > 40) throw new HttpError(400, 'bad_request', 'after is not a cursor');
      const { messages } = await deps.channel.read(
        conversation,
        after,
        waitParam(req, 0),
        req.signal,
      );
      const cursor = messages.length > 0 ? messages[messages.length - 1]!.seq : after;
      return { json: { messages: messages as unknown as JsonValue, cursor } };
    },
  });
}
