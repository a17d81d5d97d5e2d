import {
  AgentRegistryToken,
  ChannelRegistryToken,
  HostInfoToken,
  InboundRouterToken,
  type PluginContext,
  type StateStore,
  type TaskStore,
} from '@agentd/core';
import { type AnswerSender, MailboxChannel } from '@agentd/core/host';
import { CHAT_CHANNEL, CHAT_NAMESPACE, mountChatApi } from './chat-api.js';
import { mountOpenAi, openAiChannel, openAiRouting } from './openai.js';
import type { ResolvedWebhookOptions } from './options.js';
import type { AgentdHttpServer } from './server.js';

/** The services the conversation routes read per request (filled in at the plugin's start). */
export interface ConversationServices {
  tasks: () => TaskStore | undefined;
  state: () => StateStore | undefined;
  answers: () => AnswerSender | undefined;
}

/**
 * The ways to talk to the host over HTTP, mounted in the plugin's `register`: with the API on,
 * the `api` chat channel and its routes (what `agentd chat` uses); with `openai` on, the
 * OpenAI-compatible endpoint and its `openai` channel.
 *
 * @example
 * ```ts
 * mountConversations(ctx, http, services);
 * ```
 */
export function mountConversations(
  ctx: PluginContext<ResolvedWebhookOptions>,
  http: AgentdHttpServer,
  services: ConversationServices,
): void {
  const o = ctx.options;
  if (!o.api) return;
  const channels = ctx.resolve(ChannelRegistryToken);
  const router = ctx.resolve(InboundRouterToken);
  const chat = new MailboxChannel({
    name: CHAT_CHANNEL,
    namespace: CHAT_NAMESPACE,
    state: services.state,
    clock: ctx.clock,
  });
  channels.add(chat);
  mountChatApi(http, { channel: chat, router, answers: services.answers });
  // A long poll must not hold the drain up.
  ctx.events.on('host.stopping', () => chat.wakeAll());

  if (!o.openai) return;
  channels.add(openAiChannel);
  router.use(openAiRouting, { phase: 'admission' });
  mountOpenAi(http, {
    info: ctx.resolve(HostInfoToken),
    events: ctx.events,
    agents: ctx.resolve(AgentRegistryToken),
    router,
    tasks: services.tasks,
    timeoutMs: o.openai.timeoutMs,
    ...(o.openai.bodyLimitBytes !== undefined && { bodyLimitBytes: o.openai.bodyLimitBytes }),
  });
}
