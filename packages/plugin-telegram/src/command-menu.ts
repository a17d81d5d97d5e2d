import type { CommandInfo } from '@agentd/core';
import type { BotCommand } from 'grammy/types';

/** Telegram's rules for a menu entry: a lower-case name of up to 32 characters, ≤ 256 for the text. */
const MENU_NAME = /^[a-z0-9_]{1,32}$/;
const MAX_DESCRIPTION = 256;
/** Telegram takes at most 100 commands per scope. */
const MAX_COMMANDS = 100;

/**
 * The host's commands as Telegram's command menu takes them: names Telegram cannot show
 * (upper case) left out, a repeated name listed once (the first answers it, as in the chain),
 * descriptions cut to Telegram's limit, at most 100 entries.
 *
 * @example
 * ```ts
 * menuOf([{ name: 'sessions', description: 'List your sessions' }]);
 * // [{ command: 'sessions', description: 'List your sessions' }]
 * ```
 */
export function menuOf(commands: readonly CommandInfo[]): BotCommand[] {
  const seen = new Set<string>();
  const menu: BotCommand[] = [];
  for (const { name, description } of commands) {
    if (!MENU_NAME.test(name) || seen.has(name)) continue;
    seen.add(name);
    menu.push({ command: name, description: description.slice(0, MAX_DESCRIPTION) });
    if (menu.length === MAX_COMMANDS) break;
  }
  return menu;
}
