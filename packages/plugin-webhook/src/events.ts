import type { JsonValue } from '@agentd/core';

/**
 * Payload of the `webhook.received` event, emitted for deliveries of routes configured with
 * `emit: true` (once per delivery id).
 *
 * @example
 * ```ts
 * ctx.events.on('webhook.received', ({ route, event, payload }) => {
 *   if (route === 'deploys' && event === 'deploy.finished') ctx.logger.info(payload, 'deployed');
 * });
 * ```
 */
export interface WebhookReceivedEvent {
  route: string;
  deliveryId: string;
  /** The event name when the scheme carries one (`X-GitHub-Event`, the payload's `type`). */
  event: string | null;
  payload: JsonValue;
  /** Epoch ms, from the host's clock. */
  receivedAt: number;
}

declare module '@agentd/core' {
  interface AgentdEvents {
    'webhook.received': WebhookReceivedEvent;
  }
}
