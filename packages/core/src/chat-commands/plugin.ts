import { type CommandInfo, InboundRouterToken } from '../contracts/channel.js';
import { SchedulerToken } from '../contracts/scheduler.js';
import { StateStoreToken } from '../contracts/state.js';
import { TaskQueueToken, TaskStoreToken } from '../contracts/task.js';
import { BudgetGuardToken } from '../failover/plugin.js';
import { HostInfoToken } from '../kernel/host-info.js';
import type { Plugin } from '../kernel/plugin.js';
import { systemTimezone } from '../scheduler/time-zone.js';
import { type ChatCommands, ChatCommandsToken, Operators } from './access.js';
import type { ChatCommandDeps } from './deps.js';
import { helpCommand, unknownCommands } from './help-command.js';
import { reminderCommands } from './remind-commands.js';
import { type CommandsConfig, chatCommandsOptionsSchema } from './schema.js';
import { StatusReportToken, statusCommand } from './status-command.js';
import { taskCommands } from './task-commands.js';

/**
 * Name of the built-in chat commands plugin (reserved).
 *
 * @example
 * ```ts
 * host.plugins.includes(CHAT_COMMANDS_PLUGIN_NAME);
 * ```
 */
export const CHAT_COMMANDS_PLUGIN_NAME = 'commands';

/** Commands only operators may use, left out of everyone else's menu and `/help`. */
const OPERATOR_COMMANDS: ReadonlySet<string> = new Set(['status']);

/** Options of {@link chatCommands}: the `commands` config key, plus the host's zone. */
export interface ChatCommandsOptions extends CommandsConfig {
  /** Zone `/remind` reads times in for users without their own (default: this machine's). */
  timezone?: string;
}

/**
 * The built-in chat commands, on every channel: `/help`, `/status` (operators), `/tasks`,
 * `/task TEXT` and `/task ID`, `/cancel ID`, `/remind WHEN TEXT`, `/reminders` and `/timezone`;
 * an unknown `/command` is answered "Unknown command, see /help" (or, with `unknown: 'agent'`,
 * goes to the agent). Users see and cancel their own tasks; the config's `operators` see all.
 * It provides {@link ChatCommandsToken} (command menus per audience, which the Telegram channel
 * publishes per scope) and {@link StatusReportToken} (sections other plugins add to `/status`).
 * The builtin preset adds it unless the config says `commands: false`.
 *
 * @example
 * ```ts
 * createHost({
 *   agents: [agent('echo', async (input) => `echo: ${String(input)}`)],
 *   plugins: [memoryStore(), chatCommands({ operators: ['telegram:42'], unknown: 'reply' })],
 * });
 * ```
 */
export function chatCommands(given: ChatCommandsOptions = {}): Plugin<ChatCommandsOptions> {
  const offs: (() => void)[] = [];
  return {
    name: CHAT_COMMANDS_PLUGIN_NAME,
    provides: [ChatCommandsToken, StatusReportToken],
    optionsSchema: chatCommandsOptionsSchema,
    options: given,
    register(ctx) {
      // A preset's plugins come with options its config schema already checked.
      const options = ctx.options ?? given;
      const operators = new Operators(options.operators ?? []);
      const deps: ChatCommandDeps = {
        store: () => ctx.tryResolve(TaskStoreToken),
        queue: () => ctx.tryResolve(TaskQueueToken),
        budgets: () => ctx.tryResolve(BudgetGuardToken),
        state: () => ctx.tryResolve(StateStoreToken),
        clock: ctx.clock,
        operators,
        listLimit: options.listLimit ?? 10,
        hostTimezone: options.timezone ?? systemTimezone(),
      };
      const router = ctx.resolve(InboundRouterToken);
      const forEveryone = (commands: CommandInfo[]) =>
        commands.filter((c) => !OPERATOR_COMMANDS.has(c.name));
      const visible = (commands: CommandInfo[], operator: boolean) =>
        operator ? commands : forEveryone(commands);
      const status = statusCommand(deps, {
        host: () => ctx.resolve(HostInfoToken),
        scheduler: () => ctx.tryResolve(SchedulerToken),
      });
      const service: ChatCommands = {
        menus: (channel) => {
          const all = router.commands();
          return {
            everyone: forEveryone(all),
            operators: all,
            operatorIds: operators.idsOn(channel),
          };
        },
        isOperator: (message) => operators.includes(message),
      };
      ctx.provide(ChatCommandsToken, service);
      ctx.provide(StatusReportToken, status.report);
      for (const middleware of [
        helpCommand(router, visible, service.isOperator),
        status.middleware,
        ...taskCommands(deps),
        ...reminderCommands(deps),
      ]) {
        offs.push(router.use(middleware));
      }
      if (options.unknown !== 'agent') {
        offs.push(router.use(unknownCommands(router), { phase: 'commands' }));
      }
    },
    stop() {
      for (const off of offs.splice(0)) off();
    },
  };
}
