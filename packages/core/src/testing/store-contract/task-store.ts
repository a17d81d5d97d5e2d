import { describe } from 'vitest';
import type { TaskStore } from '../../contracts/task.js';
import {
  type ContractFactory,
  type ContractSuiteOptions,
  type TaskSubject,
  taskHelpers,
  useSubject,
} from './shared.js';
import { describeClaimContract } from './task-claim.js';
import { describeEnqueueContract } from './task-enqueue.js';
import { describeFinishContract } from './task-finish.js';
import { describeHoldContract } from './task-hold.js';
import { describePageContract } from './task-pages.js';
import { describeQueryContract } from './task-queries.js';

/**
 * Declares, as vitest tests, the behaviour every {@link TaskStore} must have: enqueue (defaults,
 * validation, idempotency keys, batches), claims (priority, then run-at, then enqueue order;
 * never before run-at; one running task per session key; disjoint under concurrency), leases
 * and their recovery, completion, failure and retry, cancellation, holding and releasing, pruning, queries and task pages (`pageTasks`, or core's fallback). Each
 * test gets a fresh task store from `createTasks`. The optional fast paths (`enqueueMany`,
 * `completeAndClaim`, `completeMany`) are exercised through core's fallbacks, so a store
 * without them passes too. The outbox has its own suite, {@link describeReplyContract}.
 *
 * @example
 * ```ts
 * import { describeTaskStoreContract, openMemoryStore } from '@agentd/core/testing';
 *
 * describeTaskStoreContract('memory', () => openMemoryStore().tasks);
 * ```
 */
export function describeTaskStoreContract(
  name: string,
  createTasks: ContractFactory<TaskStore>,
  options: ContractSuiteOptions<TaskStore> = {},
): void {
  describe(`TaskStore contract: ${name}`, () => {
    const subject = useSubject(createTasks, options);
    const store: TaskSubject = {
      get tasks() {
        return subject.current;
      },
    };
    const helpers = taskHelpers(store);
    describeEnqueueContract(store, helpers);
    describeClaimContract(store, helpers);
    describeFinishContract(store, helpers);
    describeHoldContract(store, helpers);
    describeQueryContract(store, helpers);
    describePageContract(store, helpers);
  });
}
