import type { Agent, AgentRegistry } from '../contracts/agent.js';
import type { Address, ChannelRegistry } from '../contracts/channel.js';
import type { Clock, TimerHandle } from '../contracts/clock.js';
import type { JsonObject, JsonValue } from '../contracts/json.js';
import type { Logger } from '../contracts/logger.js';
import type { HistoryEntry, Session, SessionStore } from '../contracts/session.js';
import type { SessionRunner } from '../failover/executor.js';
import { AgentdError } from '../kernel/errors.js';
import type { EventBus } from '../kernel/events.js';
import { ownerIsGone } from '../kernel/owner.js';
import { endRecordedProcess } from '../kernel/process.js';
import { errorMessage } from '../kernel/timeout.js';
import { createToken } from '../kernel/token.js';
import type { TurnHandoff } from '../runtime/turn-handoff.js';
import { recordTurnIn } from '../store-kit/fast-paths.js';

/** Default idle timeout of a session: 10 minutes. */
export const DEFAULT_SESSION_IDLE_MS = 10 * 60_000;
/** Allowed idle timeouts, in minutes. */
export const IDLE_TIMEOUT_RANGE = { min: 1, max: 120 } as const;

/** A session refused or failed for a reason retrying cannot fix (the runner fails the task). */
export class SessionError extends AgentdError {
  override name = 'SessionError';
  readonly retryable = false;
}

/** Options of the {@link SessionManager}. */
export interface SessionManagerOptions {
  /** Idle timeout of new sessions (default 10 min). */
  idleTimeoutMs?: number;
  /** Agent of new sessions (default: the host's default agent). */
  defaultAgent?: string;
  /** Name of the session created for a user's first message (default `main`). */
  defaultName?: string;
  /** Tell the user when a suspended session resumes (default true). */
  resumeNotice?: boolean;
  /** Between SIGTERM and SIGKILL when ending orphaned processes at start (default 5 s). */
  killGraceMs?: number;
  /** History entries the executor offers agents per run (default 50). */
  historyLimit?: number;
}

interface Deps {
  store: SessionStore;
  agents: AgentRegistry;
  clock: Clock;
  logger: Logger;
  events: EventBus;
  channels?: ChannelRegistry;
  /**
   * This host's instance id (`HostInfo.instanceId`), written as the owner of every session it
   * makes live; recovery leaves sessions of a live owner alone.
   */
  owner?: string;
}

interface Live {
  agent: Agent;
  resource: unknown;
}

const minutes = (ms: number) => Math.max(1, Math.round(ms / 60_000));

/**
 * Owns every session's lifecycle, for every channel: a user (an address) has named sessions,
 * one active. A run takes the session's lock, resumes it if suspended (telling the user), and
 * marks it live; when it has been idle past its timeout and is not busy, it is suspended: its
 * agent's live resource is released (a session-mode command agent's process is stopped). The
 * idle timer and a message take the same lock, so they never race. A live session records its
 * owner (the host instance holding its resource). At start, sessions whose owner is gone (a
 * crashed or killed host of this machine) are suspended and their orphaned processes ended
 * (after checking the PID still runs that command); sessions of a live owner, such as another
 * host on the same store, are left alone. At stop, every live resource is released.
 *
 * @example
 * ```ts
 * const sessions = ctx.resolve(SessionManagerToken);
 * await sessions.create({ channel: 'telegram', id: '42' }, { name: 'work', agent: 'claude' });
 * await sessions.setIdleTimeout('telegram:42', 30);
 * for (const s of await sessions.list('telegram:42')) console.log(s.name, s.status);
 * ```
 */
