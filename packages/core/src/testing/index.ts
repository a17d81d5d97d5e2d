/**
 * @module @agentd/core/testing
 * Helpers for testing hosts and plugins: a manual clock, an in-memory logger, a fake
 * OpenAI-compatible chat API on 127.0.0.1, an in-memory store (`memoryStore()`, not durable),
 * and the contract suites every store and every channel must pass.
 */

export {
  type ChannelContractOptions,
  type ChannelContractParts,
  type ChannelHarness,
  describeChannelContract,
  type InjectedMessage,
} from './channel-contract.js';
export type { FakeOpenAI, FakeOpenAIAnswer, FakeOpenAIRequest } from './fake-openai.js';
export { completion, startFakeOpenAI } from './fake-openai.js';
export { ManualClock } from './manual-clock.js';
export type { LogLine } from './memory-logger.js';
export { memoryLogger } from './memory-logger.js';
export {
  MemorySessionStore,
  MemoryStateStore,
  MemoryStore,
  type MemoryStoreOptions,
  type MemoryStorePluginOptions,
  MemoryTaskStore,
  memoryStore,
  openMemoryStore,
} from './memory-store.js';
export { describeRolesContract } from './roles-contract.js';
export {
  type ContractFactory,
  type ContractSuiteOptions,
  describeDeadLetterContract,
  describeReplyContract,
  describeSessionStoreContract,
  describeStateStoreContract,
  describeStoreContract,
  describeTaskStoreContract,
  type StoreContractOptions,
} from './store-contract/index.js';
export { useTestHosts } from './test-hosts.js';
export { withoutFastPaths } from './without-fast-paths.js';
