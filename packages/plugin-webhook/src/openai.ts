import { randomUUID } from 'node:crypto';
import {
  AgentdError,
  type AgentRegistry,
  type Channel,
  type EventBus,
  type HostInfo,
  type HttpServer,
  type InboundMiddleware,
  type InboundRouter,
  type JsonValue,
  type Task,
  type TaskStore,
} from '@agentd/core';
import {
  type CompletionRequest,
  inputText,
  invalidRequest,
  OpenAiError,
  parseCompletionRequest,
} from './openai-request.js';
import { OPENAI_PREFIX } from './options.js';
import { waitForTask } from './task-wait.js';

/**
 * Name of the channel OpenAI-compatible requests arrive on; `openai:<user>` is their user key
 * (budgets, sessions).
 *
 * @example
 * ```ts
 * budgets: { exempt: [`${OPENAI_CHANNEL}:ci-bot`] }
 * ```
 */
export const OPENAI_CHANNEL = 'openai';
/**
 * Header naming the conversation when the body has no `user`.
 *
 * @example
 * ```ts
 * new OpenAI({ baseURL, apiKey, defaultHeaders: { [SESSION_HEADER]: 'alice' } });
 * ```
 */
export const SESSION_HEADER = 'x-agentd-session';
/** Comment line sent while a streamed answer is awaited, so proxies keep the connection. */
const KEEP_ALIVE_MS = 10_000;

/** What the endpoint uses. */
export interface OpenAiDeps {
  info: HostInfo;
  events: EventBus;
  agents: AgentRegistry;
  router: InboundRouter;
  tasks: () => TaskStore | undefined;
  timeoutMs: number;
  bodyLimitBytes?: number;
}

/**
 * The `openai` channel: answers go back in the HTTP response, so a reply sent to it has nowhere
 * else to go. Tasks of the endpoint owe no reply (see {@link openAiRouting}); this takes the
 * notices other plugins send to the sender (a session's replaced agent) and drops them.
 */
export const openAiChannel: Channel = {
  name: OPENAI_CHANNEL,
  send: async () => ({ ids: [] }),
};

/**
 * Inbound middleware for the endpoint's messages, in the admission phase (before sessions pick
 * an agent): the request's `model` names the agent, and the task owes no channel reply, since
 * the answer is the HTTP response.
 */
export const openAiRouting: InboundMiddleware = (ctx, next) => {
  if (ctx.message.from.channel !== OPENAI_CHANNEL) return next();
  const model = ctx.message.metadata?.model;
  if (typeof model === 'string') ctx.task.agent = model;
  delete ctx.task.replyTo;
  return next();
};

const seconds = (ms: number) => Math.floor(ms / 1000);

/** A task's answer as completion text (JSON other than a string is pretty-printed). */
function answerText(task: Task): string {
  return typeof task.result === 'string' ? task.result : JSON.stringify(task.result, null, 2);
}

/** Why a task gave no answer, as an OpenAI-style error. */
function taskProblem(task: Task | undefined, done: boolean, id: string): OpenAiError | undefined {
  if (!task) return new OpenAiError(500, 'server_error', 'task_lost', `task ${id} is gone`);
  if (!done) {
    return new OpenAiError(
      504,
      'timeout',
      'task_timeout',
      `no answer in time: task ${id} is still ${task.status} (agentd tasks shows it)`,
    );
  }
  if (task.status === 'failed') {
    return new OpenAiError(
      502,
      'server_error',
      'task_failed',
      `the agent could not answer: task ${id} failed after ${task.attempts} attempt(s)`,
    );
  }
  if (task.status === 'cancelled') {
    return new OpenAiError(409, 'server_error', 'task_cancelled', `task ${id} was cancelled`);
  }
  return undefined;
}

/**
 * Mounts the OpenAI-compatible endpoint: `GET /v1/models` lists the host's agents as models,
 * `POST /v1/chat/completions` turns the request into a message on the `openai` channel (so
 * commands, budgets, sessions and failover apply as for any chat), waits for its task and answers
 * as a chat completion, or as server-sent events with `stream: true`. The conversation is the
 * body's `user` or the `X-Agentd-Session` header; without either, each request stands alone.
 *
 * @example
 * ```ts
 * mountOpenAi(server, { info, events, agents, router, tasks: () => store, timeoutMs: 300_000 });
 * // new OpenAI({ baseURL: 'http://127.0.0.1:8787/v1', apiKey: process.env.AGENTD_API_TOKEN })
 * ```
 */
