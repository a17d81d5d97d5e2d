import { z } from 'zod';
import { AgentRegistryToken } from '../contracts/agent.js';
import {
  AnswersToken,
  ChannelRegistryToken,
  type DispatchReceipt,
  type InboundMessage,
  InboundRouterToken,
} from '../contracts/channel.js';
import { SessionStoreToken } from '../contracts/session.js';
import { SessionRunnerToken } from '../failover/plugin.js';
import { AgentdError } from '../kernel/errors.js';
import { HostInfoToken } from '../kernel/host-info.js';
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
        const m = manager;
        offs.push(router.use((message) => sessionCommand(m, message)));
      }
    },
    async start(ctx) {
      const m = manager!;
      const recovered = await m.recover();
      if (recovered > 0)
        ctx.logger.warn({ recovered }, 'suspended sessions left live by a previous run');
      // Registered at start, after register-time hooks (budgets refuse before a session is made).
      const answers = ctx.tryResolve(AnswersToken);
      const off = ctx.resolve(InboundRouterToken).beforeEnqueue?.(async (message, task) => {
        const { session, replacedAgent } = await m.withKnownAgent(await m.sessionFor(message.from));
        if (replacedAgent !== undefined) {
          const notice = `Your session "${session.name}" used agent "${replacedAgent}", which this host no longer has; it now uses "${session.agent}". /new NAME AGENT starts a session with another agent.`;
          const key = `${message.from.channel}:notice:${message.id}`;
          const to = message.from;
          const sent = answers
            ? answers.answer(to, notice, { key })
            : ctx.resolve(ChannelRegistryToken).send(to, { text: notice }, { idempotencyKey: key });
          // The message itself goes on: a notice that cannot be sent is only logged.
          void Promise.resolve(sent).catch((err: unknown) =>
            ctx.logger.warn({ err }, 'could not send the agent fallback notice'),
          );
        }
        return {
          ...task,
          agent: task.agent ?? session.agent,
          sessionKey: `session:${session.id}`,
          metadata: { ...(task.metadata ?? {}), sessionId: session.id },
        };
      });
      if (off) offs.push(off);
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
 * Answers a session command (`/sessions`, `/new`, `/switch`, `/timeout`, `/archive`), or returns
 * undefined for any other message. Channels get it through the sessions plugin.
 *
 * @example
 * ```ts
 * router.use((message) => sessionCommand(manager, message));
 * ```
 */
export async function sessionCommand(
  manager: SessionManager,
  message: InboundMessage,
): Promise<DispatchReceipt | undefined> {
  const match = /^\/(sessions|new|switch|timeout|archive)(?:@\S+)?(?:\s+(.*))?$/s.exec(
    message.text.trim(),
  );
  if (!match) return undefined;
  const [, command, rest = ''] = match;
  const args = rest.trim().split(/\s+/).filter(Boolean);
  const userKey = SessionManager.userKey(message.from);
  const reply = (text: string): DispatchReceipt => ({ outcome: 'handled', reply: text });
  try {
    switch (command) {
      case 'sessions': {
        const list = await manager.list(userKey);
        if (list.length === 0) return reply('No sessions yet; send a message to start one.');
        return reply(list.map((s) => formatSessionLine(s, Date.now())).join('\n'));
      }
      case 'new': {
        if (!args[0]) return reply(HELP);
        const s = await manager.create(message.from, {
          name: args[0],
          ...(args[1] && { agent: args[1] }),
          ...(args.length > 2 && { persona: args.slice(2).join(' ') }),
        });
        return reply(`Created session "${s.name}" (agent ${s.agent}); it is now active.`);
      }
      case 'switch': {
        if (!args[0]) return reply(HELP);
        const s = await manager.switch(userKey, args[0]);
        return reply(`Switched to session "${s.name}" (${s.status}).`);
      }
      case 'timeout': {
        const minutesValue = Number(args[0]);
        const s = await manager.setIdleTimeout(userKey, minutesValue, args[1]);
        return reply(`Session "${s.name}" now suspends after ${minutesValue} min idle.`);
      }
      case 'archive': {
        if (!args[0]) return reply(HELP);
        const s = await manager.archive(userKey, args[0]);
        return reply(`Archived session "${s.name}".`);
      }
    }
  } catch (err) {
    if (err instanceof AgentdError) return reply(errorMessage(err));
    throw err;
  }
  return undefined;
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
