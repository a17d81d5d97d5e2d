import { HttpError, type HttpRequest } from '@agentd/core';
import { TYPED_TEXT } from '@agentd/core/host';
import { z } from 'zod';
import { isJsonType } from './server.js';

/** An error in OpenAI's shape, `{ error: { message, type, code, param } }`, which its clients read. */
export class OpenAiError extends HttpError {
  constructor(
    status: number,
    readonly type: string,
    code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(status, code, message);
  }

  override toBody() {
    return {
      error: { message: this.message, type: this.type, code: this.code, param: this.param },
    } as unknown as ReturnType<HttpError['toBody']>;
  }
}

/** A 400 `invalid_request_error`, OpenAI style. */
export function invalidRequest(message: string, param: string | null = null): OpenAiError {
  return new OpenAiError(400, 'invalid_request_error', 'invalid_request', message, param);
}

/** Longest text of one message, in characters. */
export const MAX_MESSAGE_TEXT = 100_000;
/** Most messages in one request. */
export const MAX_MESSAGES = 1000;

const text = z
  .string()
  .max(MAX_MESSAGE_TEXT)
  .regex(TYPED_TEXT, 'must not contain control characters');
const contentPart = z.union([
  z.object({ type: z.literal('text'), text }).strip(),
  z
    .object({ type: z.string() })
    .loose()
    .refine(() => false, 'only text content parts are supported'),
]);

const messageSchema = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.union([text, z.array(contentPart).max(100), z.null()]).optional(),
    name: z.string().max(100).optional(),
  })
  // Clients send fields of their own (tool_calls, refusal…): kept out of the task, not refused.
  .loose();

const identifier = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

/**
 * The part of an OpenAI chat completion request this endpoint reads. Other parameters
 * (temperature, max_tokens…) are accepted and left to the agent's own configuration.
 */
export const completionRequestSchema = z
  .object({
    model: identifier,
    messages: z.array(messageSchema).min(1).max(MAX_MESSAGES),
    stream: z.boolean().nullable().optional(),
    user: identifier.optional(),
    n: z.literal(1).nullable().optional(),
  })
  .loose();

/** A validated completion request. */
export type CompletionRequest = z.output<typeof completionRequestSchema>;
type Message = CompletionRequest['messages'][number];

/** Parses and validates the body: OpenAI-style 400s for anything wrong. */
export function parseCompletionRequest(req: HttpRequest): CompletionRequest {
  const type = req.header('content-type');
  if (type !== undefined && !isJsonType(type)) {
    throw new OpenAiError(
      415,
      'invalid_request_error',
      'unsupported_media_type',
      'the body must be sent as application/json',
    );
  }
  let body: unknown;
  try {
    body = req.json();
  } catch (error) {
    throw error instanceof HttpError ? invalidRequest(error.message) : error;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('the body must be a JSON object');
  }
  const parsed = completionRequestSchema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const param = first.path.length ? first.path.join('.') : null;
    const all = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`);
    throw invalidRequest(`invalid request: ${all.join('; ')}`, param);
  }
  const lastUser = [...parsed.data.messages].reverse().find((m) => m.role === 'user');
  if (!lastUser || contentText(lastUser).trim() === '') {
    throw invalidRequest('the messages need a user message with text', 'messages');
  }
  return parsed.data;
}

/** The text of a message (text parts joined). */
export function contentText(message: Message): string {
  const { content } = message;
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => ('text' in p ? p.text : '')).join('');
}

/**
 * The text the task gets. The host keeps each conversation's history in its session, so with a
 * conversation key only the last user message is new. Without one, a request stands alone and
 * carries its history: the earlier turns (and system prompts) go first, as a transcript.
 */
export function inputText(request: CompletionRequest, hasConversation: boolean): string {
  const messages = request.messages;
  let last = messages.length - 1;
  while (messages[last]!.role !== 'user') last--;
  const question = contentText(messages[last]!);
  if (hasConversation) return question;
  const earlier = messages
    .slice(0, last)
    .filter((m) => contentText(m).trim() !== '')
    .map((m) => `${m.role}: ${contentText(m)}`);
  if (earlier.length === 0) return question;
  return `${earlier.join('\n\n')}\n\nuser: ${question}`;
}
