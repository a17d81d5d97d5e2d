/**
 * The contract suites a store must pass, one per part, so a backend can prove just what it
 * offers, and {@link describeStoreContract} running them all over a complete store.
 */
export { describeDeadLetterContract } from './dead-letters.js';
export { describeReplyContract } from './replies.js';
export { describeSessionStoreContract } from './session-store.js';
export type { ContractFactory, ContractSuiteOptions } from './shared.js';
export { describeStateStoreContract } from './state-store.js';
export { describeStoreContract, type StoreContractOptions } from './store.js';
export { describeTaskStoreContract } from './task-store.js';
