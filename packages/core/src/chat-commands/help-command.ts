import type {
  CommandInfo,
  CommandMiddleware,
  InboundMessage,
  InboundMiddleware,
  InboundRouter,
} from '../contracts/channel.js';
import { command } from '../kernel/inbound-command.js';

/**
 * `/help`: every command the sender may use, with its description, plugins' commands included
 * (whatever the router lists when the question comes, so commands added in `start` count).
 *
 * @example
 * ```ts
 * router.use(helpCommand(router, (all, operator) => all, (message) => operators.includes(message)));
 * ```
 */
export function helpCommand(
  router: InboundRouter,
  visible: (commands: CommandInfo[], operator: boolean) => CommandInfo[],
  isOperator: (message: InboundMessage) => boolean,
): CommandMiddleware {
  return command(
    'help',
    (ctx) => {
      const seen = new Set<string>();
      const lines: string[] = [];
      for (const c of visible(router.commands(), isOperator(ctx.message))) {
        if (seen.has(c.name)) continue;
        seen.add(c.name);
        lines.push(`/${c.name} - ${c.description}`);
      }
      return `Commands:\n${lines.join('\n')}\nAnything else you write goes to the agent.`;
    },
    { description: 'List the commands' },
  );
}

/**
 * Answers a `/command` no middleware knows with "Unknown command /x, see /help", instead of
 * handing it to the agent as text. Known means listed by the router (`command()` middleware);
 * it may sit anywhere in the `commands` phase.
 *
 * @example
 * ```ts
 * router.use(unknownCommands(router));
 * ```
 */
export function unknownCommands(router: InboundRouter): InboundMiddleware {
  return (ctx, next) => {
    const name = ctx.command?.name;
    if (name === undefined || router.commands().some((c) => c.name === name)) return next();
    return { outcome: 'handled', reply: `Unknown command /${name}, see /help.` };
  };
}
