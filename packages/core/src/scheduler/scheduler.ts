import type { AgentRegistry } from '../contracts/agent.js';
import type { Clock, TimerHandle } from '../contracts/clock.js';
import type { Logger } from '../contracts/logger.js';
import type {
  MissedRunPolicy,
  ScheduleDefinition,
  ScheduleFire,
  Scheduler,
  ScheduleStatus,
} from '../contracts/scheduler.js';
import type { StateStore } from '../contracts/state.js';
import type { EnqueueResult, NewTask, TaskQueue, TaskStore } from '../contracts/task.js';
import { AgentdError } from '../kernel/errors.js';
import type { EventBus } from '../kernel/events.js';
import { errorMessage } from '../kernel/timeout.js';
import { type PlannedFire, planCatchUp } from './catch-up.js';
import { cronSlots, intervalSlots, type SlotSource, slotSourceFor } from './cron.js';
import { parseReminderTime } from './reminders.js';
import { systemTimezone, timezoneProblem } from './time-zone.js';

/**
 * StateStore namespace of the scheduler's progress.
 *
 * @example
 * ```ts
 * const all = await state.list(SCHEDULER_NAMESPACE, 'schedule:');
 * ```
 */
export const SCHEDULER_NAMESPACE = 'scheduler';

/**
 * A slot fired at most this late counts as on time (default of `graceMs`).
 *
 * @example
 * ```ts
 * new DefaultScheduler(deps, { graceMs: DEFAULT_GRACE_MS * 2 });
 * ```
 */
export const DEFAULT_GRACE_MS = 5 * 60_000;

/**
 * Slots kept in a schedule's `missedSlots`.
 *
 * @example
 * ```ts
 * status.missedSlots.length <= MISSED_SLOTS_KEPT; // true
 * ```
 */
export const MISSED_SLOTS_KEPT = 50;

// Real timers overflow past 2^31-1 ms (24.8 days) and fire at once; waking hourly also
// re-checks after a suspended laptop or a changed system clock.
const MAX_TIMER_MS = 3_600_000;
const RETRY_MS = 15_000;
const CAS_ATTEMPTS = 10;
// Where every schedule's chains start: one promise shared by 10,000 schedules, not two each.
const SETTLED = Promise.resolve();
// Enqueue errors that retrying cannot fix: the slot is recorded as missed instead of retried forever.
const PERMANENT_ENQUEUE_ERRORS = new Set(['E_UNKNOWN_AGENT', 'E_NO_AGENT', 'E_INVALID_TASK']);

/**
 * A schedule's progress as stored (StateStore, namespace `scheduler`, key `schedule:<name>`).
 * Every change goes through `compareAndSet`, so of several hosts sharing a store exactly one
 * decides each slot.
 *
 * @example
 * ```ts
 * const state = await store.state.get<ScheduleState>(SCHEDULER_NAMESPACE, scheduleStateKey('daily-report'));
 * ```
 */
export type ScheduleState = {
  /** The slots' identity (expression and zone); a change restarts counting from now. */
  identity: string;
  /** Every slot at or before this was decided: fired, or recorded as missed. */
  cursor: number;
  lastSlot: number | null;
  lastFiredAt: number | null;
  /**
   * Task fires decided but perhaps not yet enqueued. Whoever reads them enqueues them again
   * (idempotent by key) before going on, so a crash between deciding and enqueueing loses nothing.
   * The host that enqueued them clears them with its next decision rather than with a write of
   * its own, so the last fire usually stays listed here, already enqueued.
   */
  pending: { slot: number; late: boolean }[];
  /** Newest last, at most {@link MISSED_SLOTS_KEPT}. */
  missed: number[];
  missedTotal: number;
  /**
   * Set while the schedule is paused (see {@link setSchedulePaused}): its slots move the cursor
   * and fire nothing. Absent in progress stored by an agentd without pause.
   */
  paused?: { at: number; by: string | null } | null;
};

/**
 * The StateStore key of a schedule's progress.
 *
 * @example
 * ```ts
 * await state.get('scheduler', scheduleStateKey('daily-report'));
 * ```
 */
export function scheduleStateKey(name: string): string {
  return `schedule:${name}`;
}

