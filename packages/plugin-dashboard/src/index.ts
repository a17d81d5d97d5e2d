/**
 * @module @agentd/plugin-dashboard
 * A web dashboard in the host: tasks, schedules, dead letters, sessions, agents, alerts, a chat
 * with the agents (the `web` channel) and an overview, served
 * by the host's own HTTP server at `/dashboard`, live by Server-Sent Events. See docs/dashboard.md.
 *
 * @example
 * ```ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 * import { webhook } from '@agentd/plugin-webhook';
 * import { dashboard } from '@agentd/plugin-dashboard';
 *
 * export default defineConfig({ plugins: [sqlite(), webhook(), dashboard()] });
 * ```
 */

export { MAX_CHAT_WAIT_MS, WEB_CHANNEL } from './api-chat.js';
export { CSRF_HEADER, DEFAULT_LOGIN_USER, LOCAL_USER, SESSION_COOKIE } from './auth.js';
export { DASHBOARD_ERROR_CODES } from './error-codes.js';
export type { LiveEvent, ThroughputMinute } from './live.js';
export {
  type DashboardOptions,
  dashboardOptionsSchema,
  type ResolvedDashboardOptions,
} from './options.js';
/** The plugin factory, as the default export for JSON configs (`["@agentd/plugin-dashboard", {...}]`). */
export { DASHBOARD_PLUGIN_NAME, dashboard, dashboard as default } from './plugin.js';
