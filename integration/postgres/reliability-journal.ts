import { existsSync, readFileSync } from 'node:fs';

/** One line of `pg-reliability-host.mjs`'s journal. */
export interface JournalEntry {
  kind: 'start' | 'done' | 'failed' | 'role.acquired' | 'role.lost' | 'role.released' | 'role.work';
  pid: number;
  /** Milliseconds since the epoch, sub-millisecond, comparable across processes. */
  at: number;
  id?: string;
  attempt?: number;
  role?: string;
  epoch?: number;
  /** Why a run failed (`failed` lines). */
  error?: string;
}

export function journalEntries(path: string): JournalEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as JournalEntry);
}

/**
 * The places where a session's tasks did not run in order, one at a time: task k+1 (in enqueue
 * order) started before task k's last finished run. Re-runs of one task after a kill are fine.
 */
export function sessionOrderViolations(
  entries: readonly JournalEntry[],
  sessionOf: ReadonlyMap<string, string>,
  order: ReadonlyMap<string, number>,
): string[] {
  const spans = new Map<string, { first: number; lastDone: number }>();
  for (const e of entries) {
    if (!e.id || !sessionOf.has(e.id)) continue;
    const span = spans.get(e.id) ?? { first: Number.POSITIVE_INFINITY, lastDone: 0 };
    if (e.kind === 'start') span.first = Math.min(span.first, e.at);
    if (e.kind === 'done') span.lastDone = Math.max(span.lastDone, e.at);
    spans.set(e.id, span);
  }
  const bySession = new Map<string, string[]>();
  for (const [id, session] of sessionOf)
    bySession.set(session, [...(bySession.get(session) ?? []), id]);
  const violations: string[] = [];
  for (const [session, ids] of bySession) {
    ids.sort((a, b) => order.get(a)! - order.get(b)!);
    for (let k = 1; k < ids.length; k++) {
      const before = spans.get(ids[k - 1]!);
      const after = spans.get(ids[k]!);
      if (!before || !after) continue; // never ran: reported by the exactly-once check
      if (after.first < before.lastDone) {
        // The runs of both, for whoever reads the failure.
        const runs = entries
          .filter((e) => e.id === ids[k - 1] || e.id === ids[k])
          .map(
            (e) =>
              `${order.get(e.id!)}:${e.kind}@${e.pid}#${e.attempt}+${(e.at - after.first).toFixed(1)}`,
          );
        violations.push(
          `${session}: #${order.get(ids[k]!)} started ${(before.lastDone - after.first).toFixed(1)} ms before #${order.get(ids[k - 1]!)} finished (${runs.join(', ')})`,
        );
      }
    }
  }
  return violations;
}

/**
 * The places where two holdings of `role` did the role's work at the same time: a `role.work`
 * line of one epoch later than the first of a later epoch. Epochs only grow (each take writes the
 * record's epoch plus one), so the work of each must end before the next one's begins.
 */
export function roleWorkOverlaps(entries: readonly JournalEntry[], role: string): string[] {
  const spans = new Map<number, { pid: number; first: number; last: number; beats: number }>();
  for (const e of entries) {
    if (e.kind !== 'role.work' || e.role !== role || e.epoch === undefined) continue;
    const span = spans.get(e.epoch) ?? { pid: e.pid, first: e.at, last: e.at, beats: 0 };
    span.first = Math.min(span.first, e.at);
    span.last = Math.max(span.last, e.at);
    span.beats++;
    spans.set(e.epoch, span);
  }
  const epochs = [...spans.keys()].sort((a, b) => a - b);
  const overlaps: string[] = [];
  for (let k = 1; k < epochs.length; k++) {
    // Each later epoch against every earlier one (not only its neighbour: an epoch with no work
    // between two others must not hide an overlap of those).
    const later = spans.get(epochs[k]!)!;
    for (const earlierEpoch of epochs.slice(0, k)) {
      const earlier = spans.get(earlierEpoch)!;
      if (earlier.last >= later.first) {
        overlaps.push(
          `epoch ${earlierEpoch} (pid ${earlier.pid}) worked ${(earlier.last - later.first).toFixed(1)} ms into epoch ${epochs[k]} (pid ${later.pid})`,
        );
      }
    }
  }
  return overlaps;
}

/** The epochs that did the role's work, in order. */
export function roleWorkEpochs(entries: readonly JournalEntry[], role: string): number[] {
  const epochs = new Set<number>();
  for (const e of entries) {
    if (e.kind === 'role.work' && e.role === role && e.epoch !== undefined) epochs.add(e.epoch);
  }
  return [...epochs].sort((a, b) => a - b);
}

/**
 * When each host held `role` by its events: from its `role.acquired` to its loss, release, or
 * death. Only for reading a failure: an event is journaled when it is emitted, which on a starved
 * process is later than the lease's end (its expiry timer fires late), so these may overlap
 * though the work under the role did not.
 */
export function roleHoldings(
  entries: readonly JournalEntry[],
  kills: readonly { pid: number; at: number }[],
  role: string,
  endedAt: number,
): { pid: number; epoch: number; from: number; to: number }[] {
  const killedAt = new Map(kills.map((k) => [k.pid, k.at]));
  const holdings: { pid: number; epoch: number; from: number; to: number }[] = [];
  const open = new Map<number, { pid: number; epoch: number; from: number; to: number }>();
  for (const e of [...entries].sort((a, b) => a.at - b.at)) {
    if (e.role !== role) continue;
    if (e.kind === 'role.acquired') {
      const holding = { pid: e.pid, epoch: e.epoch ?? 0, from: e.at, to: endedAt };
      open.set(e.pid, holding);
      holdings.push(holding);
    } else if (e.kind === 'role.lost' || e.kind === 'role.released') {
      const holding = open.get(e.pid);
      if (holding) holding.to = e.at;
      open.delete(e.pid);
    }
  }
  for (const holding of open.values()) holding.to = killedAt.get(holding.pid) ?? endedAt;
  return holdings;
}
