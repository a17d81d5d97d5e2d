import type { InboundMessage } from '../contracts/channel.js';
import type { Clock } from '../contracts/clock.js';
import type { StateStore } from '../contracts/state.js';
import type { TaskQueue, TaskStore } from '../contracts/task.js';
import type { BudgetGuard } from '../failover/budgets.js';
import { timezoneProblem } from '../scheduler/time-zone.js';
import { type Operators, senderKey } from './access.js';

/** The StateStore namespace of the chat commands' per-user settings. */
export const CHAT_COMMANDS_STATE = 'chat-commands';

/** What the chat commands use, looked up when a command runs (a host may lack a store). */
export interface ChatCommandDeps {
  store(): TaskStore | undefined;
  queue(): TaskQueue | undefined;
  /** The failover plugin's budgets, when present: `/task` and `/remind` are work like any text. */
  budgets(): BudgetGuard | undefined;
  state(): StateStore | undefined;
  clock: Clock;
  operators: Operators;
  /** Rows `/tasks` and `/reminders` show. */
  listLimit: number;
  /** The host's zone (the config's `timezone`, else the machine's). */
  hostTimezone: string;
}

/** The answer when the host has no task store. */
export const NO_STORE = 'This host has no task store, so it keeps no tasks.';

/**
 * The zone a user's times are read and shown in: theirs, set with `/timezone`, else the host's.
 *
 * @example
 * ```ts
 * await userTimezone(deps, message); // 'Europe/Berlin'
 * ```
 */
export async function userTimezone(
  deps: ChatCommandDeps,
  message: InboundMessage,
): Promise<{ zone: string; own: boolean }> {
  const saved = await deps
    .state()
    ?.get<string>(CHAT_COMMANDS_STATE, `timezone:${senderKey(message)}`);
  // A zone this machine's ICU no longer knows (after an upgrade) falls back to the host's.
  if (typeof saved === 'string' && timezoneProblem(saved) === undefined) {
    return { zone: saved, own: true };
  }
  return { zone: deps.hostTimezone, own: false };
}

/**
 * Whether the sender may run new work now: the failover plugin's budget refusal, or undefined.
 *
 * @example
 * ```ts
 * const refusal = budgetRefusal(deps, message);
 * if (refusal) return refusal;
 * ```
 */
export function budgetRefusal(deps: ChatCommandDeps, message: InboundMessage): string | undefined {
  const budgets = deps.budgets();
  if (!budgets) return undefined;
  const key = `${message.from.channel}:${message.from.id}`;
  return (budgets.admit(key) ?? budgets.checkCost())?.message;
}
