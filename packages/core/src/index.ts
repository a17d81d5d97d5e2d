/**
 * @module @agentd/core
 * The agentd kernel: plugins, services and tokens, lifecycle, config, events and logging, plus
 * the contracts (interfaces and tokens) that stores, channels, agents and other plugins implement.
 */

export type { CommandAgentOptions, CommandSession } from './agents/command-agent.js';
export { commandAgent } from './agents/command-agent.js';
export type { LlmAgentOptions } from './agents/llm-agent.js';
export { llmAgent } from './agents/llm-agent.js';
export type { KernelConfig, LoggerConfig, TimeoutsConfig } from './config/host-config.js';
// Config
export type { LoadedConfig } from './config/load-config.js';
export { CONFIG_FILE_NAMES, findConfigFile, loadConfigFile } from './config/load-config.js';
export type {
  ResolvedConfig,
  ResolvedPlugin,
  ValidateConfigOptions,
} from './config/validate-config.js';
export {
  DEFAULT_TIMEOUTS,
  KERNEL_CONFIG_KEYS,
  validateKernelConfig,
} from './config/validate-config.js';
// Agents, sessions, failover and budgets
export type {
  Agent,
  AgentExecutor,
  AgentRegistry,
  AgentResult,
  AgentRunContext,
  AgentUsage,
  ExecuteContext,
  SessionResources,
} from './contracts/agent.js';
export { AgentExecutorToken, AgentRegistryToken } from './contracts/agent.js';
export type {
  Address,
  AnswerSender,
  Channel,
  ChannelRegistry,
  CommandInfo,
  CommandMiddleware,
  DispatchReceipt,
  InboundContext,
  InboundMessage,
  InboundMiddleware,
  InboundNext,
  InboundPhase,
  InboundRouter,
  MessageFormat,
  OutboundMessage,
  ParsedCommand,
  Sender,
  SendOptions,
  SentMessage,
  UseOptions,
} from './contracts/channel.js';
export { AnswersToken, ChannelRegistryToken, InboundRouterToken } from './contracts/channel.js';
export type { Clock, TimerHandle } from './contracts/clock.js';
export { ClockToken } from './contracts/clock.js';
// Contracts
export type { AgentdEvents, CircuitStateName } from './contracts/events.js';
export type {
  AttemptRecord,
  ClassifiedError,
  ClassifierRule,
  ErrorClass,
  FailoverAction,
  FailoverPolicy,
} from './contracts/failover.js';
export { FailoverPolicyToken } from './contracts/failover.js';
export type {
  HealthCheck,
  HealthRegistry,
  HealthReport,
  HealthResult,
  HealthStatus,
} from './contracts/health.js';
export { HealthRegistryToken } from './contracts/health.js';
export type {
  ErrorBody,
  HttpAddress,
  HttpMethod,
  HttpRequest,
  HttpResponse,
  HttpServer,
  RouteDefinition,
  RouteHandler,
} from './contracts/http.js';
export { HttpError, HttpServerToken } from './contracts/http.js';
export type { JsonObject, JsonValue } from './contracts/json.js';
export type { LogFn, Logger, LogLevel } from './contracts/logger.js';
export { LoggerToken } from './contracts/logger.js';
export type { Alert, AlertSeverity, Notifier } from './contracts/notifier.js';
export { ALERT_SEVERITIES, NotifierToken, raiseAlert } from './contracts/notifier.js';
export type {
  MissedRunPolicy,
  OverlapPolicy,
  ScheduleDefinition,
  ScheduleFire,
  Scheduler,
  ScheduleStatus,
} from './contracts/scheduler.js';
export { SchedulerToken } from './contracts/scheduler.js';
export type {
  HistoryEntry,
  NewSession,
  Session,
  SessionPatch,
  SessionStatus,
  SessionStore,
} from './contracts/session.js';
export { SessionStoreToken } from './contracts/session.js';
export type { StateSetOptions, StateStore } from './contracts/state.js';
export { StateStoreToken } from './contracts/state.js';
export type { Store, StoreBackup, StoreOpenMode } from './contracts/store.js';
export { StoreOpenModeToken, StoreToken } from './contracts/store.js';
export type {
  ClaimRequest,
  DeadLetter,
  DeadLetterStatus,
  EnqueueResult,
  FailOptions,
  LeaseInfo,
  NewAnswer,
  NewDeadLetter,
  NewTask,
  OwedReply,
  RecoverOptions,
  RecoveryReport,
  ReplyOutcome,
  Task,
  TaskError,
  TaskPriority,
  TaskQuery,
  TaskQueue,
  TaskStatus,
  TaskStore,
} from './contracts/task.js';
export {
  DEAD_LETTER_RAW_LIMIT,
  MAX_TASK_ATTEMPTS,
  REPLY_HOLD_MS,
  TASK_STATUSES,
  TaskPriorities,
  TaskQueueToken,
  TaskStoreToken,
} from './contracts/task.js';
export type { BudgetRefusal, SpendReport } from './failover/budgets.js';
export { BudgetGuard, DEFAULT_RATE_LIMITS } from './failover/budgets.js';
export type { CircuitOptions } from './failover/circuits.js';
export { CircuitBoard, DEFAULT_CIRCUIT, FAILOVER_NAMESPACE } from './failover/circuits.js';
export {
  DEFAULT_ACTIONS,
  ERROR_CLASSES,
  ErrorClassifier,
  parseRetryAfter,
} from './failover/classifier.js';
export type { AgentErrorDetails } from './failover/errors.js';
export {
  AgentError,
  BudgetExceededError,
  EmptyResultError,
  FailoverExhaustedError,
  isEmptyOutput,
} from './failover/errors.js';
export type { FailoverExecutorDeps, SessionRunner } from './failover/executor.js';
export { FailoverExecutor } from './failover/executor.js';
export type { FailoverPluginOptions } from './failover/plugin.js';
export {
  BudgetGuardToken,
  FAILOVER_PLUGIN_NAME,
  failover,
  SessionRunnerToken,
  savedCircuits,
} from './failover/plugin.js';
export type { RetrySettings } from './failover/policy.js';
export { DEFAULT_RETRY, DefaultFailoverPolicy } from './failover/policy.js';
export type { BudgetsConfig, FailoverConfig } from './failover/schema.js';
export {
  budgetsConfigSchema,
  failoverConfigSchema,
  failoverConfigShape,
  normalizeChains,
  parseChain,
} from './failover/schema.js';
export type { ServiceResolver } from './kernel/container.js';
export type { AgentdErrorCode, AgentdErrorCodes } from './kernel/error-codes.js';
export { CORE_ERROR_CODES } from './kernel/error-codes.js';
export {
  AgentdError,
  ConfigError,
  HostStartError,
  IntakeClosedError,
  InvalidInputError,
  MissingServiceError,
  PayloadTooLargeError,
  PluginGraphError,
  TimeoutError,
} from './kernel/errors.js';
export type { EventHandler, EventName } from './kernel/events.js';
export { EventBus } from './kernel/events.js';
export type { CreateHostOptions, Host, StopFailure, StopResult } from './kernel/host.js';
// For plugin authors and host builders
export { createKernelHost, KERNEL_SERVICES } from './kernel/host.js';
export type { HostInfo, HostState } from './kernel/host-info.js';
export { HostInfoToken } from './kernel/host-info.js';
export type { CommandContext, CommandHandler, CommandOptions } from './kernel/inbound-command.js';
export { command, isForBot, parseCommand } from './kernel/inbound-command.js';
export type { IntakeGate } from './kernel/intake.js';
export type {
  IntakeFailure,
  IntakeGuardDeps,
  IntakeOutcome,
  IntakeSource,
} from './kernel/intake-guard.js';
export {
  classifyIntakeError,
  formatSize,
  IntakeGuard,
  IntakeGuardToken,
} from './kernel/intake-guard.js';
export type { OwnerFacts } from './kernel/owner.js';
export { machineTag, newOwnerId, ownerIsGone, parseOwnerId } from './kernel/owner.js';
export type { Plugin, PluginContext, PluginOption } from './kernel/plugin.js';
export type { PlacedPlugin } from './kernel/plugin-graph.js';
export { flattenPlugins, orderPlugins } from './kernel/plugin-graph.js';
export type {
  Preset,
  PresetConfigShape,
  PresetContext,
  PresetSettings,
} from './kernel/preset.js';
export { definePreset, withPresetPlugins } from './kernel/preset.js';
export type { ProcessIdentity } from './kernel/process.js';
export {
  endRecordedProcess,
  groupAlive,
  isSameProcess,
  killGroup,
  liveGroupMembers,
  processIdentity,
  processRecord,
  terminateGroup,
} from './kernel/process.js';
export { systemClock } from './kernel/system-clock.js';
export { withTimeout } from './kernel/timeout.js';
export type { Token } from './kernel/token.js';
export { createToken, isToken } from './kernel/token.js';
export { EventBusToken, IntakeGateToken } from './kernel/tokens.js';
export type { LoggerOptions } from './logging/create-logger.js';
// Logging
export { createLogger, maskingLogger, silentLogger } from './logging/create-logger.js';
export { REDACTED, redactSecrets, redactValue, SECRET_KEYS } from './logging/redact.js';
export {
  MIN_SECRET_LENGTH,
  SecretMasker,
  SecretMaskerToken,
  secretOptionValues,
} from './logging/secret-masker.js';
export {
  LogNotifier,
  NOTIFIER_PLUGIN_NAME,
  notifier,
} from './notifier/notifier.js';
export type { BuiltinConfig } from './preset/builtin-preset.js';
export { builtinPreset } from './preset/builtin-preset.js';
export type { HostConfig } from './preset/host.js';
export { createHost, defineConfig, validateConfig } from './preset/host.js';
export { failureReply, failureSummary } from './runtime/failure-summary.js';
export type { FunctionAgentReturn } from './runtime/function-agent.js';
// Tasks
export { agent } from './runtime/function-agent.js';
export type { RunUntilSignalOptions } from './runtime/run-until-signal.js';
// Runtime pieces a host or plugin may use directly
export { runUntilSignal } from './runtime/run-until-signal.js';
export type { RunnerOptions } from './runtime/runner.js';
export { DEFAULT_RUNNER_OPTIONS, TaskRunner } from './runtime/runner.js';
export { RUNNER_PLUGIN_NAME, runner } from './runtime/runner-plugin.js';
export type { RunnerConfig } from './runtime/runner-schema.js';
export { runnerConfigSchema, runnerConfigShape } from './runtime/runner-schema.js';
export { DefaultTaskQueue } from './runtime/task-queue.js';
// Scheduler
export type { CatchUpInput, CatchUpPlan, PlannedFire } from './scheduler/catch-up.js';
export { dueSlots, MAX_CATCH_UP_SLOTS, planCatchUp } from './scheduler/catch-up.js';
export type { SlotSource } from './scheduler/cron.js';
export {
  cronProblem,
  cronSlots,
  formatDuration,
  intervalSlots,
  slotSourceFor,
} from './scheduler/cron.js';
export type { ParseTimeOptions, ReminderTimeForm } from './scheduler/reminders.js';
export {
  parseDuration,
  parseReminderTime,
  REMINDER_TIME_FORMS,
  reminderTimeForm,
} from './scheduler/reminders.js';
export type { SchedulerDeps, SchedulerSettings, ScheduleState } from './scheduler/scheduler.js';
export {
  DEFAULT_GRACE_MS,
  DefaultScheduler,
  fireKey,
  MISSED_SLOTS_KEPT,
  SCHEDULER_NAMESPACE,
  scheduleStateKey,
  scheduleStatus,
  slotSourceFromIdentity,
} from './scheduler/scheduler.js';
export { SCHEDULER_PLUGIN_NAME, scheduler } from './scheduler/scheduler-plugin.js';
export type {
  HeartbeatConfig,
  HeartbeatOptions,
  ReminderConfig,
  ReminderOptions,
  ScheduleConfig,
  SchedulerConfig,
  SchedulerOptions,
  ScheduleTask,
  ScheduleTaskConfig,
} from './scheduler/schema.js';
export {
  DEFAULT_CATCH_UP_WINDOW_MS,
  HEARTBEAT_SCHEDULE,
  heartbeatSchema,
  remindersSchema,
  schedulerConfigShape,
  schedulerOptionsSchema,
  scheduleSchema,
  schedulesSchema,
  scheduleTaskSchema,
} from './scheduler/schema.js';
export type { WallTime } from './scheduler/time-zone.js';
export {
  formatInZone,
  systemTimezone,
  timezoneProblem,
  wallTimeAt,
  wallTimeToEpoch,
} from './scheduler/time-zone.js';
export type { SessionManagerOptions } from './sessions/manager.js';
export {
  DEFAULT_SESSION_IDLE_MS,
  IDLE_TIMEOUT_RANGE,
  SessionError,
  SessionManager,
  SessionManagerToken,
} from './sessions/manager.js';
export type { SessionsConfig } from './sessions/plugin.js';
export {
  formatSessionLine,
  SESSIONS_PLUGIN_NAME,
  sessionCommands,
  sessions,
  sessionsConfigSchema,
  sessionsConfigShape,
} from './sessions/plugin.js';
// For store authors: the rules every store applies (a later pass may move these to a subpath).
export * from './store-kit/index.js';