export function mountOpenAi(server: HttpServer, deps: OpenAiDeps): void {
  server.route({
    method: 'GET',
    path: `${OPENAI_PREFIX}/models`,
    auth: 'bearer',
    handler: () => {
      const created = seconds(deps.info.readyAt ?? Date.now());
      const data = deps.agents.list().map((agent) => ({
        id: agent.name,
        object: 'model',
        created,
        owned_by: deps.info.name,
      }));
      return { json: { object: 'list', data } };
    },
  });

  server.route({
    method: 'POST',
    path: `${OPENAI_PREFIX}/chat/completions`,
    auth: 'bearer',
    ...(deps.bodyLimitBytes !== undefined && { bodyLimitBytes: deps.bodyLimitBytes }),
    handler: async (req) => {
      const request = parseCompletionRequest(req);
      if (!deps.agents.get(request.model)) {
        throw new OpenAiError(
          404,
          'invalid_request_error',
          'model_not_found',
          `The model "${request.model}" does not exist on this host (GET /v1/models lists them)`,
          'model',
        );
      }
      const tasks = deps.tasks();
      if (!tasks) {
        throw new OpenAiError(503, 'server_error', 'no_store', 'this host has no task store');
      }
      const conversation = request.user ?? req.header(SESSION_HEADER);
      if (
        conversation !== undefined &&
        (conversation.length > 200 || /\p{Cc}/u.test(conversation))
      ) {
        throw invalidRequest(`${SESSION_HEADER} must be 1-200 characters without controls`);
      }
      const id = randomUUID();
      const receipt = await dispatch(deps.router, request, conversation, id);
      const completionId = `chatcmpl-${receipt.taskId ?? id}`;
      const created = seconds(Date.now());
      const base = { id: completionId, created, model: request.model };

      if (receipt.outcome === 'refused') {
        throw new OpenAiError(
          429,
          'rate_limit_error',
          'refused',
          receipt.reply ?? 'the host refused this request',
        );
      }
      // A command answered at once (/help, /status): its answer is the completion.
      const immediate = receipt.taskId === undefined ? (receipt.reply ?? '') : undefined;
      const answer = async (signal?: AbortSignal): Promise<string> => {
        if (immediate !== undefined) return immediate;
        const taskId = receipt.taskId!;
        const { task, done } = await waitForTask(
          { events: deps.events, tasks },
          taskId,
          deps.timeoutMs,
          signal,
        );
        const problem = taskProblem(task, done, taskId);
        if (problem) throw problem;
        return answerText(task!);
      };

      if (request.stream) {
        return {
          headers: {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache',
            'x-accel-buffering': 'no',
          },
          stream: completionEvents(base, answer(req.signal)),
        };
      }
      const content = await answer(req.signal);
      return {
        json: {
          ...base,
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content, refusal: null },
              finish_reason: 'stop',
              logprobs: null,
            },
          ],
        },
      };
    },
  });
}

async function dispatch(
  router: InboundRouter,
  request: CompletionRequest,
  conversation: string | undefined,
  id: string,
) {
  const sender = conversation ?? `anonymous-${id}`;
  try {
    return await router.dispatch({
      id,
      from: { channel: OPENAI_CHANNEL, id: sender },
      sender: { id: sender },
      text: inputText(request, conversation !== undefined),
      receivedAt: Date.now(),
      metadata: { model: request.model },
    });
  } catch (error) {
    if (
      error instanceof AgentdError &&
      ['E_INVALID_TASK', 'E_UNKNOWN_AGENT', 'E_NO_AGENT'].includes(error.code)
    ) {
      throw invalidRequest(error.message);
    }
    throw error;
  }
}

const event = (value: JsonValue) => `data: ${JSON.stringify(value)}\n\n`;

/**
 * The server-sent events of a streamed completion: the role at once, a comment every few
 * seconds while the task runs, the answer, the finish, then `data: [DONE]`. A failure is sent as
 * an `error` event (what OpenAI's clients raise) before `[DONE]`.
 */
async function* completionEvents(
  base: { id: string; created: number; model: string },
  answer: Promise<string>,
): AsyncGenerator<string> {
  const chunk = (delta: JsonValue, finish: string | null) =>
    event({
      ...base,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    });
  // Settled or not, the answer is observed, so a failure after the client left is not unhandled.
  const outcome = answer.then(
    (content) => ({ content }),
    (error: unknown) => ({ error }),
  );
  yield chunk({ role: 'assistant', content: '' }, null);
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const tick = new Promise<'tick'>((r) => {
      timer = setTimeout(() => r('tick'), KEEP_ALIVE_MS);
    });
    const first = await Promise.race([outcome, tick]);
    clearTimeout(timer);
    if (first === 'tick') {
      yield ': waiting for the agent\n\n';
      continue;
    }
    if ('content' in first) {
      yield chunk({ content: first.content }, null);
      yield chunk({}, 'stop');
    } else {
      const error =
        first.error instanceof OpenAiError
          ? first.error
          : new OpenAiError(500, 'server_error', 'internal', 'internal error');
      yield event(error.toBody() as unknown as JsonValue);
    }
    yield 'data: [DONE]\n\n';
    return;
  }
}
