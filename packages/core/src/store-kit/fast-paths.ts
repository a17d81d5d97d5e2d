import type { JsonValue } from '../contracts/json.js';
import type { HistoryEntry, Session, SessionStore, SessionTurn } from '../contracts/session.js';
import type { ClaimRequest, EnqueueResult, NewTask, Task, TaskStore } from '../contracts/task.js';
import { atTaskIndex, newTaskJson, prepareNewTask } from './new-task.js';
import { taskResultText } from './task-rules.js';

// The TaskStore's fast paths (enqueueMany, completeAndClaim, completeTurnAndClaim, completeMany)
// are optional, so a
// new store can start with the basic operations and add them for speed. Core never calls them
// directly: it calls these functions, which use a store's fast path when it has one and
// otherwise do the same work with the basic operations.

/**
 * Enqueues `tasks` in `store`, in order: by the store's `enqueueMany` (one transaction, all or
 * nothing) when it has one; otherwise every task is first checked with core's rules
 * ({@link prepareNewTask}: an invalid task rejects the call, its message starting `tasks[i]: `,
 * before any task is stored), then enqueued one by one. Without the fast path a failure of the
 * store itself part-way (a full disk) leaves the tasks before it stored.
 *
 * @example
 * ```ts
 * const results = await enqueueManyInto(store.tasks, [{ input: 'a' }, { input: 'b' }], Date.now());
 * ```
 */
export async function enqueueManyInto(
  store: TaskStore,
  tasks: readonly NewTask[],
  now: number,
): Promise<EnqueueResult[]> {
  if (store.enqueueMany) return store.enqueueMany(tasks, now);
  const json = newTaskJson();
  for (let i = 0; i < tasks.length; i++) {
    try {
      // The store checks again with its own payload cap; this catches what core's rules refuse.
      prepareNewTask(tasks[i] as NewTask, now, Number.POSITIVE_INFINITY, json);
    } catch (error) {
      throw atTaskIndex(error, i);
    }
  }
  const results: EnqueueResult[] = [];
  for (let i = 0; i < tasks.length; i++) {
    try {
      results.push(await store.enqueue(tasks[i] as NewTask, now));
    } catch (error) {
      throw atTaskIndex(error, i);
    }
  }
  return results;
}

/**
 * Completes task `id` (as `store.complete`) and claims up to `claim.limit` more (as
 * `store.claim`): in one transaction by the store's `completeAndClaim` when it has one, else by
 * the two calls in turn. The claim happens even if the completion did not hold.
 *
 * @example
 * ```ts
 * const { completed, claimed } = await completeAndClaimIn(store.tasks, task.id, owner, 'done', {
 *   owner, leaseMs: 60_000, limit: 1, now: Date.now(),
 * });
 * ```
 */
export async function completeAndClaimIn(
  store: TaskStore,
  id: string,
  owner: string,
  result: JsonValue | null,
  claim: ClaimRequest,
): Promise<{ completed: boolean; claimed: Task[] }> {
  if (store.completeAndClaim) return store.completeAndClaim(id, owner, result, claim);
  const completed = await store.complete(id, owner, result, claim.now);
  return { completed, claimed: await store.claim(claim) };
}

/**
 * Completes task `id`, records a session run's `turn` and claims up to `claim.limit` more, in
 * one transaction by the task store's `completeTurnAndClaim` when it has one (the turn recorded
 * only if the completion holds). Otherwise the turn is recorded first, by `sessions`
 * ({@link recordTurnIn}), then the task completed and the next claimed ({@link completeAndClaimIn}):
 * as a session run ended before there was a combined write, so a crash between the two leaves
 * the turn recorded for a task that runs again.
 *
 * @example
 * ```ts
 * const turn = { sessionId, entries: [{ role: 'user', content: 'hi', at: now }], lastActivityAt: now };
 * await completeTurnAndClaimIn(store.tasks, store.sessions, task.id, owner, 'ok', turn, {
 *   owner, leaseMs: 60_000, limit: 1, now,
 * });
 * ```
 */
export async function completeTurnAndClaimIn(
  tasks: TaskStore,
  sessions: SessionStore,
  id: string,
  owner: string,
  result: JsonValue | null,
  turn: SessionTurn,
  claim: ClaimRequest,
): Promise<{ completed: boolean; claimed: Task[] }> {
  if (tasks.completeTurnAndClaim) {
    return tasks.completeTurnAndClaim(id, owner, result, turn, claim);
  }
  await recordTurnIn(sessions, turn.sessionId, turn.entries, turn.lastActivityAt);
  return completeAndClaimIn(tasks, id, owner, result, claim);
}

/**
 * Completes many tasks held by `owner` and returns how many were still held: in one transaction
 * by the store's `completeMany` when it has one, else one `complete` after another (every result
 * is checked first, so a result JSON cannot hold completes none).
 *
 * @example
 * ```ts
 * const held = await completeManyIn(store.tasks, [{ id: a.id, result: 'ok' }], owner, Date.now());
 * ```
 */
export async function completeManyIn(
  store: TaskStore,
  items: readonly { id: string; result: JsonValue | null }[],
  owner: string,
  now: number,
): Promise<number> {
  if (store.completeMany) return store.completeMany(items, owner, now);
  for (const item of items) taskResultText(item.result);
  let held = 0;
  for (const item of items) if (await store.complete(item.id, owner, item.result, now)) held++;
  return held;
}

/**
 * Ends a session run (see `SessionStore.recordTurn`): its last activity set and `entries`
 * appended, in one write by the store's `recordTurn` when it has one; otherwise by `update`,
 * then `appendHistory` per entry (only if the session exists). Resolves with the updated
 * session, or undefined when there is none.
 *
 * @example
 * ```ts
 * await recordTurnIn(store.sessions, session.id, [{ role: 'user', content: 'hi', at: now }], now);
 * ```
 */
export async function recordTurnIn(
  store: SessionStore,
  sessionId: string,
  entries: readonly HistoryEntry[],
  lastActivityAt: number,
): Promise<Session | undefined> {
  if (store.recordTurn) return store.recordTurn(sessionId, entries, lastActivityAt);
  const session = await store.update(sessionId, { lastActivityAt });
  if (session) for (const entry of entries) await store.appendHistory(sessionId, entry);
  return session;
}
