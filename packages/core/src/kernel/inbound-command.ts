import type {
  CommandMiddleware,
  DispatchReceipt,
  InboundContext,
  InboundMiddleware,
  InboundNext,
  ParsedCommand,
} from '../contracts/channel.js';
import { AgentdError } from './errors.js';

/**
 * `/name`, an optional `@bot` mention, then whitespace or the end. Names follow Telegram's rule
 * (letters, digits, underscores, up to 32), which every other channel can type too.
 */
const COMMAND = /^\/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]+))?(?=\s|$)/;

/**
 * Parses `/name@bot args...` (the mention optional). Returns undefined for any text that is not
 * a command. The router parses each message once and hands the result to middleware as
 * `ctx.command`; channels use it for commands of their own (Telegram's `/start`).
 *
 * @example
 * ```ts
 * parseCommand('/new@my_bot work claude');
 * // { name: 'new', args: ['work', 'claude'], argText: 'work claude', addressedTo: 'my_bot', text: '/new work claude' }
 * parseCommand('hello'); // undefined
 * ```
 */
export function parseCommand(text: string): ParsedCommand | undefined {
  const trimmed = text.trim();
  const match = COMMAND.exec(trimmed);
  if (!match) return undefined;
  const [whole, name, addressedTo] = match as unknown as [string, string, string | undefined];
  const rest = trimmed.slice(whole.length);
  const argText = rest.trim();
  return {
    name,
    args: argText === '' ? [] : argText.split(/\s+/),
    argText,
    ...(addressedTo !== undefined && { addressedTo }),
    text: `/${name}${rest}`,
  };
}

/**
 * Whether a parsed command is for the bot named `botName`: it names no bot, or names this one
 * (case aside, as Telegram matches usernames). When the channel does not know its bot's name,
 * every command counts as its own.
 *
 * @example
 * ```ts
 * isForBot(parseCommand('/system@my_bot')!, 'My_Bot'); // true
 * isForBot(parseCommand('/system@other_bot')!, 'my_bot'); // false
 * ```
 */
export function isForBot(command: ParsedCommand, botName: string | undefined): boolean {
  if (command.addressedTo === undefined || botName === undefined || botName === '') return true;
  return command.addressedTo.toLowerCase() === botName.toLowerCase();
}

/** What a {@link CommandHandler} gets: the inbound context, its command always set. */
export interface CommandContext extends InboundContext {
  readonly command: ParsedCommand;
}

/**
 * Answers a command: return the reply text (the message is then `handled`), a receipt of your
 * own, or `next()` to pass the message on (it then becomes a task like any text).
 */
export type CommandHandler = (
  ctx: CommandContext,
  next: InboundNext,
) => Promise<string | DispatchReceipt> | string | DispatchReceipt;

/** Options of {@link command}. */
export interface CommandOptions {
  /** One line for command menus (Telegram shows it beside the command): `List your sessions`. */
  description: string;
}

const NAME = /^[A-Za-z0-9_]{1,32}$/;

/**
 * A middleware that answers `/name` (also `/name@thisbot` in a group) and passes every other
 * message on. The router lists it in `commands()` so channels can publish it (Telegram's
 * command menu); it runs in the `commands` phase, before budgets and session routing.
 *
 * @example
 * ```ts
 * import { command, InboundRouterToken } from '@agentd/core';
 *
 * const ping = command('ping', (ctx) => `pong ${ctx.command.argText}`, {
 *   description: 'Check that the host answers',
 * });
 * const plugin = {
 *   name: 'ping',
 *   register(ctx) {
 *     ctx.resolve(InboundRouterToken).use(ping);
 *   },
 * };
 * ```
 */
export function command(
  name: string,
  handler: CommandHandler,
  options: CommandOptions,
): CommandMiddleware {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (!NAME.test(bare)) {
    throw new AgentdError(
      'E_COMMAND_NAME',
      `command name "${name}" is not valid: use 1 to 32 letters, digits or underscores`,
    );
  }
  if (typeof options?.description !== 'string' || options.description.trim() === '') {
    throw new AgentdError(
      'E_COMMAND_DESCRIPTION',
      `command "/${bare}" needs a description (channels show it in their command menus)`,
    );
  }
  const middleware = async (ctx: InboundContext, next: InboundNext): Promise<DispatchReceipt> => {
    if (ctx.command?.name !== bare) return next();
    const answer = await handler(ctx as CommandContext, next);
    return typeof answer === 'string' ? { outcome: 'handled', reply: answer } : answer;
  };
  COMMAND_NAMES.set(middleware, bare);
  return Object.assign(middleware, {
    command: { name: bare, description: options.description.trim() },
  });
}

/** The command each middleware made by {@link command} answers; it passes on everything else. */
const COMMAND_NAMES = new WeakMap<InboundMiddleware, string>();

/**
 * Whether `middleware` was made by {@link command} for a command other than `commandName` (the
 * message's, if it is one): it would only call `next()`, so the router may skip it. Every plain
 * message passes each command of the host; skipping spares it a promise and a call per command.
 *
 * @example
 * ```ts
 * passesOn(command('ping', () => 'pong', { description: 'Ping' }), undefined); // true
 * ```
 */
export function passesOn(middleware: InboundMiddleware, commandName: string | undefined): boolean {
  const own = COMMAND_NAMES.get(middleware);
  return own !== undefined && own !== commandName;
}
