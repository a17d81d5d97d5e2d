import { z } from 'zod';
import { AgentRegistryToken } from '../contracts/agent.js';
import {
  AnswersToken,
  ChannelRegistryToken,
  type CommandMiddleware,
  InboundRouterToken,
} from '../contracts/channel.js';
import { SessionStoreToken } from '../contracts/session.js';
import { SessionRunnerToken } from '../failover/plugin.js';
import { AgentdError } from '../kernel/errors.js';
import { HostInfoToken } from '../kernel/host-info.js';
import { type CommandContext, type CommandHandler, command } from '../kernel/inbound-command.js';
import type { Plugin } from '../kernel/plugin.js';
import { errorMessage } from '../kernel/timeout.js';
import {
  IDLE_TIMEOUT_RANGE,
  SessionManager,
  type SessionManagerOptions,
  SessionManagerToken,
} from './manager.js';

/**
 * Schema of the `sessions` config key (`false` turns sessions off).
 *
 * @example
 * ```ts
 * sessionsConfigSchema.parse({ idleTimeoutMinutes: 30, commands: true });
 * ```
 */
export const sessionsConfigSchema = z
  .object({
    /** Idle timeout of new sessions, 1 to 120 minutes (default 10). */
    idleTimeoutMinutes: z.number().int().min(IDLE_TIMEOUT_RANGE.min).max(IDLE_TIMEOUT_RANGE.max),
    defaultAgent: z.string().min(1),
    defaultName: z.string().regex(/^[\w.-]{1,40}$/),
    resumeNotice: z.boolean(),
    killGraceMs: z.number().int().min(0).max(60_000),
    historyLimit: z.number().int().min(0).max(10_000),
    /** Answer `/new`, `/switch`, `/sessions`, `/timeout`, `/archive` on every channel (default true). */
    commands: z.boolean(),
  })
  .partial()
  .strict();

/** The `sessions` config key. */
export type SessionsConfig = z.input<typeof sessionsConfigSchema>;

/**
 * The `sessions` config key, to spread into the host config schema.
 *
 * @example
 * ```ts
 * const hostConfigSchema = z.object({ ...sessionsConfigShape }).strict();
 * ```
 */
export const sessionsConfigShape = {
  sessions: z.union([z.literal(false), sessionsConfigSchema]).optional(),
};

/**
 * Name of the built-in sessions plugin (reserved).
 *
 * @example
 * ```ts
 * host.plugins.includes(SESSIONS_PLUGIN_NAME);
 * ```
 */
export const SESSIONS_PLUGIN_NAME = 'sessions';

/**
 * The built-in sessions plugin: provides the {@link SessionManagerToken}, binds every inbound
 * message to its user's active session (created as `main` on first contact), suspends idle
 * sessions, recovers sessions a crash left live at start, releases every live resource at stop,
 * and (unless `commands: false`) answers the session commands on every channel. Needs the
 * failover plugin, whose executor runs tasks inside their session.
 *
 * @example
 * ```ts
 * createHost({
 *   agents: [commandAgent({ name: 'claude', command: 'claude', mode: 'session', session: { resumeArgs: ['--continue'] } })],
 *   plugins: [sqlite(), failover(), sessions({ idleTimeoutMinutes: 15 })],
 * });
 * ```
 */
export function sessions(options: SessionsConfig = {}): Plugin {
  let manager: SessionManager | undefined;
  const offs: (() => void)[] = [];
  return {
    name: SESSIONS_PLUGIN_NAME,
    dependsOn: [SessionStoreToken],
    provides: [SessionManagerToken, SessionRunnerToken],
    register(ctx) {
      const managerOptions: SessionManagerOptions = {
        ...(options.idleTimeoutMinutes !== undefined && {
          idleTimeoutMs: options.idleTimeoutMinutes * 60_000,
        }),
        ...(options.defaultAgent !== undefined && { defaultAgent: options.defaultAgent }),
        ...(options.defaultName !== undefined && { defaultName: options.defaultName }),
        ...(options.resumeNotice !== undefined && { resumeNotice: options.resumeNotice }),
        ...(options.killGraceMs !== undefined && { killGraceMs: options.killGraceMs }),
        ...(options.historyLimit !== undefined && { historyLimit: options.historyLimit }),
      };
      manager = new SessionManager(
        {
          store: ctx.resolve(SessionStoreToken),
          agents: ctx.resolve(AgentRegistryToken),
          clock: ctx.clock,
          logger: ctx.logger,
          events: ctx.events,
          channels: ctx.resolve(ChannelRegistryToken),
          owner: ctx.resolve(HostInfoToken).instanceId,
        },
        managerOptions,
      );
      ctx.provide(SessionManagerToken, manager);
      ctx.provide(SessionRunnerToken, manager);
      const router = ctx.resolve(InboundRouterToken);
      if (options.commands !== false) {
        for (const middleware of sessionCommands(manager)) offs.push(router.use(middleware));
      }
      // Routing phase: after commands and after admission (budgets refuse before a session is
      // made). Messages wait at the readiness barrier, so `start` has recovered the sessions by
      // the time this runs.
      const m = manager;
      const answers = () => ctx.tryResolve(AnswersToken);
      offs.push(
        router.use(
          async (inbound, next) => {
            const { message, task } = inbound;
            const { session, replacedAgent } = await m.withKnownAgent(
              await m.sessionFor(message.from),
            );
            if (replacedAgent !== undefined) {
              const notice = `Your session "${session.name}" used agent "${replacedAgent}", which this host no longer has; it now uses "${session.agent}". /new NAME AGENT starts a session with another agent.`;
              const key = `${message.from.channel}:notice:${message.id}`;
              const to = message.from;
              const outbox = answers();
              const sent = outbox
                ? outbox.answer(to, notice, { key })
                : ctx
                    .resolve(ChannelRegistryToken)
                    .send(to, { text: notice }, { idempotencyKey: key });
              // The message itself goes on: a notice that cannot be sent is only logged.
              void Promise.resolve(sent).catch((err: unknown) =>
                ctx.logger.warn({ err }, 'could not send the agent fallback notice'),
              );
            }
            inbound.task = {
              ...task,
              agent: task.agent ?? session.agent,
              sessionKey: `session:${session.id}`,
              metadata: { ...(task.metadata ?? {}), sessionId: session.id },
            };
            return next();
          },
          { phase: 'routing' },
        ),
      );
    },
    async start(ctx) {
      const recovered = await manager!.recover();
      if (recovered > 0)
        ctx.logger.warn({ recovered }, 'suspended sessions left live by a previous run');
    },
    async stop() {
      for (const off of offs.splice(0)) off();
      await manager?.stopAll();
    },
  };
}

