import { randomUUID } from 'node:crypto';
import {
  HttpError,
  type HttpRequest,
  type HttpServer,
  type InboundRouter,
  type JsonValue,
} from '@agentd/core';
import type { AnswerSender } from '@agentd/core/host';
import { z } from 'zod';
import { TYPED_TEXT, waitParam } from './api-replies.js';
import { CHAT_CHANNEL, type ChatChannel, isConversationId } from './chat-channel.js';
import { API_PREFIX } from './options.js';
import { isJsonType } from './server.js';

/** Longest chat message accepted, in characters. */
export const MAX_CHAT_TEXT = 16_000;

const chatMessageSchema = z
  .object({
    text: z
      .string()
      .min(1)
      .max(MAX_CHAT_TEXT)
      .regex(TYPED_TEXT, 'must not contain control characters')
      .refine((t) => t.trim() !== '', 'must not be blank'),
    /** The client's id of the message: sending it again is recognised, not run twice. */
    id: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'must be 1-100 letters, digits and ._:- characters')
      .optional(),
    /** How the sender is shown (logs, session listings). */
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
      .optional(),
  })
  .strict();

/** What the chat routes use. */
export interface ChatApiDeps {
  channel: ChatChannel;
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
      const parsed = chatMessageSchema.safeParse(req.json());
      if (!parsed.success) {
        const issues = parsed.error.issues.map(
          (i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`,
        );
        throw new HttpError(400, 'bad_request', `invalid message: ${issues.join('; ')}`);
      }
      const { text, id = randomUUID(), name } = parsed.data;
      const from = { channel: CHAT_CHANNEL, id: conversation };
      const receipt = await deps.router.dispatch({
        id,
        from,
        sender: { id: conversation, ...(name !== undefined && { displayName: name }) },
        text,
        receivedAt: Date.now(),
      });
      if (receipt.reply !== undefined) {
        const key = `${CHAT_CHANNEL}:answer:${conversation}:${id}`;
        const outbox = deps.answers();
        await (outbox
          ? outbox.answer(from, receipt.reply, { key })
          : deps.channel.send(from, { text: receipt.reply }, { idempotencyKey: key }));
      }
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
