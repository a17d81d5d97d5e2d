/**
 * @module @agentd/core/chat-commands
 * The built-in chat commands (`/help`, `/status`, `/tasks`, `/task`, `/cancel`, `/remind`,
 * `/reminders`, `/timezone`): the factory `chatCommands()`, the `commands` config schema, the
 * menus channels publish (`ChatCommandsToken`) and the sections plugins add to `/status`
 * (`StatusReportToken`).
 */

export type { ChatCommands, CommandMenus } from '../chat-commands/access.js';
export { ChatCommandsToken, Operators, senderKey, taskOwner } from '../chat-commands/access.js';
export { isTaskId, MAX_COMMAND_TEXT, textProblem } from '../chat-commands/arguments.js';
export type { ChatCommandsOptions } from '../chat-commands/plugin.js';
export { CHAT_COMMANDS_PLUGIN_NAME, chatCommands } from '../chat-commands/plugin.js';
export { REMINDER_TASK_TYPE, readReminder } from '../chat-commands/remind-commands.js';
export type { CommandsConfig } from '../chat-commands/schema.js';
export { commandsConfigSchema, commandsConfigShape } from '../chat-commands/schema.js';
export type { StatusReport, StatusSection } from '../chat-commands/status-command.js';
export { StatusReportToken } from '../chat-commands/status-command.js';
export { BACKGROUND_TASK_TYPE } from '../chat-commands/task-commands.js';