const HELP =
  'Sessions: /sessions, /new NAME [AGENT] [PERSONA...], /switch NAME, /timeout MINUTES, /archive NAME';

/**
 * The session commands (`/sessions`, `/new`, `/switch`, `/timeout`, `/archive`) as router
 * middleware, each with its menu description. The sessions plugin adds them unless
 * `commands: false`.
 *
 * @example
 * ```ts
 * for (const middleware of sessionCommands(manager)) router.use(middleware);
 * ```
 */
export function sessionCommands(manager: SessionManager): CommandMiddleware[] {
  // A refusal the manager raises on purpose (unknown session, bad timeout) is the answer.
  const answering =
    (handler: CommandHandler): CommandHandler =>
    async (ctx, next) => {
      try {
        return await handler(ctx, next);
      } catch (err) {
        if (err instanceof AgentdError) return errorMessage(err);
        throw err;
      }
    };
  const userKey = (ctx: CommandContext) => SessionManager.userKey(ctx.message.from);
  return [
    command(
      'sessions',
      answering(async (ctx) => {
        const list = await manager.list(userKey(ctx));
        if (list.length === 0) return 'No sessions yet; send a message to start one.';
        return list.map((s) => formatSessionLine(s, Date.now())).join('\n');
      }),
      { description: 'List your sessions' },
    ),
    command(
      'new',
      answering(async (ctx) => {
        const args = ctx.command.args;
        if (!args[0]) return HELP;
        const s = await manager.create(ctx.message.from, {
          name: args[0],
          ...(args[1] && { agent: args[1] }),
          ...(args.length > 2 && { persona: args.slice(2).join(' ') }),
        });
        return `Created session "${s.name}" (agent ${s.agent}); it is now active.`;
      }),
      { description: 'Start a session: /new NAME [AGENT] [PERSONA...]' },
    ),
    command(
      'switch',
      answering(async (ctx) => {
        const name = ctx.command.args[0];
        if (!name) return HELP;
        const s = await manager.switch(userKey(ctx), name);
        return `Switched to session "${s.name}" (${s.status}).`;
      }),
      { description: 'Switch to another session: /switch NAME' },
    ),
    command(
      'timeout',
      answering(async (ctx) => {
        const [minutes, name] = ctx.command.args;
        const minutesValue = Number(minutes);
        const s = await manager.setIdleTimeout(userKey(ctx), minutesValue, name);
        return `Session "${s.name}" now suspends after ${minutesValue} min idle.`;
      }),
      { description: 'Suspend the session after MINUTES idle: /timeout MINUTES [NAME]' },
    ),
    command(
      'archive',
      answering(async (ctx) => {
        const name = ctx.command.args[0];
        if (!name) return HELP;
        const s = await manager.archive(userKey(ctx), name);
        return `Archived session "${s.name}".`;
      }),
      { description: 'Archive a session: /archive NAME' },
    ),
  ];
}

/**
 * One line of a session list: marker, name, status, persona, last activity.
 *
 * @example
 * ```ts
 * formatSessionLine(session, Date.now()); // '* work  live  persona: reviewer  active 3 min ago'
 * ```
 */
export function formatSessionLine(
  s: {
    name: string;
    status: string;
    persona: string | null;
    active: boolean;
    lastActivityAt: number;
    agent: string;
  },
  now: number,
): string {
  const ago = Math.max(0, Math.round((now - s.lastActivityAt) / 60_000));
  return `${s.active ? '*' : ' '} ${s.name}  ${s.status}  agent: ${s.agent}${s.persona ? `  persona: ${s.persona}` : ''}  active ${ago} min ago`;
}