/**
 * The idempotency key of a schedule's fire: the schedule's name and the slot, so a slot is
 * enqueued at most once across restarts and hosts.
 *
 * @example
 * ```ts
 * fireKey('daily-report', Date.parse('2026-07-01T06:00:00Z')); // 'schedule:daily-report:2026-07-01T06:00:00.000Z'
 * ```
 */
export function fireKey(name: string, slot: number): string {
  return `schedule:${name}:${new Date(slot).toISOString()}`;
}

/**
 * The slots a stored identity stands for, so `agentd schedules` can show next runs of schedules
 * that plugins registered at run time (not in the config). `undefined` for an unknown identity.
 *
 * @example
 * ```ts
 * slotSourceFromIdentity('cron 0 8 * * * Europe/Berlin')?.expression; // '0 8 * * *'
 * ```
 */
export function slotSourceFromIdentity(identity: string): SlotSource | undefined {
  try {
    if (identity.startsWith('every ')) return intervalSlots(Number(identity.slice(6)));
    if (identity.startsWith('cron ')) {
      const rest = identity.slice(5);
      const space = rest.lastIndexOf(' ');
      return cronSlots(rest.slice(0, space), rest.slice(space + 1));
    }
  } catch {
    // An identity from a newer or older agentd: show what is stored, without next runs.
  }
  return undefined;
}

/**
 * What `list()` and `agentd schedules` show for a schedule, from its slots and stored progress.
 *
 * @example
 * ```ts
 * const status = scheduleStatus({ name: 'hourly', enabled: true }, intervalSlots(3_600_000), stored, Date.now());
 * ```
 */
export function scheduleStatus(
  schedule: { name: string; enabled: boolean },
  source: SlotSource | undefined,
  state: ScheduleState | undefined,
  now: number,
): ScheduleStatus {
  return {
    name: schedule.name,
    expression: source?.expression ?? state?.identity ?? '?',
    timezone: source?.timezone ?? '?',
    enabled: schedule.enabled,
    pausedAt: state?.paused?.at ?? null,
    pausedBy: state?.paused?.by ?? null,
    nextRunAt:
      schedule.enabled && !state?.paused
        ? (source?.next(Math.max(now, state?.cursor ?? now)) ?? null)
        : null,
    lastSlot: state?.lastSlot ?? null,
    lastFiredAt: state?.lastFiredAt ?? null,
    missedSlots: state?.missed ?? [],
    missedTotal: state?.missedTotal ?? 0,
  };
}

/**
 * Pauses or resumes a schedule in the store, so every host sharing it (and a host started
 * later) sees the same: the pause is part of the schedule's stored progress, changed by
 * compare-and-set like every slot decision, so no slot can be decided on a state that missed it.
 * A paused schedule's slots move its cursor and fire nothing; resuming moves the cursor to `now`,
 * so the slots that fell due while it was paused are never caught up (they are not "missed"
 * either: nobody expected them to run). Used by the scheduler and by `agentd schedules --pause`,
 * which works whether or not the host runs.
 *
 * `identity` is the schedule's slot identity, needed only when the schedule has no stored
 * progress yet. Returns the stored state after the change (unchanged when already so).
 *
 * @example
 * ```ts
 * await setSchedulePaused(store.state, 'daily-report', { paused: true, by: 'cli', now: Date.now(), identity: 'cron 0 8 * * * UTC' });
 * ```
 */
export async function setSchedulePaused(
  state: StateStore,
  name: string,
  change: { paused: boolean; by?: string | null; now: number; identity?: string },
): Promise<ScheduleState> {
  const key = scheduleStateKey(name);
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const current = await state.get<ScheduleState>(SCHEDULER_NAMESPACE, key);
    if (!current && change.identity === undefined) {
      throw new AgentdError('E_UNKNOWN_SCHEDULE', `no schedule named "${name}"`);
    }
    const base: ScheduleState = current ?? {
      identity: change.identity!,
      cursor: change.now - 1,
      lastSlot: null,
      lastFiredAt: null,
      pending: [],
      missed: [],
      missedTotal: 0,
    };
    const isPaused = base.paused != null;
    if (current && isPaused === change.paused) return current;
    const next: ScheduleState = change.paused
      ? { ...base, paused: { at: change.now, by: change.by ?? null } }
      : // Continue from the next slot: those due while paused are decided (not fired) here.
        { ...base, paused: null, cursor: Math.max(base.cursor, change.now - 1) };
    if (await state.compareAndSet(SCHEDULER_NAMESPACE, key, current, next)) return next;
  }
  throw new AgentdError(
    'E_SCHEDULE_CONTENDED',
    `schedule "${name}": its state kept changing (${CAS_ATTEMPTS} attempts)`,
  );
}

