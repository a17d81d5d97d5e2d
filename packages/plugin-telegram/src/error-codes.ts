/**
 * The error codes `@agentd/plugin-telegram` raises, added to core's `AgentdErrorCodes` by
 * declaration merging (docs/errors.md gives each one's cause and fix).
 *
 * @example
 * ```ts
 * if (error instanceof AgentdError && error.code === 'E_TELEGRAM_TOKEN') console.error('check the token');
 * ```
 */
export const TELEGRAM_ERROR_CODES = {
  E_TELEGRAM_TOKEN: 'Telegram refused the bot token (401 Unauthorized).',
  E_TELEGRAM_SETUP: 'Telegram refused to set the channel up (webhook, commands) for good.',
  E_TELEGRAM_SEND: 'A message could not be sent to a Telegram chat.',
} as const;

type TelegramErrorCodes = typeof TELEGRAM_ERROR_CODES;

declare module '@agentd/core' {
  interface AgentdErrorCodes extends TelegramErrorCodes {}
}
