/**
 * @module @agentd/core/host
 * Embedding agentd and building hosts: the kernel host without the built-in preset
 * (`createKernelHost`), config loading and validation, presets, plugin ordering, signal handling,
 * loggers and secret masking, the intake gate and guard, process ownership helpers, the system
 * clock, the notifier built-in and the kernel's own services and errors.
 *
 * @example
 * ```ts
 * import { createKernelHost, loadConfigFile, runUntilSignal } from '@agentd/core/host';
 * ```
 */

export type { KernelConfig, LoggerConfig, TimeoutsConfig } from '../config/host-config.js';
export type { LoadedConfig } from '../config/load-config.js';
export { CONFIG_FILE_NAMES, findConfigFile, loadConfigFile } from '../config/load-config.js';
export type {
  ResolvedConfig,
  ResolvedPlugin,
  ValidateConfigOptions,
} from '../config/validate-config.js';
export {
  DEFAULT_TIMEOUTS,
  KERNEL_CONFIG_KEYS,
  validateKernelConfig,
} from '../config/validate-config.js';
export type {
  AnswerSender,
  ChannelRegistry,
  CommandMiddleware,
  DispatchReceipt,
  InboundContext,
  InboundNext,
  InboundPhase,
  MessageFormat,
  ParsedCommand,
  Sender,
  UseOptions,
} from '../contracts/channel.js';
export type { TimerHandle } from '../contracts/clock.js';
export type { HealthReport, HealthStatus } from '../contracts/health.js';
export type { LogFn, LogLevel } from '../contracts/logger.js';
export { ALERT_SEVERITIES } from '../contracts/notifier.js';
export type { ServiceResolver } from '../kernel/container.js';
export { CORE_ERROR_CODES } from '../kernel/error-codes.js';
export { MissingServiceError, PluginGraphError } from '../kernel/errors.js';
export type { EventHandler, EventName } from '../kernel/events.js';
export { EventBus } from '../kernel/events.js';
export type { CreateHostOptions, StopFailure, StopResult } from '../kernel/host.js';
export { createKernelHost, KERNEL_SERVICES } from '../kernel/host.js';
export type { HostState } from '../kernel/host-info.js';
export { isForBot, parseCommand } from '../kernel/inbound-command.js';
export type { IntakeGate } from '../kernel/intake.js';
export type {
  IntakeFailure,
  IntakeGuardDeps,
  IntakeOutcome,
  IntakeSource,
} from '../kernel/intake-guard.js';
export { classifyIntakeError, formatSize, IntakeGuard } from '../kernel/intake-guard.js';
export type { OwnerFacts } from '../kernel/owner.js';
export { machineTag, newOwnerId, ownerIsGone, parseOwnerId } from '../kernel/owner.js';
export type { PlacedPlugin } from '../kernel/plugin-graph.js';
export { flattenPlugins, orderPlugins } from '../kernel/plugin-graph.js';
export type { Preset, PresetConfigShape, PresetContext, PresetSettings } from '../kernel/preset.js';
export { definePreset, withPresetPlugins } from '../kernel/preset.js';
export type { ProcessIdentity } from '../kernel/process.js';
export {
  endRecordedProcess,
  groupAlive,
  isSameProcess,
  killGroup,
  liveGroupMembers,
  processIdentity,
  processRecord,
  terminateGroup,
} from '../kernel/process.js';
export { systemClock } from '../kernel/system-clock.js';
export { withTimeout } from '../kernel/timeout.js';
export { isToken } from '../kernel/token.js';
export type { LoggerOptions } from '../logging/create-logger.js';
export { createLogger, maskingLogger, silentLogger } from '../logging/create-logger.js';
export { REDACTED, redactSecrets, redactValue, SECRET_KEYS } from '../logging/redact.js';
export { MIN_SECRET_LENGTH, SecretMasker, secretOptionValues } from '../logging/secret-masker.js';
export { digestOf, notificationText } from '../notifier/alert-text.js';
export {
  LogNotifier,
  NOTIFIER_PLUGIN_NAME,
  type NotifierOptions,
  notifier,
} from '../notifier/notifier.js';
export {
  NotificationRouter,
  type NotificationRouterDeps,
  type NotificationRoutes,
  NotificationRoutesToken,
} from '../notifier/router.js';
export {
  type NotificationRoute,
  type NotificationRouteInput,
  type NotificationsConfig,
  type NotificationTarget,
  notificationsConfigShape,
  notificationsSchema,
  parseRoute,
} from '../notifier/routes-schema.js';
export { postSignedWebhook, type WebhookTarget } from '../notifier/webhook-delivery.js';
export type { BuiltinConfig } from '../preset/builtin-preset.js';
export { builtinPreset } from '../preset/builtin-preset.js';
export { validateConfig } from '../preset/host.js';
export type { FunctionAgentReturn } from '../runtime/function-agent.js';
export type {
  ChatMessage,
  ChatPost,
  MailboxChannelOptions,
  MailboxInbound,
  ReceiveOptions,
} from '../runtime/mailbox-channel.js';
export {
  isConversationId,
  MAX_CHAT_TEXT,
  MailboxChannel,
  parseChatPost,
  TYPED_TEXT,
} from '../runtime/mailbox-channel.js';
export type { RunUntilSignalOptions } from '../runtime/run-until-signal.js';
export { runUntilSignal } from '../runtime/run-until-signal.js';
