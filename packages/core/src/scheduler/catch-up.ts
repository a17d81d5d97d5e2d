import type { MissedRunPolicy } from '../contracts/scheduler.js';
import type { SlotSource } from './cron.js';

/**
 * Slots examined per catch-up at most; older ones are counted (intervals) or reported as "at least".
 *
 * @example
 * ```ts
 * dueSlots(source, cursor, now, MAX_CATCH_UP_SLOTS);
 * ```
 */
export const MAX_CATCH_UP_SLOTS = 1000;

/**
 * What {@link planCatchUp} needs.
 *
 * @example
 * ```ts
 * const input: CatchUpInput = { source, cursor, now: clock.now(), policy: 'latest', graceMs: 60_000 };
 * ```
 */
export interface CatchUpInput {
  source: Pick<SlotSource, 'latest' | 'count'> & Partial<Pick<SlotSource, 'next'>>;
  /** Every slot at or before this was handled (fired or recorded missed). */
  cursor: number;
  now: number;
  policy: MissedRunPolicy;
  /** A due slot at most this old counts as on time: fired whatever the policy. */
  graceMs: number;
  /** Slots examined at most (default {@link MAX_CATCH_UP_SLOTS}). */
  limit?: number;
}

/**
 * One slot to fire.
 *
 * @example
 * ```ts
 * for (const { slot, late } of planCatchUp(input).fire) console.log(new Date(slot), late);
 * ```
 */
export interface PlannedFire {
  slot: number;
  /** Fired after its grace period: catch-up after downtime. */
  late: boolean;
}

/**
 * What to do with the slots due since the cursor.
 *
 * @example
 * ```ts
 * const { fire, missed, cursor } = planCatchUp(input);
 * ```
 */
export interface CatchUpPlan {
  /** Oldest first. */
  fire: PlannedFire[];
  /** Due slots that will not fire, oldest first (only those examined). */
  missed: number[];
  /** All slots that will not fire, including any older than the examined ones. */
  missedCount: number;
  /** True when more slots were due than examined and they could not be counted: `missedCount` is a lower bound. */
  truncated: boolean;
  /** The new cursor: the newest due slot, or the old cursor when nothing was due. */
  cursor: number;
}

/**
 * The slots in `(cursor, now]`, oldest first, at most `limit` (the newest ones), and how many
 * older ones were left out. Asks for a few slots first and more only when all are due, so a
 * daily schedule checked every day costs one or two slot computations, not a thousand.
 *
 * @example
 * ```ts
 * dueSlots(intervalSlots(3_600_000), Date.parse('2026-01-01T10:00Z'), Date.parse('2026-01-01T13:30Z'));
 * // { slots: [11:00, 12:00, 13:00], hidden: 0, truncated: false }
 * ```
 */
export function dueSlots(
  source: Pick<SlotSource, 'latest' | 'count'> & Partial<Pick<SlotSource, 'next'>>,
  cursor: number,
  now: number,
  limit = MAX_CATCH_UP_SLOTS,
): { slots: number[]; hidden: number; truncated: boolean } {
  if (now <= cursor) return { slots: [], hidden: 0, truncated: false };
  if (source.next && limit >= 1) {
    // The usual round (nothing due, or the one slot the timer woke for) asks two forward
    // questions instead of a backward enumeration, which costs croner twice as much.
    const first = source.next(cursor);
    if (first === undefined || first > now) return { slots: [], hidden: 0, truncated: false };
    const second = source.next(first);
    if (second === undefined || second > now) {
      return { slots: [first], hidden: 0, truncated: false };
    }
  }
  let n = Math.min(4, limit);
  for (;;) {
    const newestFirst = source.latest(now, n);
    const due = newestFirst.filter((t) => t > cursor);
    const exhausted = due.length < newestFirst.length || newestFirst.length < n;
    if (exhausted || n >= limit) {
      const slots = due.reverse();
      if (exhausted || slots.length === 0) return { slots, hidden: 0, truncated: false };
      const oldest = slots[0]!;
      const before = source.latest(oldest - 1, 1)[0];
      if (before === undefined || before <= cursor) return { slots, hidden: 0, truncated: false };
      if (source.count) {
        // Slots in (cursor, oldest): all due, none examined.
        return { slots, hidden: Math.max(0, source.count(cursor, oldest) - 1), truncated: false };
      }
      return { slots, hidden: 0, truncated: true };
    }
    n = Math.min(n * 8, limit);
  }
}

/**
 * Decides which due slots fire and which are missed. Pure: the scheduler persists the result.
 *
 * - The newest due slot, if within `graceMs` of `now`, is on time and fires under every policy.
 * - Older due slots were missed (the host was down or stalled):
 *   `skip` fires none of them; `latest` fires the newest once unless an on-time slot already
 *   fires; `all` fires each that lies within the window, oldest first.
 * - Whatever does not fire is returned as missed, so it can be recorded.
 *
 * @example
 * ```ts
 * const plan = planCatchUp({
 *   source: intervalSlots(3_600_000),
 *   cursor: Date.parse('2026-01-01T10:00Z'),
 *   now: Date.parse('2026-01-01T13:30Z'),
 *   policy: 'latest',
 *   graceMs: 60_000,
 * });
 * // plan.fire = [{ slot: 13:00, late: true }], plan.missed = [11:00, 12:00]
 * ```
 */
export function planCatchUp(input: CatchUpInput): CatchUpPlan {
  const { now, policy, graceMs } = input;
  const { slots, hidden, truncated } = dueSlots(input.source, input.cursor, now, input.limit);
  if (slots.length === 0) {
    return { fire: [], missed: [], missedCount: 0, truncated: false, cursor: input.cursor };
  }
  const newest = slots[slots.length - 1]!;
  const onTime = now - newest <= graceMs ? newest : undefined;
  const overdue = onTime === undefined ? slots : slots.slice(0, -1);
  const fire: PlannedFire[] = [];
  let missed: number[];
  if (policy === 'skip') {
    missed = overdue;
  } else if (policy === 'latest') {
    if (onTime === undefined && overdue.length > 0) {
      fire.push({ slot: overdue[overdue.length - 1]!, late: true });
      missed = overdue.slice(0, -1);
    } else missed = overdue;
  } else {
    const from = now - policy.windowMs;
    missed = overdue.filter((s) => s < from);
    for (const slot of overdue) if (slot >= from) fire.push({ slot, late: true });
  }
  if (onTime !== undefined) fire.push({ slot: onTime, late: false });
  return {
    fire,
    missed,
    missedCount: missed.length + hidden,
    truncated,
    cursor: newest,
  };
}