export class SessionManager implements SessionRunner {
  readonly #live = new Map<string, Live>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #timers = new Map<string, TimerHandle>();
  readonly #busy = new Map<string, number>();
  /** The turns of runs in progress, written with the run's end (see {@link SessionManager.appendTurn}). */
  readonly #turns = new Map<string, HistoryEntry[]>();
  readonly #options: Required<Omit<SessionManagerOptions, 'defaultAgent'>> & {
    defaultAgent?: string;
  };
  #stopping = false;

  constructor(
    private readonly deps: Deps,
    options: SessionManagerOptions = {},
  ) {
    this.#options = {
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_SESSION_IDLE_MS,
      defaultName: options.defaultName ?? 'main',
      resumeNotice: options.resumeNotice ?? true,
      killGraceMs: options.killGraceMs ?? 5_000,
      historyLimit: options.historyLimit ?? 50,
      ...(options.defaultAgent !== undefined && { defaultAgent: options.defaultAgent }),
    };
  }

  /** The user key of an address: `channel:id`. */
  static userKey(address: Address): string {
    return `${address.channel}:${address.id}`;
  }

  /** The user's active session, created (as `main`, with the default agent) if there is none. */
  async sessionFor(address: Address): Promise<Session> {
    const userKey = SessionManager.userKey(address);
    const active = await this.deps.store.findActive(userKey);
    if (active && active.status !== 'archived') return active;
    const existing = await this.deps.store.findByName(userKey, this.#options.defaultName);
    if (existing && existing.status !== 'archived') {
      await this.deps.store.activate(userKey, existing.id);
      return { ...existing, active: true };
    }
    return this.create(address, { name: this.#options.defaultName });
  }

  /**
   * The session as it can run on this host. A session whose agent this host no longer has (it
   * was removed from the config) falls back to the sessions' default agent (the host's default
   * agent unless `defaultAgent` is set): the session is re-bound to it, its suspended state of
   * the old agent dropped (the history stays), and `replacedAgent` names the agent it had, so
   * the caller tells the user. Without a default agent to fall back to, it throws a
   * {@link SessionError} whose message the user can act on.
   *
   * @example
   * ```ts
   * const { session, replacedAgent } = await sessions.withKnownAgent(await sessions.sessionFor(from));
   * ```
   */
  async withKnownAgent(session: Session): Promise<{ session: Session; replacedAgent?: string }> {
    if (this.deps.agents.get(session.agent)) return { session };
    const fallback = this.#options.defaultAgent ?? this.deps.agents.defaultAgent;
    const gone = `Your session "${session.name}" uses agent "${session.agent}", which this host no longer has`;
    if (fallback === undefined || !this.deps.agents.get(fallback)) {
      throw new SessionError('E_UNKNOWN_AGENT', `${gone}: /switch or /new`);
    }
    const updated = await this.deps.store.update(session.id, {
      agent: fallback,
      snapshot: null,
      resource: null,
    });
    if (!updated) throw new SessionError('E_NO_SESSION', `session ${session.id} no longer exists`);
    this.deps.logger.warn(
      { session: session.id, removedAgent: session.agent, agent: fallback },
      `session "${session.name}" named a removed agent; it now uses the default agent`,
    );
    return { session: updated, replacedAgent: session.agent };
  }

  /** Creates a named session for the user and (by default) makes it the active one. */
  async create(
    address: Address,
    options: {
      name: string;
      agent?: string;
      persona?: string;
      idleTimeoutMinutes?: number;
      activate?: boolean;
    },
  ): Promise<Session> {
    const userKey = SessionManager.userKey(address);
    const name = options.name.trim();
    if (!/^[\w.-]{1,40}$/.test(name)) {
      throw new SessionError('E_SESSION_NAME', 'a session name is 1 to 40 letters, digits, _ . -');
    }
    const existing = await this.deps.store.findByName(userKey, name);
    if (existing && existing.status !== 'archived') {
      throw new SessionError('E_SESSION_EXISTS', `a session named "${name}" already exists`);
    }
    const agent = options.agent ?? this.#options.defaultAgent ?? this.deps.agents.defaultAgent;
    if (!agent || !this.deps.agents.get(agent)) {
      const known = this.deps.agents
        .list()
        .map((a) => a.name)
        .join(', ');
      throw new SessionError(
        'E_UNKNOWN_AGENT',
        `unknown agent "${agent ?? ''}" (known: ${known || 'none'})`,
      );
    }
    const idleTimeoutMs =
      options.idleTimeoutMinutes === undefined
        ? this.#options.idleTimeoutMs
        : checkMinutes(options.idleTimeoutMinutes) * 60_000;
    const session = await this.deps.store.create(
      { userKey, address, name, agent, persona: options.persona ?? null, idleTimeoutMs },
      this.deps.clock.now(),
    );
    if (options.activate !== false) await this.deps.store.activate(userKey, session.id);
    this.deps.events.emit('session.created', { session });
    return { ...session, active: options.activate !== false };
  }

  /** Makes the named session the user's active one. */
  async switch(userKey: string, name: string): Promise<Session> {
    const session = await this.#byName(userKey, name);
    await this.deps.store.activate(userKey, session.id);
    return { ...session, active: true };
  }

  /** The user's sessions (not archived ones unless asked), oldest first. */
  list(userKey: string, options: { includeArchived?: boolean } = {}): Promise<Session[]> {
    return this.deps.store.listByUser(userKey, options);
  }

  /** Sets the idle timeout (1 to 120 minutes) of the named session, or the active one. */
  async setIdleTimeout(userKey: string, minutesValue: number, name?: string): Promise<Session> {
    const ms = checkMinutes(minutesValue) * 60_000;
    const session = name
      ? await this.#byName(userKey, name)
      : await this.deps.store.findActive(userKey);
    if (!session) throw new SessionError('E_NO_SESSION', 'there is no active session');
    const updated = (await this.deps.store.update(session.id, { idleTimeoutMs: ms }))!;
    if (updated.status === 'live') this.#schedule(updated);
    return updated;
  }

  /** Archives the named session, releasing its resource for good. */
  async archive(userKey: string, name: string): Promise<Session> {
    const session = await this.#byName(userKey, name);
    return this.#lock(session.id, async () => {
      this.#timers.get(session.id)?.cancel();
      this.#timers.delete(session.id);
      const live = this.#live.get(session.id);
      this.#live.delete(session.id);
      if (live?.agent.sessions) {
        await live.agent.sessions
          .close(session, live.resource)
          .catch((err: unknown) =>
            this.deps.logger.warn(
              { err, session: session.id },
              'could not close the session resource',
            ),
          );
      }
      const archived = (await this.deps.store.update(session.id, {
        status: 'archived',
        resource: null,
        snapshot: null,
      }))!;
      this.deps.events.emit('session.archived', { session: archived });
      return archived;
    });
  }

  /**
   * Suspends the named session now (an operator's choice, e.g. from the dashboard): its agent's
   * live resource is released, a snapshot kept, and the next message resumes it. Refused with
   * `E_SESSION_BUSY` while a run holds it or another live host does; a suspended one is returned
   * as it is.
   *
   * @example
   * ```ts
   * await sessions.suspend('telegram:42', 'work');
   * ```
   */
  async suspend(userKey: string, name: string): Promise<Session> {
    const { id } = await this.#byName(userKey, name);
    // Checked before the lock too: a run holds the lock until it ends, and the caller (an
    // operator's click) should hear "busy" now, not wait for the run.
    if (this.isBusy(id)) {
      throw new SessionError('E_SESSION_BUSY', `session "${name}" is running a task`);
    }
    return this.#lock(id, async () => {
      const session = await this.deps.store.get(id);
      if (!session || session.status === 'archived') {
        throw new SessionError('E_NO_SESSION', `no session named "${name}"`);
      }
      if (session.status === 'suspended') return session;
      if (this.isBusy(id)) {
        throw new SessionError('E_SESSION_BUSY', `session "${name}" is running a task`);
      }
      if (
        session.status === 'live' &&
        session.owner !== null &&
        session.owner !== (this.deps.owner ?? null) &&
        !ownerIsGone(session.owner)
      ) {
        throw new SessionError('E_SESSION_BUSY', `session "${name}" is held by another host`);
      }
      await this.#suspend(session, 'manual');
      return (await this.deps.store.get(id))!;
    });
  }

  /**
   * Resumes the named session now, as its next message would (its agent's resource restored from
   * the snapshot, the user told), so it is warm before the user writes; it then suspends again
   * after its idle timeout. A live one is returned as it is.
   *
   * @example
   * ```ts
   * await sessions.resume('telegram:42', 'work');
   * ```
   */
  async resume(userKey: string, name: string): Promise<Session> {
    const { id } = await this.#byName(userKey, name);
    return this.run(id, async (session) => session);
  }

  history(sessionId: string, limit: number): Promise<HistoryEntry[]> {
    return this.deps.store.history(sessionId, Math.min(limit, this.#options.historyLimit));
  }

  /**
   * Adds a run's input and output to the session's history. Inside {@link SessionManager.run}
   * the turn is written when the run ends, together with the session's last activity (one
   * write, before `run` resolves and so before its task is recorded as done); elsewhere at once.
   */
  async appendTurn(
    session: Session,
    input: JsonValue,
    output: JsonValue,
    taskId: string,
  ): Promise<void> {
    const at = this.deps.clock.now();
    const text = (v: JsonValue) => (typeof v === 'string' ? v : JSON.stringify(v));
    const entries: HistoryEntry[] = [
      { role: 'user', content: text(input), at, taskId },
      { role: 'assistant', content: text(output), at, taskId },
    ];
    const pending = this.#turns.get(session.id);
    if (pending) {
      pending.push(...entries);
      return;
    }
    for (const entry of entries) await this.deps.store.appendHistory(session.id, entry);
  }

  /**
   * Ends a run here: writes its turn and the session's last activity (in one write where it
   * can), then arms the idle timer.
   */
  async #endRun(session: Session, entries: readonly HistoryEntry[]): Promise<void> {
    const after = await recordTurnIn(
      this.deps.store,
      session.id,
      entries,
      this.deps.clock.now(),
    ).catch((err: unknown) => {
      this.#warnEndRun(session.id, err);
      return undefined;
    });
    if (after && !this.#stopping) this.#schedule(after);
  }

  /** Whether a run holds the session now. */
  isBusy(sessionId: string): boolean {
    return (this.#busy.get(sessionId) ?? 0) > 0;
  }

  /**
   * Runs `work` under the session's lock (see {@link SessionRunner.run}). When `work` succeeds
   * and `handOff` takes the run's end (its turn and last activity), `run` resolves with the
   * result at once and the lock is held until the taker has written the turn (with the task's
   * completion): the session's next run reads it. Otherwise the turn is written here, before
   * `run` resolves.
   */
  run<T>(
    sessionId: string,
    work: (session: Session, resource: unknown) => Promise<T>,
    handOff?: TurnHandoff,
  ): Promise<T> {
    if (!handOff) return this.#lock(sessionId, () => this.#run(sessionId, work));
    return new Promise<T>((resolve, reject) => {
      this.#lock(sessionId, () => this.#run(sessionId, work, { handOff, resolve })).then(
        resolve,
        reject,
      );
    });
  }

  async #run<T>(
    sessionId: string,
    work: (session: Session, resource: unknown) => Promise<T>,
    early?: { handOff: TurnHandoff; resolve: (result: T) => void },
  ): Promise<T> {
    const { store, clock } = this.deps;
    const found = await store.get(sessionId);
    if (!found) throw new SessionError('E_NO_SESSION', `session ${sessionId} no longer exists`);
    if (found.status === 'archived') {
      throw new SessionError('E_SESSION_ARCHIVED', `session "${found.name}" is archived`);
    }
    if (this.#stopping) throw new SessionError('E_STOPPING', 'the host is stopping');
    const agent = this.deps.agents.get(found.agent);
    if (!agent)
      throw new SessionError(
        'E_UNKNOWN_AGENT',
        `session "${found.name}" uses unknown agent "${found.agent}"`,
      );
    this.#timers.get(sessionId)?.cancel();
    this.#timers.delete(sessionId);
    let live = this.#live.get(sessionId);
    // Live in the store, but its owner (another host of this machine) is gone since: end the
    // process it left and resume the session here, as start-up recovery would have.
    const orphaned =
      !live &&
      found.status === 'live' &&
      found.owner !== null &&
      found.owner !== (this.deps.owner ?? null) &&
      ownerIsGone(found.owner);
    if (orphaned) await this.#endOrphan(found);
    const wasSuspended = found.status === 'suspended' || orphaned;
    const idleMs = clock.now() - found.lastActivityAt;
    if (wasSuspended && this.#options.resumeNotice) {
      await this.deps.channels
        ?.send(found.address, {
          text: `Resuming session "${found.name}" (idle for ${minutes(idleMs)} min)...`,
          silent: true,
        })
        .catch((err: unknown) =>
          this.deps.logger.warn({ err }, 'could not send the resume notice'),
        );
    }
    if (!live && agent.sessions) {
      try {
        const resource =
          wasSuspended && (found.snapshot !== null || orphaned)
            ? await agent.sessions.resume(found, found.snapshot ?? {})
            : await agent.sessions.open(found);
        live = { agent, resource };
        this.#live.set(sessionId, live);
      } catch (err) {
        // Never fall back to a fresh session: the user would silently lose the conversation.
        throw new SessionError(
          'E_RESUME_FAILED',
          `Could not resume session "${found.name}": ${errorMessage(err)}. It stays suspended; archive it or start a new one.`,
          { cause: err },
        );
      }
    }
    const resourceFacts = (live && agent.sessions?.describe?.(live.resource as never)) ?? null;
    const owner = this.deps.owner ?? null;
    // Already live here as recorded (the usual next message): nothing to write before the
    // run; the activity time is written when it ends, and the busy count keeps the idle timer
    // from suspending it meanwhile.
    const unchanged =
      found.status === 'live' &&
      found.owner === owner &&
      found.snapshot === null &&
      JSON.stringify(found.resource) === JSON.stringify(resourceFacts);
    const session = unchanged
      ? found
      : (await store.update(sessionId, {
          status: 'live',
          lastActivityAt: clock.now(),
          snapshot: null,
          resource: resourceFacts as JsonObject | null,
          owner,
        }))!;
    if (wasSuspended) this.deps.events.emit('session.resumed', { session, idleMs });
    this.#busy.set(sessionId, (this.#busy.get(sessionId) ?? 0) + 1);
    this.#turns.set(sessionId, []);
    let result: T;
    try {
      result = await work(session, live?.resource);
    } catch (err) {
      await this.#endRun(session, this.#takeTurn(sessionId));
      throw err;
    }
    const entries = this.#takeTurn(sessionId);
    if (early) {
      const lastActivityAt = clock.now();
      const written = early.handOff.offer({ sessionId, entries, lastActivityAt });
      if (written) {
        early.resolve(result);
        const done = await written.catch((err: unknown) => {
          this.#warnEndRun(sessionId, err);
          return true;
        });
        if (done) {
          if (!this.#stopping) this.#schedule({ ...session, lastActivityAt });
          return result;
        }
      }
    }
    await this.#endRun(session, entries);
    return result;
  }

  /** The run's turn so far, and the session no longer busy with it. */
  #takeTurn(sessionId: string): HistoryEntry[] {
    this.#busy.set(sessionId, (this.#busy.get(sessionId) ?? 1) - 1);
    const turn = this.#turns.get(sessionId) ?? [];
    this.#turns.delete(sessionId);
    return turn;
  }

  #warnEndRun(sessionId: string, err: unknown): void {
    this.deps.logger.warn({ err, session: sessionId }, 'could not record the end of a session run');
  }

  /** Suspends the session if it is live, not busy and idle past its timeout; else re-arms its timer. */
  suspendIfIdle(sessionId: string): Promise<void> {
    return this.#lock(sessionId, async () => {
      const session = await this.deps.store.get(sessionId);
      if (session?.status !== 'live') return;
      const idle = this.deps.clock.now() - session.lastActivityAt;
      if (this.isBusy(sessionId) || idle < session.idleTimeoutMs) {
        this.#schedule(session);
        return;
      }
      await this.#suspend(session, 'idle');
    });
  }

  /**
   * Start-up recovery: sessions a crash left live are marked suspended, and their processes
   * (recorded as `{ pid, command, startTime }`) are ended if the PID still runs that command.
   * Only sessions whose owner is gone (see `ownerIsGone`), or that record no owner (written by
   * an older agentd), are touched: a live owner's (another host on the same store, or a host on
   * another machine) keep their process and status.
   */
  async recover(): Promise<number> {
    let count = 0;
    for (const session of await this.deps.store.listByStatus(['live', 'idle'])) {
      if (session.status === 'idle' && session.resource === null) continue;
      if (session.owner !== null && !ownerIsGone(session.owner)) {
        this.deps.logger.debug(
          { session: session.id, owner: session.owner },
          'session held by a live host; left alone',
        );
        continue;
      }
      await this.#endOrphan(session);
      const updated = (await this.deps.store.update(session.id, {
        status: 'suspended',
        resource: null,
        owner: null,
        snapshot: session.snapshot ?? {},
      }))!;
      this.deps.events.emit('session.suspended', { session: updated, reason: 'crash-recovery' });
      count++;
    }
    return count;
  }

  /**
   * Ends the process a session recorded (`{ pid, command, startTime, hostname }`) with its group,
   * if that PID still runs the same command on this machine (PIDs are reused).
   */
  async #endOrphan(session: Session): Promise<void> {
    const r = session.resource;
    if (!r) return;
    if (await endRecordedProcess(r, this.#options.killGraceMs)) {
      this.deps.logger.warn(
        { session: session.id, pid: r.pid },
        'ended an orphaned session process',
      );
    }
  }

  /** Releases every live resource (shutdown); the sessions resume on their next message. */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    for (const t of this.#timers.values()) t.cancel();
    this.#timers.clear();
    await Promise.all(
      [...this.#live.keys()].map((id) =>
        this.#lock(id, async () => {
          const session = await this.deps.store.get(id);
          if (session) await this.#suspend(session, 'shutdown');
          else this.#live.delete(id);
        }).catch((err: unknown) =>
          this.deps.logger.error({ err, session: id }, 'could not stop a session'),
        ),
      ),
    );
  }

  async #suspend(session: Session, reason: 'idle' | 'shutdown' | 'manual'): Promise<void> {
    this.#timers.get(session.id)?.cancel();
    this.#timers.delete(session.id);
    const live = this.#live.get(session.id);
    this.#live.delete(session.id);
    let snapshot: JsonValue = {};
    if (live?.agent.sessions) {
      try {
        snapshot = await live.agent.sessions.suspend(session, live.resource);
      } catch (err) {
        this.deps.logger.warn({ err, session: session.id }, 'suspend failed; closing the resource');
        await live.agent.sessions.close(session, live.resource).catch(() => {});
      }
    }
    if (
      session.owner !== null &&
      this.deps.owner !== undefined &&
      session.owner !== this.deps.owner
    ) {
      // Another host made the session live since: its status and resource are that host's now.
      this.deps.logger.info(
        { session: session.id, owner: session.owner, reason },
        "released this host's resource of a session another host now holds",
      );
      return;
    }
    const updated = (await this.deps.store.update(session.id, {
      status: 'suspended',
      snapshot,
      resource: null,
      owner: null,
    }))!;
    this.deps.logger.info({ session: session.id, reason }, `session "${session.name}" suspended`);
    this.deps.events.emit('session.suspended', { session: updated, reason });
  }

  #schedule(session: Session): void {
    this.#timers.get(session.id)?.cancel();
    const due = session.lastActivityAt + session.idleTimeoutMs - this.deps.clock.now();
    this.#timers.set(
      session.id,
      this.deps.clock.setTimeout(
        () => {
          this.#timers.delete(session.id);
          void this.suspendIfIdle(session.id).catch((err: unknown) =>
            this.deps.logger.error({ err, session: session.id }, 'idle suspend failed'),
          );
        },
        Math.max(0, due),
      ),
    );
  }

  async #byName(userKey: string, name: string): Promise<Session> {
    const session = await this.deps.store.findByName(userKey, name);
    if (!session || session.status === 'archived') {
      throw new SessionError('E_NO_SESSION', `no session named "${name}"`);
    }
    return session;
  }

  /** One lock per session: the idle timer, messages and commands take turns. */
  #lock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(id) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.#locks.set(id, settled);
    void settled.then(() => {
      if (this.#locks.get(id) === settled) this.#locks.delete(id);
    });
    return next;
  }
}

function checkMinutes(value: number): number {
  if (
    !Number.isInteger(value) ||
    value < IDLE_TIMEOUT_RANGE.min ||
    value > IDLE_TIMEOUT_RANGE.max
  ) {
    throw new SessionError(
      'E_SESSION_TIMEOUT',
      `the idle timeout is ${IDLE_TIMEOUT_RANGE.min} to ${IDLE_TIMEOUT_RANGE.max} minutes`,
    );
  }
  return value;
}

/**
 * The host's session manager, provided by the sessions plugin.
 *
 * @example
 * ```ts
 * const sessions = ctx.resolve(SessionManagerToken);
 * ```
 */
export const SessionManagerToken = createToken<SessionManager>('agentd.sessions');
