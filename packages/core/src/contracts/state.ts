import { createToken } from '../kernel/token.js';
import type { JsonValue } from './json.js';

/** Options for {@link StateStore.set}. */
export interface StateSetOptions {
  /** Forget the value after this many ms (seen-id caches, cooldowns). */
  ttlMs?: number;
}

/**
 * Namespaced key-value storage for plugins' own state: the Telegram offset, an alert's
 * cooldown, a schedule's last fired slot. Use your plugin's name as the namespace.
 *
 * @example
 * ```ts
 * const state = ctx.resolve(StateStoreToken);
 * await state.set('monitor', 'cooldown:disk', Date.now(), { ttlMs: 30 * 60_000 });
 * const last = await state.get<number>('monitor', 'cooldown:disk');
 * ```
 */
export interface StateStore {
  get<T extends JsonValue = JsonValue>(namespace: string, key: string): Promise<T | undefined>;
  set(namespace: string, key: string, value: JsonValue, options?: StateSetOptions): Promise<void>;
  delete(namespace: string, key: string): Promise<boolean>;
  /**
   * Sets `key` to `next` only if its current value equals `expected` (`undefined`: absent).
   * Atomic across processes; the building block for "only one host fires this slot".
   */
  compareAndSet(
    namespace: string,
    key: string,
    expected: JsonValue | undefined,
    next: JsonValue,
  ): Promise<boolean>;
  /** Entries of a namespace whose key starts with `prefix`, by key. */
  list(namespace: string, prefix?: string): Promise<{ key: string; value: JsonValue }[]>;
}

export const StateStoreToken = createToken<StateStore>('agentd.store.state');
