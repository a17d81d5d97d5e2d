import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Address,
  AgentdError,
  AnswersToken,
  ChannelRegistryToken,
  HealthRegistryToken,
  HttpServerToken,
  InboundRouterToken,
  IntakeClosedError,
  IntakeGateToken,
  IntakeGuardToken,
  NotifierToken,
  type Plugin,
  type PluginContext,
  raiseAlert,
  StateStoreToken,
} from '@agentd/core';
import { ChatCommandsToken } from '@agentd/core/chat-commands';
import { type IntakeOutcome, NotificationRoutesToken } from '@agentd/core/host';
import { type RoleCampaign, type RoleLease, RolesToken } from '@agentd/core/roles';
import type { Api } from 'grammy';
import type { Update } from 'grammy/types';
import { forwardAlerts } from './alerts.js';
import type { BotApiFetch } from './bot-api-fetch.js';
import { pollerHealth, webhookHealth } from './channel-health.js';
import { commandMenus } from './command-menu.js';
import { describeError, isGrammyError } from './describe-error.js';
import { chatLaneOf, replyTargetOf, TelegramInbound } from './inbound.js';
import {
  DEFAULT_CHANNEL_NAME,
  type ResolvedTelegramOptions,
  type TelegramOptions,
  telegramOptionsSchema,
} from './options.js';
import { pollInTurns } from './polling-turns.js';
import { isPermanent, keepTrying } from './retry.js';
import { grammySignal, withDeadline } from './signals.js';
import { TelegramChannel } from './telegram-channel.js';
import { TypingIndicator } from './typing.js';
import { UpdatePoller } from './update-poller.js';
import { mountWebhook } from './webhook-intake.js';

type Ctx = PluginContext<ResolvedTelegramOptions>;

/** How long a stop waits for immediate answers still on their way before aborting them. */
const ANSWER_GRACE_MS = 3_000;
/** How long start waits for Telegram to answer `getMe` before going on without it. */
const START_CHECK_MS = 10_000;
/** Connections of the long poll's own pool. */
const POLLING_CONNECTIONS = 2;

