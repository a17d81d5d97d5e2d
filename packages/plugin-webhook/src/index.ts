/**
 * @module @agentd/plugin-webhook
 * One HTTP server per host: signed webhook routes (Standard Webhooks, GitHub, generic
 * HMAC-SHA256) whose deliveries become durable, de-duplicated tasks; `/live`, `/ready` and
 * `/health`; a bearer-token API under `/api/v1` with a chat channel; an opt-in OpenAI-compatible
 * endpoint under `/v1`. Its server implements core's HTTP route contract
 * (`HttpServer`, provided under `HttpServerToken` from `@agentd/core`), on which other plugins
 * mount routes.
 *
 * @example
 * ```ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 * import { webhook } from '@agentd/plugin-webhook';
 *
 * export default defineConfig({
 *   plugins: [sqlite(), webhook({ api: { token: '${AGENTD_API_TOKEN}' } })],
 * });
 * ```
 */

export type { ChatMessage } from '@agentd/core/host';
export type { ApiDeps } from './api.js';
export { mountApi } from './api.js';
export { MAX_WAIT_MS } from './api-replies.js';
export { CHAT_CHANNEL } from './chat-api.js';
export { WEBHOOK_ERROR_CODES } from './error-codes.js';
export type { WebhookReceivedEvent } from './events.js';
export { OPENAI_CHANNEL, SESSION_HEADER } from './openai.js';
export type { ResolvedWebhookOptions, WebhookOptions, WebhookRouteConfig } from './options.js';
export { API_PREFIX, OPENAI_PREFIX, PROBE_PATHS, webhookOptionsSchema } from './options.js';
export { WEBHOOK_PLUGIN_NAME, webhook } from './plugin.js';
export type { HealthBody, HealthCheckEntry } from './probes.js';
export { HEALTH_CONTENT_TYPE } from './probes.js';
export type { ServerOptions } from './server.js';
export { AgentdHttpServer } from './server.js';
export type { TemplateContext } from './template.js';
export { compileTemplate } from './template.js';
export type { HmacOptions, VerifyResult } from './verify.js';
export {
  bodyDigest,
  DEFAULT_TOLERANCE_SECONDS,
  standardWebhooksKey,
  verifyGithub,
  verifyHmac,
  verifyStandardWebhook,
} from './verify.js';

import { webhook } from './plugin.js';

export default webhook;