/**
 * What the scheduler works with; the scheduler plugin passes the host's services.
 *
 * @example
 * ```ts
 * const deps: SchedulerDeps = { state, queue, tasks, agents, events, logger, clock };
 * ```
 */
export interface SchedulerDeps {
  state: StateStore;
  queue: TaskQueue;
  /** For the `skip` overlap policy of task schedules: is the previous slot's task still pending or running? */
  tasks?: TaskStore;
  /** Lets `start()` and `add()` refuse a schedule whose agent does not exist. */
  agents?: AgentRegistry;
  events: EventBus;
  logger: Logger;
  clock: Clock;
}

/**
 * Settings of {@link DefaultScheduler}.
 *
 * @example
 * ```ts
 * const settings: SchedulerSettings = { timezone: 'Europe/Berlin', graceMs: 60_000 };
 * ```
 */
export interface SchedulerSettings {
  /** Zone of cron schedules and reminder texts that name none (default: this machine's). */
  timezone?: string;
  /** A slot fired at most this late counts as on time (default 5 minutes). */
  graceMs?: number;
}

interface Entry {
  definition: ScheduleDefinition;
  source: SlotSource;
  /** When this schedule next wants a decision round; undefined while one runs (or stopped). */
  dueAt: number | undefined;
  /** Ticks of one schedule run one after another. */
  chain: Promise<void>;
  /** Handler runs of this schedule, in order. */
  handlerChain: Promise<void>;
  handlersActive: number;
  /**
   * The fires this host last enqueued in full. They stay in the stored `pending` until the next
   * decision's write clears them, which saves a write per fire; a crash before that re-enqueues
   * them, idempotently.
   */
  enqueued: readonly { slot: number; late: boolean }[];
}

/**
 * The scheduler: cron and interval schedules, catch-up of slots missed while the host was down,
 * the heartbeat and reminders. Time comes from the Clock (a manual clock in tests), progress
 * lives in the StateStore, and each task fire carries the idempotency key `schedule:<name>:<slot>`,
 * so a slot is enqueued at most once across restarts and hosts, and a slot decided is never lost
 * (see {@link ScheduleState.pending}).
 *
 * @example
 * ```ts
 * const scheduler = new DefaultScheduler({ state, queue, events, logger, clock }, { timezone: 'Europe/Berlin' });
 * scheduler.add({ name: 'daily-report', cron: '0 8 * * *', task: { agent: 'writer', input: 'Daily report' } });
 * await scheduler.start(); // catches up, then fires on time
 * ```
 */
