export {
  DEFAULT_CHANNEL_NAME,
  type ResolvedTelegramOptions,
  type TelegramOptions,
  telegramOptionsSchema,
} from './options.js';
export { telegram } from './plugin.js';
export { splitText, TELEGRAM_TEXT_LIMIT } from './split-text.js';
export { TelegramChannel, type TelegramChannelDeps } from './telegram-channel.js';
