/**
 * @module @agentd/core
 * What config writers and plugin authors use: `defineConfig` and `createHost`, the agent
 * factories, `Plugin` and tokens, `command()`, the contracts (interfaces and tokens) that plugins
 * implement or resolve, and the errors callers catch.
 *
 * Everything else lives on a subpath, so this list stays short enough to read:
 * `@agentd/core/host` (embedding and building hosts), `/store` (for store authors),
 * `/runner`, `/failover`, `/sessions`, `/scheduler` (each built-in, with its factory) and
 * `/testing`. `public-api.test.ts` holds the root to a budget.
 */

export type { CommandAgentOptions, CommandSession } from './agents/command-agent.js';
export { commandAgent } from './agents/command-agent.js';
export type { LlmAgentOptions } from './agents/llm-agent.js';
export { llmAgent } from './agents/llm-agent.js';
export type {
  Agent,
  AgentRegistry,
  AgentResult,
  AgentRunContext,
  AgentUsage,
  SessionResources,
} from './contracts/agent.js';
export { AgentRegistryToken } from './contracts/agent.js';
export type {
  Address,
  Channel,
  CommandInfo,
  InboundMessage,
  InboundMiddleware,
  InboundRouter,
  OutboundMessage,
  SendOptions,
  SentMessage,
} from './contracts/channel.js';
export { AnswersToken, ChannelRegistryToken, InboundRouterToken } from './contracts/channel.js';
export type { Clock } from './contracts/clock.js';
export { ClockToken } from './contracts/clock.js';
export type { AgentdEvents } from './contracts/events.js';
export type { HealthCheck, HealthRegistry, HealthResult } from './contracts/health.js';
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
export type { Logger } from './contracts/logger.js';
export { LoggerToken } from './contracts/logger.js';
export type { Alert, AlertSeverity, Notifier } from './contracts/notifier.js';
export { NotifierToken, raiseAlert } from './contracts/notifier.js';
export type { SessionStore } from './contracts/session.js';
export { SessionStoreToken } from './contracts/session.js';
export type { StateStore } from './contracts/state.js';
export { StateStoreToken } from './contracts/state.js';
export type { Store } from './contracts/store.js';
export { StoreToken } from './contracts/store.js';
export type {
  EnqueueResult,
  NewTask,
  Task,
  TaskPriority,
  TaskQueue,
  TaskStatus,
  TaskStore,
} from './contracts/task.js';
export { TaskQueueToken, TaskStoreToken } from './contracts/task.js';
export { AgentError } from './failover/errors.js';
export type { AgentdErrorCode, AgentdErrorCodes } from './kernel/error-codes.js';
export {
  AgentdError,
  ConfigError,
  HostStartError,
  IntakeClosedError,
  InvalidInputError,
  PayloadTooLargeError,
  TimeoutError,
} from './kernel/errors.js';
export type { EventBus } from './kernel/events.js';
export type { Host } from './kernel/host.js';
export type { HostInfo } from './kernel/host-info.js';
export { HostInfoToken } from './kernel/host-info.js';
export type { CommandContext, CommandHandler, CommandOptions } from './kernel/inbound-command.js';
export { command } from './kernel/inbound-command.js';
export type { IntakeGuard } from './kernel/intake-guard.js';
export { IntakeGuardToken } from './kernel/intake-guard.js';
export type { Plugin, PluginContext, PluginOption } from './kernel/plugin.js';
export type { Token } from './kernel/token.js';
export { createToken } from './kernel/token.js';
export { EventBusToken, IntakeGateToken } from './kernel/tokens.js';
export { SecretMaskerToken } from './logging/secret-masker.js';
export type { HostConfig } from './preset/host.js';
export { createHost, defineConfig } from './preset/host.js';
export { agent } from './runtime/function-agent.js';
