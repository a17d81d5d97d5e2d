/**
 * The catalogue of error codes core raises (or records on dead letters), each with a one-line
 * summary; docs/errors.md gives every code's cause and fix. {@link AgentdError}'s `code` is typed
 * by {@link AgentdErrorCode}, so a code that is in no catalogue does not compile.
 *
 * Codes that belong to a contract (the store's validation codes, `E_STORE_NOT_OPEN`, the schema
 * codes) live here even though only a store raises them, so every store raises the same ones.
 * A package's own codes live in that package (its `src/error-codes.ts`), added to
 * {@link AgentdErrorCodes} by declaration merging.
 *
 * @example
 * ```ts
 * import { CORE_ERROR_CODES } from '@agentd/core/host';
 *
 * CORE_ERROR_CODES.E_NO_AGENT; // 'No agent was named and the host has no default agent.'
 * ```
 */
export const CORE_ERROR_CODES = {
  // Config, host and plugins.
  E_CONFIG: 'A config file could not be found, loaded or validated.',
  E_DUPLICATE_PLUGIN: 'Two plugins have the same name.',
  E_DUPLICATE_SERVICE: 'Two plugins provide the same service token.',
  E_MISSING_SERVICE: 'A service was resolved or depended on that no plugin provides.',
  E_MISSING_PLUGIN: 'A plugin depends on a plugin name that is not in the plugins list.',
  E_PLUGIN_CYCLE: 'Plugins depend on each other in a cycle.',
  E_PLUGIN_REGISTER: 'A plugin failed in register(), or did not provide a service it declares.',
  E_PLUGIN_START: "A plugin's start() failed or timed out; the cause holds the original error.",
  E_START_ABORTED: 'The host was stopped while it was starting.',
  E_HOST_STATE: 'start() was called on a host that was already started.',
  E_PROVIDE_PHASE: 'A plugin provided a service or agent outside register().',
  E_TIMEOUT: 'A hook or operation did not finish within its time limit.',
  E_INTAKE_CLOSED: 'Work was offered while the host is stopping or stopped.',
  // The inbound chain and chat commands.
  E_INBOUND_PHASE: 'A middleware was added to the inbound chain with an unknown phase.',
  E_INBOUND_NEXT_TWICE: 'An inbound middleware called next() more than once.',
  E_COMMAND_NAME: 'A command name is not 1 to 32 letters, digits or underscores.',
  E_COMMAND_DESCRIPTION: 'A command was defined without a description.',
  // Registries of agents, channels and health checks.
  E_INVALID: 'An agent, channel or health check was registered without a name.',
  E_DUPLICATE: 'An agent, channel or health check with that name is already registered.',
  E_NO_CHANNEL: 'A reply was sent to a channel this host does not have.',
  // Tasks and intake.
  E_INVALID_TASK: 'A task is malformed or too large for the store.',
  E_INVALID_INPUT: 'An inbound input is malformed or refused by a rule; it is never retried.',
  E_NO_AGENT: 'No agent was named and the host has no default agent.',
  E_UNKNOWN_AGENT: 'A task, schedule, session or config names an agent the host does not have.',
  E_TASK_NOT_HOLDABLE: 'Only a pending task can be held; this one is running or finished.',
  E_TASK_NOT_HELD:
    'Only a held (or pending) task can be released; this one is running or finished.',
  // Dead letters (the intake guard, the CLI and the HTTP API).
  E_NO_DEAD_LETTERS: 'The store keeps no dead letters, or the host has no store for them.',
  E_NOT_FOUND: 'No dead letter with that id.',
  E_CONFLICT: 'The dead letter was already retried or dismissed.',
  E_TRUNCATED: 'Only part of the dead letter was kept, so it cannot be retried.',
  E_NO_REPLAY: "The dead letter's channel does not run in this host, so it cannot be retried.",
  // Recorded on dead letters by classifyIntakeError, never thrown.
  E_INTAKE: 'Recorded on a dead letter whose error had no code of its own.',
  E_TYPEERROR: 'Recorded on a dead letter when taking the input raised a TypeError.',
  E_RANGEERROR: 'Recorded on a dead letter when taking the input raised a RangeError.',
  E_SYNTAXERROR: 'Recorded on a dead letter when taking the input raised a SyntaxError.',
  // Failover.
  E_FAILOVER_EXHAUSTED: "Every agent of a task's failover chain failed.",
  E_BUDGET_EXCEEDED: 'New work was refused by a rate limit or a cost cap.',
  // Schedules and reminders.
  E_BAD_SCHEDULE: 'A schedule is invalid: no name, a bad cron or interval, both or neither.',
  E_BAD_TIME: 'A reminder time or a time zone cannot be read.',
  E_DUPLICATE_SCHEDULE: 'A schedule with that name already exists.',
  E_UNKNOWN_SCHEDULE: 'No schedule with that name.',
  E_SCHEDULE_CONTENDED: "A schedule's state kept changing under this host; it gave up.",
  // Sessions.
  E_NO_SESSION: 'The session does not exist (any more), or the user has none active.',
  E_SESSION_NAME: 'A session name is not 1 to 40 letters, digits, _ . or -.',
  E_SESSION_EXISTS: 'A session with that name already exists for this user.',
  E_SESSION_ARCHIVED: 'The session is archived and takes no new messages.',
  E_SESSION_TIMEOUT: 'An idle timeout is outside the allowed range.',
  E_SESSION_BUSY: 'A session runs a task, or another host holds it: it cannot be suspended now.',
  E_STOPPING: 'The host is stopping; no session is resumed.',
  E_RESUME_FAILED: 'A suspended session could not be resumed; it stays suspended.',
  // Roles held by one host at a time.
  E_INVALID_ROLE: 'A role name is empty or not a string, or this host already campaigns for it.',
  E_ROLE_LOST: 'Work for a role was attempted after this host lost or released the role.',
  // The store contract: every store raises these.
  E_STORE: 'The store broke an invariant of its own (a write that stored and found nothing).',
  E_STORE_NOT_OPEN: 'The store was used before its plugin started or after it stopped.',
  E_STORE_SCHEMA: "A migration failed or left the store's data inconsistent.",
  E_STORE_SCHEMA_NEWER: 'The store was migrated by a newer version of agentd.',
  E_STORE_UNAVAILABLE:
    'The store cannot be reached just now (a database restart, a network cut); retry later.',
  E_STORE_COPY:
    'agentd store copy cannot copy: a store cannot export or import, the target is not empty, or the counts differ.',
  E_NO_BACKUPS: 'The store cannot back up or restore, or backups are turned off.',
  E_INVALID_CLAIM: 'A claim was asked for with a bad limit, lease or owner.',
  E_INVALID_RESULT: "A task's result cannot be stored as JSON.",
  E_INVALID_PROCESS: "A task's process record is not a plain JSON object.",
  E_INVALID_QUERY: 'A task list query has a bad limit or offset.',
  E_INVALID_PRUNE: 'A prune was asked for with a bad limit.',
  E_INVALID_SESSION: 'A session record is malformed or cannot be stored as JSON.',
  E_UNKNOWN_SESSION: 'No session with that id (for that user).',
  E_INVALID_STATE: 'A state key, namespace or value is malformed or cannot be stored as JSON.',
  E_INVALID_DEAD_LETTER: 'A dead letter is malformed.',
  // The command line.
  E_USAGE: 'A command was given options or arguments it cannot use.',
  E_IMPORT: 'A task import file cannot be read or parsed.',
  E_NO_STORE: 'The config has no store plugin, and the command needs one.',
  E_NO_API:
    "The command talks to the running host's HTTP API, and none answers (or the config has none).",
} as const;

type CoreErrorCodes = typeof CORE_ERROR_CODES;

/**
 * Every error code, by name, with its one-line summary. Core's come from
 * {@link CORE_ERROR_CODES}; packages add theirs by declaration merging, as events are added to
 * `AgentdEvents`. Only the keys matter to the type check; the summary shows on hover.
 *
 * @example
 * ```ts
 * declare module '@agentd/core' {
 *   interface AgentdErrorCodes {
 *     E_BACKUP_UPLOAD: 'The backup could not be uploaded.';
 *   }
 * }
 * ```
 */
export interface AgentdErrorCodes extends CoreErrorCodes {}

/**
 * A catalogued error code: `AgentdError`'s `code`. A string that is in no catalogue is a type
 * error, so codes cannot drift from docs/errors.md unnoticed.
 *
 * @example
 * ```ts
 * const code: AgentdErrorCode = 'E_NO_AGENT';
 * ```
 */
export type AgentdErrorCode = keyof AgentdErrorCodes & string;
