import type { CommandInfo, InboundMessage } from '../contracts/channel.js';
import type { Task } from '../contracts/task.js';
import { createToken } from '../kernel/token.js';

/**
 * Who a task belongs to, as `channel:senderId`: the person who sent the message or command that
 * made it (in a group chat, that person, not the group). Undefined for tasks no chat user made
 * (schedules, webhooks, the CLI): only operators see those.
 *
 * @example
 * ```ts
 * taskOwner(task); // 'telegram:42'
 * ```
 */
export function taskOwner(task: Task): string | undefined {
  const { owner, sender } = task.metadata;
  if (typeof owner === 'string') return owner;
  if (task.replyTo && typeof sender === 'string') return `${task.replyTo.channel}:${sender}`;
  return undefined;
}

/**
 * The owner key of a message's sender: `channel:senderId`, what {@link taskOwner} compares with.
 *
 * @example
 * ```ts
 * senderKey(message); // 'telegram:42'
 * ```
 */
export function senderKey(message: InboundMessage): string {
  return `${message.from.channel}:${message.sender.id}`;
}

/**
 * The operators of the `commands` config: who sees every user's tasks and may use operator
 * commands. A message is an operator's when its sender (`telegram:42`) or its conversation
 * (`telegram:-1001234`) is on the list.
 *
 * @example
 * ```ts
 * const operators = new Operators(['telegram:42']);
 * operators.includes(message); // true for a message from user 42 on channel "telegram"
 * operators.idsOn('telegram'); // ['42']
 * ```
 */
export class Operators {
  readonly #entries: ReadonlySet<string>;

  constructor(entries: readonly string[]) {
    this.#entries = new Set(entries);
  }

  includes(message: InboundMessage): boolean {
    return (
      this.#entries.has(senderKey(message)) ||
      this.#entries.has(`${message.from.channel}:${message.from.id}`)
    );
  }

  /** The ids listed for `channel` (users or conversations), for per-chat command menus. */
  idsOn(channel: string): string[] {
    const prefix = `${channel}:`;
    return [...this.#entries]
      .filter((e) => e.startsWith(prefix))
      .map((e) => e.slice(prefix.length));
  }
}

/** The command menus of one channel: everyone's, and the one operators get. */
export interface CommandMenus {
  /** What every user sees (operator commands left out). */
  everyone: CommandInfo[];
  /** Every command, for the operators' conversations. */
  operators: CommandInfo[];
  /** The operators' ids on this channel (users or conversations) to publish `operators` for. */
  operatorIds: string[];
}

/**
 * What the built-in chat commands offer channels: the command menus per audience (Telegram
 * publishes them with `setMyCommands` per scope) and who is an operator.
 *
 * @example
 * ```ts
 * const chat = ctx.tryResolve(ChatCommandsToken);
 * const menus = chat?.menus('telegram');
 * // { everyone: [...], operators: [...], operatorIds: ['42'] }
 * ```
 */
export interface ChatCommands {
  menus(channel: string): CommandMenus;
  isOperator(message: InboundMessage): boolean;
}

/** The {@link ChatCommands} service, provided by the `commands` built-in. */
export const ChatCommandsToken = createToken<ChatCommands>('agentd.chat-commands');
