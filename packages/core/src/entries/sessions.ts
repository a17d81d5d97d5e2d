/**
 * @module @agentd/core/sessions
 * The sessions built-in: its factory `sessions()`, config schema, the `SessionManager` and its
 * token, and the session chat commands.
 */

export type { SessionManagerOptions } from '../sessions/manager.js';
export {
  DEFAULT_SESSION_IDLE_MS,
  IDLE_TIMEOUT_RANGE,
  SessionError,
  SessionManager,
  SessionManagerToken,
} from '../sessions/manager.js';
export type { SessionsConfig } from '../sessions/plugin.js';
export {
  formatSessionLine,
  SESSIONS_PLUGIN_NAME,
  sessionCommands,
  sessions,
  sessionsConfigSchema,
  sessionsConfigShape,
} from '../sessions/plugin.js';
