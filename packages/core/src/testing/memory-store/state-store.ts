import type { JsonValue } from '../../contracts/json.js';
import type { StateSetOptions, StateStore } from '../../contracts/state.js';
import type { StateRecord } from '../../contracts/store-records.js';
import { parseJson } from '../../store-kit/json-text.js';
import { checkStateName, stateExpiresAt, stateValueText } from '../../store-kit/state-rules.js';

interface StateEntry {
  /** Canonical JSON text: equal values are equal text, which compareAndSet compares. */
  value: string;
  expiresAt: number | null;
}

/**
 * The in-memory {@link StateStore} of {@link openMemoryStore}. A value with a TTL is invisible
 * from the moment it expires, by the store's clock (`now`).
 */
export class MemoryStateStore implements StateStore {
  readonly #now: () => number;
  readonly #namespaces = new Map<string, Map<string, StateEntry>>();

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The live entry of namespace/key; an expired one is deleted and counts as absent. */
  #live(namespace: string, key: string): StateEntry | undefined {
    const entries = this.#namespaces.get(namespace);
    const entry = entries?.get(key);
    if (entry && entry.expiresAt !== null && entry.expiresAt <= this.#now()) {
      entries?.delete(key);
      return undefined;
    }
    return entry;
  }

  #put(namespace: string, key: string, entry: StateEntry): void {
    let entries = this.#namespaces.get(namespace);
    if (!entries) {
      entries = new Map();
      this.#namespaces.set(namespace, entries);
    }
    entries.set(key, entry);
  }

  async get<T extends JsonValue = JsonValue>(
    namespace: string,
    key: string,
  ): Promise<T | undefined> {
    const entry = this.#live(namespace, key);
    return entry && parseJson<T>(entry.value);
  }

  async set(
    namespace: string,
    key: string,
    value: JsonValue,
    options: StateSetOptions = {},
  ): Promise<void> {
    checkStateName(namespace, 'namespace');
    checkStateName(key, 'key');
    const expiresAt = stateExpiresAt(this.#now(), options.ttlMs);
    this.#put(namespace, key, { value: stateValueText(value), expiresAt });
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    const live = this.#live(namespace, key) !== undefined;
    this.#namespaces.get(namespace)?.delete(key);
    return live;
  }

  async compareAndSet(
    namespace: string,
    key: string,
    expected: JsonValue | undefined,
    next: JsonValue,
  ): Promise<boolean> {
    checkStateName(namespace, 'namespace');
    checkStateName(key, 'key');
    const value = stateValueText(next);
    const current = this.#live(namespace, key);
    const matches =
      expected === undefined
        ? current === undefined
        : current !== undefined && current.value === stateValueText(expected);
    if (matches) this.#put(namespace, key, { value, expiresAt: null });
    return matches;
  }

  async list(namespace: string, prefix = ''): Promise<{ key: string; value: JsonValue }[]> {
    const entries = this.#namespaces.get(namespace);
    if (!entries) return [];
    const keys = [...entries.keys()].filter((key) => key.startsWith(prefix)).sort();
    const out: { key: string; value: JsonValue }[] = [];
    for (const key of keys) {
      const entry = this.#live(namespace, key);
      if (entry) out.push({ key, value: parseJson(entry.value) });
    }
    return out;
  }

  /** Every live value with its expiry, for `exportRecords` (see `MemoryStore`). */
  entries(): StateRecord[] {
    const out: StateRecord[] = [];
    for (const [namespace, entries] of this.#namespaces) {
      for (const key of entries.keys()) {
        const entry = this.#live(namespace, key);
        if (entry) {
          out.push({
            kind: 'state',
            namespace,
            key,
            value: parseJson(entry.value),
            expiresAt: entry.expiresAt,
          });
        }
      }
    }
    return out;
  }

  /** Stores a copied value as it was, unless the key is set (`agentd store copy`). */
  importEntry(record: StateRecord): void {
    if (this.#live(record.namespace, record.key)) return;
    this.#put(record.namespace, record.key, {
      value: stateValueText(record.value),
      expiresAt: record.expiresAt,
    });
  }
}
