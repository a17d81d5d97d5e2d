/**
 * @module @agentd/plugin-telegram
 * A Telegram bot as a channel of an agentd host, on grammY: messages from the users you allow
 * become durable, de-duplicated tasks answered in order per chat; results go back to the chat,
 * split at Telegram's limit. `@agentd/plugin-telegram/testing` has a fake Bot API server for
 * your own tests.
 *
 * @example
 * ```ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 * import { telegram } from '@agentd/plugin-telegram';
 *
 * export default defineConfig({
 *   plugins: [sqlite(), telegram({ token: '${TELEGRAM_BOT_TOKEN}', allowedUsers: [123456789] })],
 * });
 * ```
 */

import { telegram } from './plugin.js';

export { TELEGRAM_ERROR_CODES } from './error-codes.js';

export {
  DEFAULT_CHANNEL_NAME,
  type ResolvedTelegramOptions,
  type TelegramOptions,
  telegramOptionsSchema,
} from './options.js';
export { splitText, TELEGRAM_TEXT_LIMIT } from './split-text.js';
export { TelegramChannel, type TelegramChannelDeps } from './telegram-channel.js';
export { telegram };

/** The plugin factory, as the default export for JSON configs (`["@agentd/plugin-telegram", {...}]`). */
export default telegram;
