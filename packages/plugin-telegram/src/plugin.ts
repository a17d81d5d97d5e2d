import {
  type Address,
  AgentdError,
  ChannelRegistryToken,
  HealthRegistryToken,
  type HealthResult,
  InboundRouterToken,
  IntakeClosedError,
  type Plugin,
  type PluginContext,
  StateStoreToken,
} from '@agentd/core';
import { autoRetry } from '@grammyjs/auto-retry';
import { Api, GrammyError } from 'grammy';
import { grammySignal } from './grammy-signal.js';
import { TelegramInbound } from './inbound.js';
import {
  DEFAULT_CHANNEL_NAME,
  type ResolvedTelegramOptions,
  type TelegramOptions,
  telegramOptionsSchema,
} from './options.js';
import { TelegramChannel } from './telegram-channel.js';
import { describeError, type PollerState, UpdatePoller } from './update-poller.js';

type Ctx = PluginContext<ResolvedTelegramOptions>;

/** How long start waits for Telegram to answer `getMe` before going on without it. */
const START_CHECK_MS = 10_000;
/** Retries of one API call (network errors, 5xx, 429) before it fails. */
const MAX_RETRY_ATTEMPTS = 5;

/**
 * A Telegram bot as a channel of the host, on grammY. Messages from the users on
 * `allowedUsers` become durable tasks (one session per chat, answered in order), and a task's
 * result is sent back to its chat. Updates are taken by long polling and confirmed to Telegram
 * only once persisted, so a crash never loses a message, and a message Telegram delivers again
 * is recognised and not run twice. Anyone else gets a polite refusal and nothing is stored.
 *
 * The token belongs in the environment: write it as `${TELEGRAM_BOT_TOKEN}`. It never appears
 * in logs or errors.
 *
 * @example
 * ```ts
 * // agentd.config.ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 * import { telegram } from '@agentd/plugin-telegram';
 *
 * export default defineConfig({
 *   plugins: [
 *     sqlite(),
 *     telegram({ token: '${TELEGRAM_BOT_TOKEN}', allowedUsers: ['${TELEGRAM_ADMIN_ID}'] }),
 *   ],
 * });
 * ```
 */
export function telegram(options: TelegramOptions): Plugin<ResolvedTelegramOptions> {
  let api: Api | undefined;
  let poller: UpdatePoller | undefined;
  let username: string | undefined;
  const name =
    typeof options?.name === 'string' && options.name !== '' ? options.name : DEFAULT_CHANNEL_NAME;

  return {
    name,
    optionsSchema: telegramOptionsSchema,
    options,

    register(ctx) {
      const o = ctx.options;
      // Polling has its own backoff and must notice failures at once; sends retry inside the
      // call (429 with retry_after, 5xx, network errors) before they fail.
      api = new Api(o.token, { apiRoot: o.apiRoot });
      const sendApi = new Api(o.token, { apiRoot: o.apiRoot });
      sendApi.config.use(
        autoRetry({
          maxDelaySeconds: o.maxRetryDelaySeconds,
          maxRetryAttempts: MAX_RETRY_ATTEMPTS,
        }),
      );
      const channel = new TelegramChannel({
        name: o.name,
        api: sendApi,
        state: () => ctx.tryResolve(StateStoreToken),
        logger: ctx.logger,
      });
      ctx.resolve(ChannelRegistryToken).add(channel);
      ctx.resolve(HealthRegistryToken).add({
        name: o.name,
        check: () => pollerHealth(poller?.state, ctx.clock.now(), o.pollTimeoutSeconds),
      });
    },

    async start(ctx) {
      const o = ctx.options;
      const botApi = api as Api;
      username = await checkToken(ctx, botApi);
      if (o.allowedUsers !== '*' && o.allowedUsers.length === 0) {
        ctx.logger.warn('allowedUsers is empty: every Telegram user will be refused');
      }
      const channel = ctx.resolve(ChannelRegistryToken).get(o.name) as TelegramChannel;
      const allowed = o.allowedUsers === '*' ? undefined : new Set(o.allowedUsers);
      const inbound = new TelegramInbound({
        channel: o.name,
        router: ctx.resolve(InboundRouterToken),
        reply: (to: Address, text: string, inReplyTo: number) =>
          channel.send(to, { text, inReplyTo: String(inReplyTo) }).then(
            () => {},
            (err: unknown) =>
              ctx.logger.warn({ err, chat: to.id }, 'could not answer a Telegram message'),
          ),
        activity: (to) => channel.indicateActivity(to),
        isAllowed: (userId) => allowed === undefined || allowed.has(userId),
        texts: { refusal: o.refusal, welcome: o.welcome, textOnly: o.textOnly },
        username: () => username,
        logger: ctx.logger,
        now: () => ctx.clock.now(),
      });
      poller = new UpdatePoller({
        api: botApi,
        handle: (update) => inbound.handle(update),
        isStopping: (error) => error instanceof IntakeClosedError,
        logger: ctx.logger,
        timeoutSeconds: o.pollTimeoutSeconds,
        now: () => ctx.clock.now(),
      });
      void poller.run();
      ctx.logger.info(
        { bot: username, allowedUsers: o.allowedUsers === '*' ? '*' : o.allowedUsers.length },
        `Telegram bot ${username ? `@${username}` : '(not reached yet)'} is polling for messages`,
      );
    },

    async stop() {
      await poller?.stop();
    },
  };
}

/**
 * Asks Telegram who the bot is: a refused token stops the host from starting (it will not heal
 * by itself); an unreachable Telegram does not (the poller keeps trying). Also removes a
 * webhook left from another setup, since Telegram serves no updates by polling while one is set.
 */
async function checkToken(ctx: Ctx, api: Api): Promise<string | undefined> {
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(START_CHECK_MS)]);
  try {
    const me = await api.getMe(grammySignal(signal));
    await api.deleteWebhook({}, grammySignal(signal));
    return me.username;
  } catch (error) {
    if (error instanceof GrammyError && error.error_code === 401) {
      throw new AgentdError(
        'E_TELEGRAM_TOKEN',
        `Telegram refused the bot token of channel "${ctx.options.name}" (401 Unauthorized): check the token @BotFather gave you`,
      );
    }
    ctx.logger.warn(
      { reason: describeError(error) },
      'could not reach the Telegram Bot API at start; polling will keep trying',
    );
    return undefined;
  }
}

function pollerHealth(
  state: PollerState | undefined,
  now: number,
  pollTimeoutSeconds: number,
): HealthResult {
  if (!state || (state.lastPollAt === 0 && state.failures === 0)) {
    return { status: 'pass', output: 'starting' };
  }
  if (state.unauthorized) {
    return { status: 'fail', output: 'Telegram refuses the bot token (401 Unauthorized)' };
  }
  if (state.failures >= 3) {
    return {
      status: 'warn',
      output: `${state.failures} failed polls in a row: ${state.lastError}`,
    };
  }
  const sinceMs = now - state.lastPollAt;
  return {
    status: sinceMs > (pollTimeoutSeconds + 60) * 1000 ? 'warn' : 'pass',
    observedValue: Math.round(sinceMs / 1000),
    observedUnit: 's since the last poll',
  };
}