/**
 * A Telegram bot as a channel of the host, on grammY. Messages from the users on
 * `allowedUsers` become durable tasks (one session per chat, answered in order), and a task's
 * result is sent back to its chat. Updates are taken by long polling and confirmed to Telegram
 * only once persisted, so a crash of the host never loses a message, and a message Telegram
 * delivers again is recognised and not run twice. Anyone else gets a polite refusal and nothing
 * is stored.
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
  let pollApi: Api | undefined;
  let channel: TelegramChannel | undefined;
  let poller: UpdatePoller | undefined;
  /** Polling mode on a host with roles: only the holder of `<name>:polling` polls. */
  let polling: RoleCampaign | undefined;
  let typing: TypingIndicator | undefined;
  /**
   * The HTTP connections to the Bot API: the long poll's own, and the pool replies (and every
   * other call) share. Apart, so that a poll never waits in the pool's queue behind a backlog
   * of replies: the next batch of updates is fetched as soon as the last one is stored.
   */
  let connections: { polling: BotApiFetch; sending: BotApiFetch } | undefined;
  let username: string | undefined;
  let stopped = false;
  let stopAlerts: (() => void) | undefined;
  let stopReplays: (() => void) | undefined;
  let stopMenu: (() => void) | undefined;
  /** Webhook mode: whether Telegram has our URL, or why not yet. */
  const webhookState: { set: boolean; lastError?: string } = { set: false };
  /** Aborted at stop: ends background retries. */
  const lifetime = new AbortController();
  // Immediate answers (refusals, welcomes, command replies) and alerts go out behind the poll
  // loop; stop() aborts and awaits them.
  const answers = new Set<Promise<unknown>>();
  const answering = new AbortController();
  const track = <T>(sending: Promise<T>): Promise<T> => {
    answers.add(sending);
    const forget = () => void answers.delete(sending);
    sending.then(forget, forget);
    return sending;
  };
  const name =
    typeof options?.name === 'string' && options.name !== '' ? options.name : DEFAULT_CHANNEL_NAME;

  return {
    name,
    // Webhook mode mounts its route on the host's HTTP server (@agentd/plugin-webhook).
    ...(options?.webhook ? { dependsOn: [HttpServerToken] } : {}),
    // Several hosts on one store poll in turn: a bot takes updates in one place only (409).
    after: [RolesToken, NotificationRoutesToken],
    optionsSchema: telegramOptionsSchema,
    options,

    async register(ctx) {
      const o = ctx.options;
      // grammY and its HTTP client load here, not with the config that names this plugin: a CLI
      // command that reads the store never registers it.
      const [{ pollingApi, sendingApi }, { botApiFetch }] = await Promise.all([
        import('./apis.js'),
        import('./bot-api-fetch.js'),
      ]);
      // Closed at stop. Polls are one at a time: one connection (a second for the moment a
      // poll aborted at a lease's end is still closing).
      connections = { polling: botApiFetch(POLLING_CONNECTIONS), sending: botApiFetch() };
      pollApi = pollingApi(o.token, o.apiRoot, o.pollTimeoutSeconds, connections.polling);
      // Chat actions: the polling client's settings (no retry inside a call), the sending pool.
      const activityApi = pollingApi(o.token, o.apiRoot, o.pollTimeoutSeconds, connections.sending);
      const sendApi = sendingApi(
        o.token,
        o.apiRoot,
        o.maxRetryDelaySeconds,
        (retryAfterSeconds) =>
          ctx.events.emit('channel.rate_limited', {
            channel: o.name,
            ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
          }),
        connections.sending,
      );
      channel = new TelegramChannel({
        name: o.name,
        api: sendApi,
        activityApi,
        state: () => ctx.tryResolve(StateStoreToken),
        logger: ctx.logger,
        onSent: (outcome) =>
          'parts' in outcome
            ? ctx.events.emit('channel.sent', { channel: o.name, parts: outcome.parts })
            : ctx.events.emit('channel.send_failed', { channel: o.name, code: outcome.code }),
      });
      ctx.resolve(ChannelRegistryToken).add(channel);
      // The command menu is published once every plugin has started, so commands a plugin
      // adds in `start` are listed too. Best effort: without it commands still work when typed.
      const router = ctx.resolve(InboundRouterToken);
      stopMenu = ctx.events.once('host.ready', () => {
        const menus = commandMenus(o.name, router.commands(), ctx.tryResolve(ChatCommandsToken));
        for (const { scope, commands } of menus) {
          const where = scope ? `chat ${scope.chat_id}` : 'everyone';
          void track(
            sendApi.setMyCommands(
              commands,
              scope ? { scope } : undefined,
              grammySignal(answering.signal),
            ),
          ).then(
            () =>
              ctx.logger.debug(
                { commands: commands.map((c) => c.command), scope: where },
                'published the Telegram command menu',
              ),
            (err: unknown) =>
              ctx.logger.warn(
                { reason: describeError(err), scope: where },
                'could not publish the Telegram command menu',
              ),
          );
        }
      });
      const alertRoutes = ctx.tryResolve(NotificationRoutesToken);
      if (o.alerts && alertRoutes) {
        // Sugar for a notification route to these chats (delivered through the reply outbox).
        // Added in register, so alerts other plugins raise while the host starts (a disk
        // already full, a store restored from a backup) reach the chats too.
        stopAlerts = alertRoutes.add({
          name: `${o.name}-alerts`,
          minSeverity: o.alerts.minSeverity,
          targets: o.alerts.chats.map((id) => ({ channel: o.name, id })),
        });
      } else if (o.alerts) {
        // A host whose notifier is not the built-in one (no routes): forward alert events.
        const alertChannel = channel;
        stopAlerts = forwardAlerts({
          events: ctx.events,
          channel: alertChannel,
          chats: o.alerts.chats,
          minSeverity: o.alerts.minSeverity,
          send: (chat, text) =>
            track(
              alertChannel.send(
                { channel: o.name, id: chat },
                { text },
                { signal: answering.signal },
              ),
            ),
          logger: ctx.logger,
        });
      }
      ctx.resolve(HealthRegistryToken).add({
        name: o.name,
        check: () => {
          if (o.webhook) return webhookHealth(webhookState, o.webhook.url);
          if (polling && !polling.held) {
            return { status: 'pass', output: `standing by: another host polls (${polling.role})` };
          }
          return pollerHealth(poller?.state, ctx.clock.now(), o.pollTimeoutSeconds);
        },
      });
    },

    async start(ctx) {
      const o = ctx.options;
      const api = pollApi as Api;
      if (o.allowedUsers !== '*' && o.allowedUsers.length === 0) {
        ctx.logger.warn('allowedUsers is empty: every Telegram user will be refused');
      }
      const allowed = o.allowedUsers === '*' ? undefined : new Set(o.allowedUsers);
      const replies = channel as TelegramChannel;
      const answers = ctx.tryResolve(AnswersToken);
      const stopping = new Promise<void>((resolve) =>
        answering.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      const answer = (to: Address, text: string, inReplyTo: number, durable: boolean) => {
        // Durable answers are in the store: a stop need not wait for their send to end.
        const sending: Promise<unknown> =
          durable && answers
            ? Promise.race([
                answers.answer(to, text, {
                  key: `${o.name}:answer:${to.id}:${inReplyTo}`,
                  inReplyTo: String(inReplyTo),
                }),
                stopping,
              ])
            : replies.send(
                to,
                { text, inReplyTo: String(inReplyTo) },
                { signal: answering.signal },
              );
        void track(sending).catch((err: unknown) =>
          ctx.logger.warn({ err, chat: to.id }, 'could not answer a Telegram message'),
        );
      };
      const inbound = new TelegramInbound({
        channel: o.name,
        router: ctx.resolve(InboundRouterToken),
        reply: answer,
        isAllowed: (userId) => allowed === undefined || allowed.has(userId),
        texts: { refusal: o.refusal, welcome: o.welcome, textOnly: o.textOnly },
        username: () => username,
        logger: ctx.logger,
        now: () => ctx.clock.now(),
      });
      const guard = ctx.resolve(IntakeGuardToken);
      // One poison update must not hold up every later one: it is kept as a dead letter (with
      // one alert), its sender told why where possible, and the update confirmed.
      const take = async (update: Update): Promise<IntakeOutcome<void>> => {
        const target = replyTargetOf(o.name, update);
        const outcome = await guard.take(
          {
            channel: o.name,
            ...(Number.isSafeInteger(update?.update_id) && {
              key: `${o.name}:update:${update.update_id}${target ? `:${target.to.id}:${target.messageId}` : ''}`,
            }),
            raw: () => JSON.stringify(update),
            ...(target && { replyTo: target.to }),
          },
          () => inbound.handle(update),
        );
        if (!outcome.ok && outcome.deadLetter && target) {
          const reply =
            outcome.failure.reply ??
            'Sorry, this message could not be taken; the operator has been told.';
          answer(target.to, reply, target.messageId, true);
        }
        return outcome;
      };
      // `POST /api/v1/dead-letters/:id/retry` hands a kept update back here.
      stopReplays = guard.onRetry(o.name, async (raw) => take(JSON.parse(raw) as Update));
      typing = new TypingIndicator({ channel: replies, events: ctx.events });
      if (o.webhook) {
        // The route first: Telegram may post as soon as it has the URL.
        // Left in place at stop: while the host stops it answers 503, so Telegram delivers again.
        const gate = ctx.resolve(IntakeGateToken);
        mountWebhook(ctx.resolve(HttpServerToken), {
          path: o.webhook.path ?? new URL(o.webhook.url).pathname,
          secretToken: o.webhook.secretToken,
          handle: async (update) => void (await take(update)),
          accepting: () => !stopped && gate.state !== 'closed',
          logger: ctx.logger,
        });
      }
      const reachable = await checkToken(ctx, api);
      // The host gave up on this start (its timeout) and ran stop() meanwhile: start nothing.
      if (stopped) return;
      username = reachable?.username;
      if (o.webhook) {
        const webhook = o.webhook;
        webhookState.set = reachable !== undefined;
        if (!reachable) {
          void keepTrying(
            () => prepareBot(api, lifetime.signal, o),
            lifetime.signal,
            (error) => {
              webhookState.lastError = describeError(error);
              ctx.logger.warn(
                { reason: webhookState.lastError },
                'could not set the Telegram webhook yet',
              );
            },
          ).then((me) => {
            if (!me) return;
            username = me.username;
            webhookState.set = true;
            webhookState.lastError = undefined;
            ctx.logger.info({ bot: username }, `reached Telegram: webhook set for @${username}`);
          });
        }
        ctx.logger.info(
          { bot: username, url: webhook.url },
          `Telegram bot ${username ? `@${username}` : '(not reached yet)'} takes updates at ${webhook.url}`,
        );
        return;
      }
      const startPolling = (lease?: RoleLease) => {
        poller = new UpdatePoller({
          api,
          handle: async (update) => void (await take(update)),
          // Chats side by side, each in order: a polled batch's tasks are stored together.
          laneOf: chatLaneOf,
          isStopping: (error) => error instanceof IntakeClosedError,
          // Telegram was out of reach so far: learn the bot's name, clear a webhook, first.
          prepare: username
            ? undefined
            : async (signal) => {
                username = (await prepareBot(api, signal, o)).username;
                ctx.logger.info({ bot: username }, `reached Telegram: this is @${username}`);
              },
          onFailing: (state) => {
            const alert = {
              severity: state.unauthorized ? ('critical' as const) : ('warning' as const),
              title: `Telegram channel "${o.name}" cannot poll for messages`,
              message: `${state.failures} failed polls in a row: ${state.lastError ?? 'unknown error'}`,
              source: o.name,
              dedupeKey: `${o.name}:polling`,
            };
            void raiseAlert(ctx.tryResolve(NotifierToken), ctx.events, alert);
          },
          logger: ctx.logger,
          timeoutSeconds: o.pollTimeoutSeconds,
          now: () => ctx.clock.now(),
          ...(lease && { lease }),
        });
        ctx.logger.info(
          {
            bot: username,
            allowedUsers: o.allowedUsers === '*' ? '*' : o.allowedUsers.length,
            ...(lease && { role: lease.role, epoch: lease.epoch }),
          },
          `Telegram bot ${username ? `@${username}` : '(not reached yet)'} is polling for messages`,
        );
        return poller.run();
      };
      const roles = ctx.tryResolve(RolesToken);
      if (!roles) {
        void startPolling();
        return;
      }
      // Hosts sharing the store take turns: the holder of the role polls, the others stand by.
      polling = roles.campaign(`${o.name}:polling`);
      pollInTurns({
        campaign: polling,
        poll: startPolling,
        stopped: () => stopped,
        signal: lifetime.signal,
        logger: ctx.logger,
      });
    },

    async stop() {
      stopped = true;
      lifetime.abort();
      stopAlerts?.();
      stopReplays?.();
      stopMenu?.();
      typing?.stop();
      await poller?.stop();
      // Handed over at once (after the last confirmation): a standby polls at its next check.
      await polling?.resign();
      // Answers to updates the poller just confirmed get a moment to go out before the rest
      // are cut short.
      const settled = Promise.allSettled(answers);
      await Promise.race([settled, sleep(ANSWER_GRACE_MS, undefined, { ref: false })]);
      answering.abort();
      await settled;
      // Sends still in flight (the outbox's) answer first; a reply cut short stays in the outbox.
      await Promise.race([
        connections && Promise.all([connections.polling.close(), connections.sending.close()]),
        sleep(ANSWER_GRACE_MS, undefined, { ref: false }),
      ]);
    },
  };
}

