import type { JsonValue } from '../contracts/json.js';
import { AgentdError } from '../kernel/errors.js';
import { canonicalJson, toJsonText } from './json-text.js';

/**
 * Checks a state namespace or key (a string). Throws `E_INVALID_STATE`.
 *
 * @example
 * ```ts
 * checkStateName('telegram', 'namespace');
 * ```
 */
export function checkStateName(value: unknown, field: string): string {
  if (typeof value !== 'string') {
    throw new AgentdError('E_INVALID_STATE', `${field} must be a string`);
  }
  return value;
}

/**
 * A state value as canonical JSON text (keys sorted), so that equal values are equal text and
 * `compareAndSet` can compare text. Throws `E_INVALID_STATE` for a value JSON cannot hold.
 *
 * @example
 * ```ts
 * stateValueText({ n: 1, owner: 'a' }) === stateValueText({ owner: 'a', n: 1 }); // true
 * ```
 */
export function stateValueText(value: JsonValue): string {
  toJsonText(value, 'value', 'E_INVALID_STATE');
  return canonicalJson(value);
}

/**
 * When a value set at `now` with `ttlMs` expires (epoch ms), or null without a TTL. Throws
 * `E_INVALID_STATE` for a TTL that is not a positive number.
 *
 * @example
 * ```ts
 * stateExpiresAt(1_000, 500); // 1500
 * ```
 */
export function stateExpiresAt(now: number, ttlMs: number | undefined): number | null {
  if (ttlMs === undefined) return null;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new AgentdError('E_INVALID_STATE', `ttlMs must be a positive number, got ${ttlMs}`);
  }
  return Math.floor(now + ttlMs);
}
