import type { CommandInfo } from '@agentd/core';
import type { ChatCommands } from '@agentd/core/chat-commands';
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

/** A menu to publish: for everyone (no scope), or for one chat (Telegram's `chat` scope). */
export interface ScopedMenu {
  scope?: { type: 'chat'; chat_id: number };
  commands: BotCommand[];
}

/**
 * The menus channel `channel` publishes. With the built-in chat commands: everyone's menu (no
 * operator commands) in the default scope, and the full menu in each operator's chat (an
 * operator's user id is their private chat's id; a group's id puts it in that group). Without
 * them: every command in the default scope.
 *
 * @example
 * ```ts
 * commandMenus('telegram', router.commands(), ctx.tryResolve(ChatCommandsToken));
 * // [{ commands: [...] }, { scope: { type: 'chat', chat_id: 42 }, commands: [...] }]
 * ```
 */
export function commandMenus(
  channel: string,
  commands: readonly CommandInfo[],
  chat: ChatCommands | undefined,
): ScopedMenu[] {
  if (!chat) return [{ commands: menuOf(commands) }];
  const menus = chat.menus(channel);
  const operatorMenu = menuOf(menus.operators);
  return [
    { commands: menuOf(menus.everyone) },
    ...menus.operatorIds
      // Telegram chat ids are numbers; an entry that is not one names no Telegram chat.
      .filter((id) => /^-?\d{1,20}$/.test(id) && Number.isSafeInteger(Number(id)))
      .map((id) => ({
        scope: { type: 'chat' as const, chat_id: Number(id) },
        commands: operatorMenu,
      })),
  ];
}