/**
 * Who the bot is, and where Telegram sends its updates: to our webhook URL (with the secret
 * token) in webhook mode; otherwise nowhere, since a webhook left from another setup blocks
 * polling.
 */
async function prepareBot(
  api: Api,
  signal: AbortSignal,
  options: ResolvedTelegramOptions,
): Promise<{ username: string }> {
  const me = await api.getMe(grammySignal(signal));
  if (options.webhook) {
    await api.setWebhook(
      options.webhook.url,
      { secret_token: options.webhook.secretToken, allowed_updates: ['message'] },
      grammySignal(signal),
    );
  } else {
    await api.deleteWebhook({}, grammySignal(signal));
  }
  return me;
}

/**
 * Asks Telegram who the bot is: a refused token stops the host from starting (it will not heal
 * by itself); an unreachable Telegram does not (the poller keeps trying). Returns undefined when
 * Telegram could not be reached.
 */
async function checkToken(ctx: Ctx, api: Api): Promise<{ username: string } | undefined> {
  try {
    return await prepareBot(api, withDeadline(ctx.signal, START_CHECK_MS), ctx.options);
  } catch (error) {
    if (isGrammyError(error) && error.error_code === 401) {
      throw new AgentdError(
        'E_TELEGRAM_TOKEN',
        `Telegram refused the bot token of channel "${ctx.options.name}" (401 Unauthorized): check the token @BotFather gave you`,
      );
    }
    if (isPermanent(error)) {
      throw new AgentdError(
        'E_TELEGRAM_SETUP',
        `Telegram refused to set up channel "${ctx.options.name}": ${describeError(error)}`,
      );
    }
    ctx.logger.warn(
      { reason: describeError(error) },
      ctx.options.webhook
        ? 'could not reach the Telegram Bot API at start; will keep trying to set the webhook'
        : 'could not reach the Telegram Bot API at start; polling will keep trying',
    );
    return undefined;
  }
}
