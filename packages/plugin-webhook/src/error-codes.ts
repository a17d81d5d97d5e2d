/**
 * The error codes `@agentd/plugin-webhook` raises, added to core's `AgentdErrorCodes` by
 * declaration merging (docs/errors.md gives each one's cause and fix). The snake_case codes of
 * HTTP error answers (`not_found`, `payload_too_large`, ...) are another thing: they are
 * `HttpError` codes, listed in docs/webhooks.md.
 *
 * @example
 * ```ts
 * if (error instanceof AgentdError && error.code === 'E_HTTP_LISTEN') console.error('port taken?');
 * ```
 */
export const WEBHOOK_ERROR_CODES = {
  E_HTTP_LISTEN: 'The HTTP server cannot listen on its host and port (in use, no permission).',
  E_HTTP_STATE: 'The HTTP server was started twice.',
  E_ROUTE:
    'A route is invalid (a bad path or method, no handler) or its method and path are taken.',
  E_WEBHOOK_AGENT: 'A webhook route names no agent (and there is no default) or an unknown one.',
} as const;

type WebhookErrorCodes = typeof WEBHOOK_ERROR_CODES;

declare module '@agentd/core' {
  interface AgentdErrorCodes extends WebhookErrorCodes {}
}
