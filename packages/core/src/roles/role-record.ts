import type { JsonValue } from '../contracts/json.js';
import type { RoleHolder } from '../contracts/roles.js';

/** The state namespace holding one record per role, keyed by the role's name. */
export const ROLES_NAMESPACE = 'agentd.roles';

/**
 * A role's record in the state store. Every write changes it (`renewals` counts up), so a host
 * standing by can tell a live holder (the record changes every renewal) from a dead one (it
 * stays the same for a whole lease) without comparing its clock with the holder's.
 */
export interface RoleRecord {
  /** The holder's instance id, or null once released. */
  holder: string | null;
  /** The fencing token: +1 at every change of hands. */
  epoch: number;
  /** Renewals by this holder (and +1 at release), so no two writes leave equal records. */
  renewals: number;
  /** The holder's lease length: how long a standby waits for a record that stopped changing. */
  leaseMs: number;
  /** When the holder took the role and last renewed it (its clock; shown, never compared). */
  acquiredAt: number;
  renewedAt: number;
}

/**
 * The record in `value`, or undefined when it is not one (absent, or written by something
 * else: then the role is treated as vacant and the value replaced by compare-and-set).
 *
 * @example
 * ```ts
 * const record = parseRoleRecord(await state.get(ROLES_NAMESPACE, 'telegram:polling'));
 * ```
 */
export function parseRoleRecord(value: JsonValue | undefined): RoleRecord | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { holder, epoch, renewals, leaseMs, acquiredAt, renewedAt } = value;
  if (holder !== null && (typeof holder !== 'string' || holder === '')) return undefined;
  const counts = [epoch, renewals, leaseMs, acquiredAt, renewedAt];
  if (!counts.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0)) {
    return undefined;
  }
  return {
    holder,
    epoch: epoch as number,
    renewals: renewals as number,
    leaseMs: leaseMs as number,
    acquiredAt: acquiredAt as number,
    renewedAt: renewedAt as number,
  };
}

/** One record's identity for "has it changed since I last looked". */
export function recordVersion(record: RoleRecord): string {
  return `${record.holder ?? ''}|${record.epoch}|${record.renewals}`;
}

/** The record as the public {@link RoleHolder}, or undefined when nobody holds the role. */
export function holderOf(record: RoleRecord | undefined): RoleHolder | undefined {
  if (!record || record.holder === null) return undefined;
  const { holder, epoch, acquiredAt, renewedAt, leaseMs } = record;
  return { holder, epoch, acquiredAt, renewedAt, leaseMs };
}

/** The record as the JSON value written to the store. */
export function recordValue(record: RoleRecord): JsonValue {
  return { ...record };
}