export class DefaultScheduler implements Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #timezone: string;
  readonly #graceMs: number;
  readonly #entries = new Map<string, Entry>();
  #state: 'idle' | 'running' | 'stopped' = 'idle';
  #heartbeatTimer: TimerHandle | undefined;
  // One timer for the earliest due schedule, rather than one per schedule: 10,000 schedules
  // firing each minute otherwise keep 10,000 timers and wake once per schedule.
  #timer: TimerHandle | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  readonly #failing = new Set<string>();
  #markStarted!: () => void;
  readonly #started = new Promise<void>((resolve) => {
    this.#markStarted = resolve;
  });

  constructor(deps: SchedulerDeps, settings: SchedulerSettings = {}) {
    this.#deps = deps;
    this.#timezone = settings.timezone ?? systemTimezone();
    const problem = timezoneProblem(this.#timezone);
    if (problem) throw new AgentdError('E_BAD_SCHEDULE', `scheduler: ${problem}`);
    this.#graceMs = settings.graceMs ?? DEFAULT_GRACE_MS;
  }

  /** Names of schedules whose last decision failed (a store error); they retry shortly. */
  get failing(): readonly string[] {
    return [...this.#failing];
  }

  /**
   * Throws `E_UNKNOWN_AGENT` (or `E_NO_AGENT`) for a task schedule whose agent the host lacks.
   * The scheduler plugin calls it in `start`, so a typo fails the host start, not a slot later.
   *
   * @example
   * ```ts
   * scheduler.checkAgents(); // schedule "daily-report" names agent "writter", which is not an agent of this host (known: writer)
   * ```
   */
  checkAgents(): void {
    for (const entry of this.#entries.values()) this.#checkAgent(entry.definition);
  }

  /** The zone of cron schedules and reminder texts that name none. */
  get timezone(): string {
    return this.#timezone;
  }

  add(definition: ScheduleDefinition): void {
    const name = definition?.name;
    if (typeof name !== 'string' || name === '') {
      throw new AgentdError('E_BAD_SCHEDULE', 'a schedule needs a name');
    }
    if (this.#entries.has(name)) {
      throw new AgentdError('E_DUPLICATE_SCHEDULE', `a schedule named "${name}" already exists`);
    }
    const source = slotSourceFor(definition, this.#timezone);
    if ((definition.task === undefined) === (definition.handler === undefined)) {
      throw new AgentdError(
        'E_BAD_SCHEDULE',
        `schedule "${name}": give either task (what to enqueue) or handler (a function)`,
      );
    }
    checkPolicy(name, definition.missed);
    if (this.#state === 'running') this.#checkAgent(definition);
    const entry: Entry = {
      definition,
      source,
      dueAt: undefined,
      chain: SETTLED,
      handlerChain: SETTLED,
      handlersActive: 0,
      enqueued: [],
    };
    this.#entries.set(name, entry);
    if (this.#state === 'running') this.#enqueueTick(entry);
  }

  remove(name: string): boolean {
    const entry = this.#entries.get(name);
    if (!entry) return false;
    entry.dueAt = undefined;
    this.#entries.delete(name);
    return true;
  }

  async list(): Promise<ScheduleStatus[]> {
    const now = this.#deps.clock.now();
    const out: ScheduleStatus[] = [];
    for (const [name, entry] of this.#entries) {
      const state = await this.#read(name);
      out.push(
        scheduleStatus(
          { name, enabled: entry.definition.enabled !== false },
          entry.source,
          state?.identity === entry.source.identity ? state : state && { ...state, cursor: now },
          now,
        ),
      );
    }
    return out;
  }

  /**
   * Pauses a schedule durably (in the store: every host sharing it stops firing it, and it stays
   * paused across restarts) until {@link resume}. `trigger` still runs it by hand.
   *
   * @example
   * ```ts
   * await scheduler.pause('daily-report', 'dashboard');
   * ```
   */
  async pause(name: string, by?: string): Promise<ScheduleStatus> {
    return this.#setPaused(name, true, by);
  }

  /**
   * Resumes a paused schedule from its next slot; slots that fell due while it was paused are
   * not caught up.
   *
   * @example
   * ```ts
   * await scheduler.resume('daily-report');
   * ```
   */
  async resume(name: string): Promise<ScheduleStatus> {
    return this.#setPaused(name, false);
  }

  async #setPaused(name: string, paused: boolean, by?: string): Promise<ScheduleStatus> {
    const entry = this.#entry(name);
    const now = this.#deps.clock.now();
    // Taken in the schedule's chain, so it never interleaves with this host's own decision.
    const change = entry.chain.then(() =>
      setSchedulePaused(this.#deps.state, name, {
        paused,
        by: by ?? null,
        now,
        identity: entry.source.identity,
      }),
    );
    // A failed change (a store error) is the caller's to see; the schedule's ticks go on.
    entry.chain = change.then(
      () => undefined,
      () => undefined,
    );
    const stored = await change;
    this.#deps.logger.info(
      { schedule: name, by },
      `schedule "${name}" ${paused ? 'paused' : 'resumed'}`,
    );
    return scheduleStatus(
      { name, enabled: entry.definition.enabled !== false },
      entry.source,
      stored,
      now,
    );
  }

  #entry(name: string): Entry {
    const entry = this.#entries.get(name);
    if (entry) return entry;
    const known = [...this.#entries.keys()];
    throw new AgentdError(
      'E_UNKNOWN_SCHEDULE',
      `no schedule named "${name}"${known.length ? ` (known: ${known.join(', ')})` : ''}`,
    );
  }

  async trigger(name: string): Promise<void> {
    const entry = this.#entry(name);
    const now = this.#deps.clock.now();
    const fire: ScheduleFire = { schedule: name, slot: now, late: false };
    if (entry.definition.task) {
      const result = await this.#deps.queue.enqueue({
        ...this.#taskFor(entry, { slot: now, late: false }),
        idempotencyKey: `schedule:${name}:manual:${new Date(now).toISOString()}`,
      });
      if (result.created)
        this.#deps.events.emit('schedule.fired', { ...fire, taskId: result.task.id });
    } else {
      this.#runHandler(entry, fire);
    }
  }

  async remind(when: string | number, task: Omit<NewTask, 'runAt'>): Promise<EnqueueResult> {
    const now = this.#deps.clock.now();
    const runAt =
      typeof when === 'number' ? when : parseReminderTime(when, { now, timezone: this.#timezone });
    if (!Number.isFinite(runAt)) {
      throw new AgentdError(
        'E_BAD_TIME',
        'a reminder time must be a finite epoch ms or a time text',
      );
    }
    return this.#deps.queue.enqueue({ type: 'reminder', ...task, runAt });
  }

  /**
   * Enqueues a named one-off reminder at most once: its key is the name and the time, so a
   * config reminder survives restarts without running twice.
   *
   * @example
   * ```ts
   * await scheduler.scheduleReminder('tax', '2026-05-31T09:00', { input: 'File taxes' });
   * ```
   */
  async scheduleReminder(
    name: string,
    at: string | number,
    task: Omit<NewTask, 'runAt' | 'idempotencyKey'>,
  ): Promise<EnqueueResult> {
    const now = this.#deps.clock.now();
    const runAt =
      typeof at === 'number' ? at : parseReminderTime(at, { now, timezone: this.#timezone });
    return this.#deps.queue.enqueue({
      type: 'reminder',
      ...task,
      runAt,
      idempotencyKey: `reminder:${name}:${new Date(runAt).toISOString()}`,
    });
  }

  /**
   * Catches up every schedule (slots missed while the host was down, per each missed-run
   * policy), then fires on time. Call once the host is ready (the readiness barrier).
   */
  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    this.checkAgents();
    this.#state = 'running';
    try {
      await Promise.all([...this.#entries.values()].map((e) => this.#enqueueTick(e)));
    } finally {
      this.#markStarted();
    }
  }

  /**
   * Emits `heartbeat` every `everyMs` (the runner wakes on it) until the scheduler stops.
   *
   * @example
   * ```ts
   * host.events.on('heartbeat', ({ at }) => metrics.lastBeat = at);
   * scheduler.startHeartbeat(30_000);
   * ```
   */
  startHeartbeat(everyMs: number): void {
    this.#heartbeatTimer?.cancel();
    const beat = () => {
      if (this.#state !== 'running') return;
      this.#deps.events.emit('heartbeat', { at: this.#deps.clock.now() });
      this.#heartbeatTimer = this.#deps.clock.setTimeout(beat, everyMs);
    };
    this.#heartbeatTimer = this.#deps.clock.setTimeout(beat, everyMs);
  }

  /**
   * Stops firing, then waits for decisions in progress and for handler runs until `signal`
   * aborts (the host's drain deadline).
   */
  async drain(signal: AbortSignal): Promise<void> {
    this.#halt();
    const work = Promise.all([...this.#entries.values()].flatMap((e) => [e.chain, e.handlerChain]));
    await Promise.race([
      work,
      new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      }),
    ]);
  }

  /** Stops firing and waits for decisions in progress (they use the store); handler runs are not waited for. */
  async stop(): Promise<void> {
    this.#halt();
    await Promise.all([...this.#entries.values()].map((e) => e.chain));
  }

  #halt(): void {
    this.#state = 'stopped';
    this.#heartbeatTimer?.cancel();
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    for (const entry of this.#entries.values()) entry.dueAt = undefined;
  }

  /** Resolves once `start()` has run and no decision or handler run is in progress (for tests). */
  async settled(): Promise<void> {
    await this.#started;
    for (;;) {
      const chains = [...this.#entries.values()].flatMap((e) => [e.chain, e.handlerChain]);
      await Promise.all(chains);
      const after = [...this.#entries.values()].flatMap((e) => [e.chain, e.handlerChain]);
      if (after.length === chains.length && after.every((c, i) => c === chains[i])) return;
    }
  }

  #checkAgent(definition: ScheduleDefinition): void {
    const { agents } = this.#deps;
    if (!agents || !definition.task) return;
    const name = definition.task.agent ?? agents.defaultAgent;
    if (name === undefined) {
      throw new AgentdError(
        'E_NO_AGENT',
        `schedule "${definition.name}" names no agent and the host has no default agent`,
      );
    }
    if (!agents.get(name)) {
      const known = agents.list().map((a) => a.name);
      throw new AgentdError(
        'E_UNKNOWN_AGENT',
        `schedule "${definition.name}" names agent "${name}", which is not an agent of this host (known: ${known.join(', ') || 'none'})`,
      );
    }
  }

  #enqueueTick(entry: Entry): Promise<void> {
    entry.chain = entry.chain.then(() => this.#tick(entry));
    return entry.chain;
  }

  async #tick(entry: Entry): Promise<void> {
    if (this.#state !== 'running' || this.#entries.get(entry.definition.name) !== entry) return;
    let retry = false;
    try {
      await this.#decide(entry);
      this.#failing.delete(entry.definition.name);
    } catch (err) {
      retry = true;
      this.#failing.add(entry.definition.name);
      this.#deps.logger.error(
        { err, schedule: entry.definition.name },
        `schedule "${entry.definition.name}" could not fire; retrying in ${RETRY_MS / 1000} s`,
      );
    }
    this.#arm(entry, retry);
  }

  #arm(entry: Entry, retry: boolean): void {
    entry.dueAt = undefined;
    if (this.#state !== 'running' || this.#entries.get(entry.definition.name) !== entry) return;
    const now = this.#deps.clock.now();
    let at = now + MAX_TIMER_MS;
    const next = entry.source.next(now);
    if (next !== undefined && next < at) at = next;
    if (retry) at = Math.min(at, now + RETRY_MS);
    entry.dueAt = at;
    this.#wakeAt(at);
  }

  /** Makes the shared timer go off by `at`. */
  #wakeAt(at: number): void {
    if (at >= this.#timerAt || this.#state !== 'running') return;
    this.#timer?.cancel();
    this.#timerAt = at;
    const now = this.#deps.clock.now();
    this.#timer = this.#deps.clock.setTimeout(() => this.#wake(), Math.max(0, at - now));
  }

  /** Starts the decision round of every schedule now due, then waits for the next one. */
  #wake(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#state !== 'running') return;
    const now = this.#deps.clock.now();
    let earliest = Number.POSITIVE_INFINITY;
    for (const entry of this.#entries.values()) {
      const at = entry.dueAt;
      if (at === undefined) continue;
      if (at <= now) {
        entry.dueAt = undefined;
        void this.#enqueueTick(entry);
      } else if (at < earliest) earliest = at;
    }
    if (earliest !== Number.POSITIVE_INFINITY) this.#wakeAt(earliest);
  }

  async #read(name: string): Promise<ScheduleState | undefined> {
    return this.#deps.state.get<ScheduleState>(SCHEDULER_NAMESPACE, scheduleStateKey(name));
  }

  #cas(name: string, expected: ScheduleState | undefined, next: ScheduleState): Promise<boolean> {
    return this.#deps.state.compareAndSet(
      SCHEDULER_NAMESPACE,
      scheduleStateKey(name),
      expected,
      next,
    );
  }

  /** One decision round: finish pending fires, then decide the slots due since the cursor. */
  async #decide(entry: Entry): Promise<void> {
    const { definition, source } = entry;
    const name = definition.name;
    const { clock } = this.#deps;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const now = clock.now();
      let current = await this.#read(name);
      if (!current || current.identity !== source.identity) {
        // First sight of this schedule (or its expression changed): nothing before now was
        // missed; a slot due exactly now still fires.
        const fresh: ScheduleState = {
          identity: source.identity,
          cursor: now - 1,
          lastSlot: current?.lastSlot ?? null,
          lastFiredAt: current?.lastFiredAt ?? null,
          pending: current?.pending ?? [],
          missed: current?.missed ?? [],
          missedTotal: current?.missedTotal ?? 0,
          paused: current?.paused ?? null,
        };
        if (!(await this.#cas(name, current, fresh))) continue;
        current = fresh;
      }

      // What the store holds; `current` may be ahead of it by the fires this host already
      // enqueued, which the next write clears.
      let expected = current;
      if (current.pending.length > 0 && samePending(current.pending, entry.enqueued)) {
        current = { ...current, pending: [] };
      } else if (current.pending.length > 0) {
        const settled = await this.#enqueueFires(entry, current.pending);
        const next: ScheduleState = {
          ...current,
          pending: [],
          missed: [...current.missed, ...settled.dropped].slice(-MISSED_SLOTS_KEPT),
          missedTotal: current.missedTotal + settled.dropped.length,
        };
        if (!(await this.#cas(name, current, next))) continue;
        current = next;
        expected = next;
      }

      // A paused schedule is treated as disabled: its slots are decided without firing.
      const enabled = definition.enabled !== false && current.paused == null;
      const plan = planCatchUp({
        source,
        cursor: current.cursor,
        now,
        policy: definition.missed ?? 'latest',
        graceMs: this.#graceMs,
      });
      if (plan.cursor === current.cursor) return;
      // A disabled (or paused) schedule only moves its cursor, so enabling it later fires nothing stale.
      let fire: PlannedFire[] = enabled ? plan.fire : [];
      const missed = enabled ? plan.missed : [];
      const missedCount = enabled ? plan.missedCount : 0;
      let overlapped: number[] = [];
      if (
        fire.length > 0 &&
        (definition.overlap ?? 'skip') === 'skip' &&
        (await this.#previousRunActive(entry, current))
      ) {
        overlapped = fire.map((f) => f.slot);
        fire = [];
      }
      const isTask = definition.task !== undefined;
      const notFired = [...missed, ...overlapped].sort((a, b) => a - b);
      const next: ScheduleState = {
        ...current,
        identity: source.identity,
        cursor: plan.cursor,
        lastSlot: fire.at(-1)?.slot ?? current.lastSlot,
        lastFiredAt: fire.length > 0 ? now : current.lastFiredAt,
        pending: isTask ? fire.map((f) => ({ slot: f.slot, late: f.late })) : [],
        missed: [...current.missed, ...notFired].slice(-MISSED_SLOTS_KEPT),
        missedTotal: current.missedTotal + missedCount + overlapped.length,
      };
      if (!(await this.#cas(name, expected, next))) continue;

      // This host decided these slots; report and carry them out.
      const caughtUp = fire.filter((f) => f.late).map((f) => f.slot);
      if (missedCount > 0 || caughtUp.length > 0) {
        this.#reportMissed(name, 'downtime', missed, missedCount, caughtUp, plan.truncated);
      }
      if (overlapped.length > 0) {
        this.#reportMissed(name, 'overlap', overlapped, overlapped.length, [], false);
      }
      if (fire.length === 0) return;
      if (!isTask) {
        for (const f of fire) this.#runHandler(entry, { schedule: name, ...f });
        return;
      }
      const settled = await this.#enqueueFires(entry, next.pending);
      if (settled.dropped.length === 0) {
        entry.enqueued = next.pending;
        return;
      }
      const done: ScheduleState = {
        ...next,
        pending: [],
        missed: [...next.missed, ...settled.dropped].slice(-MISSED_SLOTS_KEPT),
        missedTotal: next.missedTotal + settled.dropped.length,
      };
      // Losing this race is fine: whoever changed the state saw the pending fires and enqueued them too.
      await this.#cas(name, next, done);
      return;
    }
    throw new AgentdError(
      'E_SCHEDULE_CONTENDED',
      `schedule "${name}": its state kept changing under this host (${CAS_ATTEMPTS} attempts)`,
    );
  }

  #reportMissed(
    name: string,
    reason: 'downtime' | 'overlap',
    slots: number[],
    count: number,
    caughtUp: number[],
    truncated: boolean,
  ): void {
    const iso = (t: number) => new Date(t).toISOString();
    this.#deps.logger.warn(
      {
        schedule: name,
        reason,
        missed: count,
        truncated,
        first: slots[0] === undefined ? undefined : iso(slots[0]),
        last: slots.at(-1) === undefined ? undefined : iso(slots.at(-1)!),
        caughtUp: caughtUp.map(iso),
      },
      reason === 'overlap'
        ? `schedule "${name}" skipped ${count} slot(s): its previous run is still going`
        : `schedule "${name}" missed ${truncated ? 'at least ' : ''}${count} slot(s) while the host was down${caughtUp.length ? `; ran ${caughtUp.length} late` : ''}`,
    );
    this.#deps.events.emit('schedule.missed', { schedule: name, reason, slots, count, caughtUp });
  }

  async #previousRunActive(entry: Entry, state: ScheduleState): Promise<boolean> {
    if (entry.definition.handler) return entry.handlersActive > 0;
    const { tasks } = this.#deps;
    if (!tasks || state.lastSlot === null) return false;
    const previous = await tasks.findByIdempotencyKey(
      fireKey(entry.definition.name, state.lastSlot),
    );
    return previous?.status === 'pending' || previous?.status === 'running';
  }

  #taskFor(entry: Entry, fire: { slot: number; late: boolean }): NewTask {
    const { name, task } = entry.definition;
    const template = task!;
    return {
      ...template,
      type: template.type ?? 'schedule',
      // Runs of one schedule never overlap: the runner runs one task per session key at a time.
      sessionKey: template.sessionKey ?? `schedule:${name}`,
      idempotencyKey: fireKey(name, fire.slot),
      metadata: {
        ...template.metadata,
        schedule: name,
        slot: new Date(fire.slot).toISOString(),
        late: fire.late,
      },
    };
  }

  /**
   * Enqueues fires (idempotent); returns the slots dropped for errors that retrying cannot fix.
   * One `enqueue` per fire, not one `enqueueMany` per schedule: the queue writes the enqueues
   * made while the same promise jobs run in one transaction, so the schedules one timer wakes
   * together (all due in the same second) share one write instead of one each.
   */
  async #enqueueFires(
    entry: Entry,
    fires: readonly { slot: number; late: boolean }[],
  ): Promise<{ dropped: number[] }> {
    const name = entry.definition.name;
    const outcomes = await Promise.allSettled(
      fires.map((f) => this.#deps.queue.enqueue(this.#taskFor(entry, f))),
    );
    const dropped: number[] = [];
    let permanent: unknown;
    outcomes.forEach((outcome, i) => {
      const f = fires[i]!;
      if (outcome.status === 'rejected') {
        const err = outcome.reason;
        // A store error: the fires stay pending and the whole round is retried (idempotently).
        if (!(err instanceof AgentdError && PERMANENT_ENQUEUE_ERRORS.has(err.code))) throw err;
        permanent = err;
        dropped.push(f.slot);
        return;
      }
      const result = outcome.value;
      if (!result.created) return;
      this.#deps.logger.info(
        {
          schedule: name,
          slot: new Date(f.slot).toISOString(),
          late: f.late,
          taskId: result.task.id,
        },
        `schedule "${name}" fired`,
      );
      this.#deps.events.emit('schedule.fired', {
        schedule: name,
        slot: f.slot,
        late: f.late,
        taskId: result.task.id,
      });
    });
    if (permanent !== undefined) {
      this.#deps.logger.error(
        { err: permanent, schedule: name },
        `schedule "${name}" cannot enqueue its task (${errorMessage(permanent)}); ${dropped.length} slot(s) recorded as missed`,
      );
    }
    return { dropped };
  }

  #runHandler(entry: Entry, fire: ScheduleFire): void {
    const { logger, events } = this.#deps;
    const handler = entry.definition.handler!;
    entry.handlersActive++;
    events.emit('schedule.fired', fire);
    entry.handlerChain = entry.handlerChain
      .then(() => handler(fire))
      .catch((err: unknown) =>
        logger.error(
          { err, schedule: fire.schedule, slot: new Date(fire.slot).toISOString() },
          `schedule "${fire.schedule}" handler failed`,
        ),
      )
      .finally(() => {
        entry.handlersActive--;
      });
  }
}

/** Whether two lists of pending fires are the same slots. */
function samePending(
  a: readonly { slot: number; late: boolean }[],
  b: readonly { slot: number; late: boolean }[],
): boolean {
  return a.length === b.length && a.every((f, i) => f.slot === b[i]!.slot && f.late === b[i]!.late);
}

function checkPolicy(name: string, missed: MissedRunPolicy | undefined): void {
  if (missed === undefined || missed === 'skip' || missed === 'latest') return;
  if (
    typeof missed === 'object' &&
    missed !== null &&
    missed.policy === 'all' &&
    Number.isFinite(missed.windowMs) &&
    missed.windowMs > 0
  ) {
    return;
  }
  throw new AgentdError(
    'E_BAD_SCHEDULE',
    `schedule "${name}": missed must be 'skip', 'latest' or { policy: 'all', windowMs } with a positive windowMs`,
  );
}
