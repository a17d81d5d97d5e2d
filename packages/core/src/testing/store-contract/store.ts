import { describe, expect, it } from 'vitest';
import type { Store } from '../../contracts/store.js';
import { describeDeadLetterContract } from './dead-letters.js';
import { describeReplyContract } from './replies.js';
import { describeSessionStoreContract } from './session-store.js';
import type { ContractFactory } from './shared.js';
import { describeStateStoreContract } from './state-store.js';
import { describeTaskStoreContract } from './task-store.js';
import { describeTaskTurnContract } from './task-turn.js';

/**
 * Options of {@link describeStoreContract}.
 *
 * @example
 * ```ts
 * const shared = await openSharedStore();
 * describeStoreContract('shared', async () => { await shared.reset(); return shared; }, { close: false });
 * ```
 */
export interface StoreContractOptions {
  /**
   * Close each store after its test (default true). Pass false when `createStore` hands out
   * stores whose lifetime the caller manages.
   */
  close?: boolean;
}

/**
 * Declares the behaviour every complete {@link Store} must have, as vitest tests: every part
 * suite ({@link describeTaskStoreContract}, {@link describeReplyContract},
 * {@link describeDeadLetterContract}, {@link describeSessionStoreContract},
 * {@link describeStateStoreContract}) over the store's parts, a task's completion with its
 * session turn over the whole store, plus the store's own description and idempotent close. Each test gets a fresh store from `createStore`. The repository runs it
 * over every store it has from `integration/store-contracts.test.ts`.
 *
 * @example
 * ```ts
 * import { describeStoreContract } from '@agentd/core/testing';
 * import { openSqliteStore } from '@agentd/store-sqlite';
 *
 * describeStoreContract('sqlite', () => openSqliteStore({ path: freshTempFile() }));
 * ```
 */
export function describeStoreContract(
  name: string,
  createStore: ContractFactory<Store>,
  options: StoreContractOptions = {},
): void {
  // Each part suite makes its part from a fresh store, and closes that store after the test.
  let current: Store | undefined;
  const closeCurrent = async () => {
    const store = current;
    current = undefined;
    if (options.close !== false) await store?.close();
  };
  const part =
    <T>(pick: (store: Store) => T) =>
    async (): Promise<T> => {
      current = await createStore();
      return pick(current);
    };

  describe(`Store contract: ${name}`, () => {
    it('describes itself and closes idempotently', async () => {
      const store = await createStore();
      expect(typeof store.description).toBe('string');
      expect(store.description.length).toBeGreaterThan(0);
      if (options.close !== false) {
        await store.close();
        await expect(store.close()).resolves.toBeUndefined();
      }
    });
    const close = { close: closeCurrent };
    describeTaskStoreContract(
      name,
      part((s) => s.tasks),
      close,
    );
    describeReplyContract(
      name,
      part((s) => s.tasks),
      close,
    );
    describeDeadLetterContract(
      name,
      part((s) => s.tasks),
      close,
    );
    describeSessionStoreContract(
      name,
      part((s) => s.sessions),
      close,
    );
    describeStateStoreContract(
      name,
      part((s) => s.state),
      close,
    );
    describeTaskTurnContract(
      name,
      part((s) => s),
      close,
    );
  });
}
