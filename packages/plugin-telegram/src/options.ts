import { ALERT_SEVERITIES } from '@agentd/core/host';
import { z } from 'zod';

/**
 * The channel name Telegram addresses carry unless the options give another.
 *
 * @example
 * ```ts
 * task.replyTo?.channel === DEFAULT_CHANNEL_NAME; // a task from Telegram
 * ```
 */
export const DEFAULT_CHANNEL_NAME = 'telegram';

// Telegram user ids exceed 2^31, and `${ADMIN_ID}` placeholders arrive as strings.
const userId = z
  .union([z.number().int().positive(), z.string().regex(/^\d+$/, 'must be a numeric user id')])
  .transform(String);

// A route path the HTTP server takes literally: no query, fragment, `:param` or `*` segment.
const SEGMENT = "[A-Za-z0-9._~%!$&'()+,;=@-]+";
const ROUTE_PATH = new RegExp(`^/(?:${SEGMENT}(?:/${SEGMENT})*/?)?$`);

// Group and channel chat ids are negative.
const chatId = z
  .union([z.number().int(), z.string().regex(/^-?\d+$/, 'must be a numeric chat id')])
  .transform(String);

/**
 * The Telegram plugin's options schema (zod), exported for tools that check configs.
 * Messages never repeat the token.
 *
 * @example
 * ```ts
 * telegramOptionsSchema.safeParse({ token: 'nope', allowedUsers: [] }).success; // false
 * ```
 */
export const telegramOptionsSchema = z
  .object({
    /** The bot token from @BotFather. Write it as `${TELEGRAM_BOT_TOKEN}`, never inline. */
    token: z
      .string()
      .min(1, 'must not be empty (is TELEGRAM_BOT_TOKEN set?)')
      .regex(/^\d+:[A-Za-z0-9_-]+$/, 'must look like a bot token from @BotFather: <digits>:<key>'),
    /**
     * Telegram user ids whose messages become tasks, or `'*'` for a public bot. Anyone else
     * gets {@link refusal} and nothing is stored.
     */
    allowedUsers: z.union([z.literal('*'), z.array(userId)]),
    /** Channel name in addresses and logs; change it to run two bots in one host. */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes')
      .default(DEFAULT_CHANNEL_NAME),
    /** Reply to a user not on the allow-list (sent at most once an hour per user). */
    refusal: z
      .string()
      .min(1)
      .default('Sorry, this bot only works for the people it was set up for.'),
    /** Reply to `/start`. */
    welcome: z.string().min(1).default('Hello! Send me a message and I will get to work on it.'),
    /** Reply to a message without text (a sticker, a photo without a caption). */
    textOnly: z
      .string()
      .min(1)
      .default('Sorry, I can only read text messages (or the captions of photos and files).'),
    /** Bot API server, without a trailing slash: a self-hosted one, or a fake one in tests. */
    apiRoot: z
      .url()
      .transform((url) => url.replace(/\/+$/, ''))
      .default('https://api.telegram.org'),
    /**
     * Send the host's alerts (a full disk, agents failing, a lost reply) to these chats: your
     * own user id for a private chat, or a group's id. Only alerts of `minSeverity` or worse.
     */
    alerts: z
      .object({
        chats: z.array(chatId).min(1),
        minSeverity: z.enum(ALERT_SEVERITIES).default('warning'),
      })
      .strict()
      .optional(),
    /**
     * Take updates by webhook instead of long polling, through the host's HTTP server
     * (`@agentd/plugin-webhook`). `url` is where Telegram reaches it (HTTPS on port 443, 80, 88
     * or 8443, usually a reverse proxy in front of the host); the route is mounted at `path`
     * (default: the URL's path). Telegram sends `secretToken` with every update, and a request
     * without it is refused (401).
     */
    webhook: z
      .object({
        url: z
          .url()
          .refine(
            (url) => url.startsWith('https://'),
            'must be an https:// URL (Telegram calls only HTTPS)',
          )
          .refine(
            (url) => ['', '443', '80', '88', '8443'].includes(new URL(url).port),
            'must use port 443, 80, 88 or 8443 (the only ones Telegram calls)',
          )
          .refine(
            (url) => ROUTE_PATH.test(new URL(url).pathname),
            'its path must be plain segments (no : or * segments)',
          ),
        secretToken: z
          .string()
          .regex(
            /^[A-Za-z0-9_-]{1,256}$/,
            'must be 1 to 256 of A-Z, a-z, 0-9, _ and - (is its environment variable set?)',
          ),
        path: z
          .string()
          .regex(ROUTE_PATH, 'must start with / and hold plain segments (no ?, #, : or * segments)')
          .optional(),
      })
      .strict()
      .optional(),
    /** Long-polling wait per `getUpdates` call, in seconds (Telegram allows up to 50). */
    pollTimeoutSeconds: z.number().int().min(1).max(50).default(30),
    /**
     * The longest `retry_after` (429) a send waits out, in seconds; a longer one fails the send
     * and the reply outbox retries it later. At most 40: one send gives up after 45 s, so the
     * outbox, which holds a reply for 60 s, can retry it before another host would.
     */
    maxRetryDelaySeconds: z.number().int().min(0).max(40).default(30),
  })
  .strict();

/** Options for `telegram()`, as written in a config. */
export type TelegramOptions = z.input<typeof telegramOptionsSchema>;
/** The options after validation and defaults. */
export type ResolvedTelegramOptions = z.output<typeof telegramOptionsSchema>;
