import { AgentdError, createToken, type JsonValue, type StateStore } from '@agentd/core';
import type { HistorySeriesDefinition, SeriesAggregation } from './history-series.js';

/** The state-store namespace of the history (documented: other tools may read it). */
export const HISTORY_NAMESPACE = 'metrics-history';
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Minute points are kept this long, hour points `HOUR_RETENTION_MS` (state-store TTLs). */
export const MINUTE_RETENTION_MS = 7 * DAY_MS;
export const HOUR_RETENTION_MS = 90 * DAY_MS;
/** The most points one query returns. */
export const MAX_SERIES_POINTS = 20_000;

/** A time range and step for {@link MetricsHistory.series}; epoch ms. */
export interface SeriesQuery {
  /** Default: `to` minus 1 hour. */
  from?: number;
  /** Default: now. */
  to?: number;
  /**
   * Milliseconds between points, a whole number of minutes (default: 1 minute for a range
   * starting within the last 7 days, else 1 hour). Minute points are combined with the series'
   * aggregation; from 1 hour up, the hour points are used.
   */
  step?: number;
}

/** A series over a range: points `{ t, v }` at the start of each step, oldest first. */
export interface Series {
  name: string;
  help: string;
  aggregation: SeriesAggregation;
  step: number;
  from: number;
  to: number;
  points: { t: number; v: number }[];
}

/**
 * The metrics history: key series kept in the host's state store as 1-minute points for 7 days
 * and 1-hour points for 90 days, so charts, reports and alert rules read days of figures
 * without a Prometheus server and across restarts. Provided by `metrics()` when the host has a
 * store.
 *
 * @example
 * ```ts
 * const history = ctx.tryResolve(MetricsHistoryToken);
 * const depth = await history?.series('tasks_pending', { from: Date.now() - 3_600_000 });
 * for (const { t, v } of depth?.points ?? []) console.log(new Date(t).toISOString(), v);
 * ```
 */
export interface MetricsHistory {
  /** The series kept: names, meanings and how points combine into coarser steps. */
  list(): { name: string; help: string; aggregation: SeriesAggregation }[];
  /** One series over a range; throws `E_METRICS_QUERY` for an unknown name or a bad range. */
  series(name: string, query?: SeriesQuery): Promise<Series>;
  /** Records the current minute's point now (it is recorded every minute anyway). */
  record(): Promise<void>;
}

/**
 * The {@link MetricsHistory} service, provided by `metrics()` when the host has a store (list
 * `after: [MetricsRegistryToken]` to start after it, and `tryResolve` this token).
 */
export const MetricsHistoryToken = createToken<MetricsHistory>('agentd.metrics.history');

/** Points of one chunk: per series, one slot per minute of the hour or hour of the day. */
type Chunk = Record<string, (number | null)[]>;

const pad = (t: number) => String(t).padStart(13, '0');
const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;

/** Combines points by a series' aggregation (nulls skipped); undefined when none. */
export function aggregate(values: readonly (number | null | undefined)[], how: SeriesAggregation) {
  let n = 0;
  let sum = 0;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    n++;
    sum += v;
    if (v > max) max = v;
  }
  if (n === 0) return undefined;
  return how === 'sum' ? sum : how === 'max' ? max : sum / n;
}

/**
 * The history's storage on the `StateStore`: one key per host and hour holding every series'
 * 60 minute points (`<host>:m:<hour start>`, about 10 KB), one key per host and UTC day holding
 * 24 hour points (`<host>:h:<day start>`), each written with a time-to-live, so the store drops
 * old keys by itself: at most 169 minute keys and 91 hour keys per host. The hour being filled
 * is also kept in memory and written whole each minute (no read-modify-write); a restart reads
 * it back and goes on, and `<host>:open` names it so an hour left unfinished by a stop is still
 * rolled up into its hour point.
 */
export class StateHistory implements MetricsHistory {
  readonly #state: StateStore;
  readonly #prefix: string;
  readonly #series: readonly HistorySeriesDefinition[];
  readonly #byName: Map<string, HistorySeriesDefinition>;
  readonly #now: () => number;
  readonly #sample: () => Promise<Record<string, number | undefined>>;
  #hour: { start: number; chunk: Chunk } | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(deps: {
    state: StateStore;
    host: string;
    series: readonly HistorySeriesDefinition[];
    now: () => number;
    sample: () => Promise<Record<string, number | undefined>>;
  }) {
    this.#state = deps.state;
    this.#prefix = `${deps.host}:`;
    this.#series = deps.series;
    this.#byName = new Map(deps.series.map((s) => [s.name, s]));
    this.#now = deps.now;
    this.#sample = deps.sample;
  }

  list() {
    return this.#series.map(({ name, help, aggregation }) => ({ name, help, aggregation }));
  }

  /** Reads back the hour being filled before a restart, rolling up an older one. */
  async open(): Promise<void> {
    const open = await this.#state.get<number>(HISTORY_NAMESPACE, `${this.#prefix}open`);
    if (typeof open !== 'number') return;
    const chunk = await this.#readChunk('m', open);
    if (open === floorTo(this.#now(), HOUR_MS)) this.#hour = { start: open, chunk };
    else await this.#rollUp(open, chunk);
  }

  record(): Promise<void> {
    // One write at a time, in order: a slow store must not let two minutes race.
    const next = this.#writing.then(() => this.#record());
    this.#writing = next.catch(() => {});
    return next;
  }

  async #record(): Promise<void> {
    const now = this.#now();
    const values = await this.#sample();
    const start = floorTo(now, HOUR_MS);
    if (this.#hour && this.#hour.start !== start) {
      await this.#rollUp(this.#hour.start, this.#hour.chunk);
      this.#hour = undefined;
    }
    if (!this.#hour) {
      this.#hour = { start, chunk: await this.#readChunk('m', start) };
      await this.#state.set(HISTORY_NAMESPACE, `${this.#prefix}open`, start, {
        ttlMs: MINUTE_RETENTION_MS,
      });
    }
    const slot = Math.floor((now - start) / MINUTE_MS);
    for (const s of this.#series) {
      const v = values[s.name];
      if (v === undefined || !Number.isFinite(v)) continue;
      const points = this.#hour.chunk[s.name] ?? [];
      this.#hour.chunk[s.name] = points;
      while (points.length <= slot) points.push(null);
      // A minute recorded twice (a stop, a restart) adds its increases and keeps its last level.
      points[slot] = s.kind === 'increase' ? (points[slot] ?? 0) + v : v;
    }
    await this.#state.set(HISTORY_NAMESPACE, this.#key('m', start), this.#hour.chunk as JsonValue, {
      ttlMs: MINUTE_RETENTION_MS + HOUR_MS,
    });
  }

  /** Writes the hour's point of every series into its day's chunk. */
  async #rollUp(hourStart: number, chunk: Chunk): Promise<void> {
    const day = floorTo(hourStart, DAY_MS);
    const days = await this.#readChunk('h', day);
    const slot = Math.floor((hourStart - day) / HOUR_MS);
    for (const s of this.#series) {
      const v = aggregate(chunk[s.name] ?? [], s.aggregation);
      if (v === undefined) continue;
      const points = days[s.name] ?? [];
      days[s.name] = points;
      while (points.length <= slot) points.push(null);
      points[slot] = v;
    }
    await this.#state.set(HISTORY_NAMESPACE, this.#key('h', day), days as JsonValue, {
      ttlMs: HOUR_RETENTION_MS + DAY_MS,
    });
  }

  async series(name: string, query: SeriesQuery = {}): Promise<Series> {
    const def = this.#byName.get(name);
    if (!def) {
      throw new AgentdError(
        'E_METRICS_QUERY',
        `no series named ${JSON.stringify(name).slice(0, 80)}; kept: ${this.#series.map((s) => s.name).join(', ')}`,
      );
    }
    const now = this.#now();
    const to = query.to ?? now;
    const from = query.from ?? to - HOUR_MS;
    const fine = from >= now - MINUTE_RETENTION_MS;
    const step = query.step ?? (fine ? MINUTE_MS : HOUR_MS);
    checkRange(from, to, step);
    const unit = step >= HOUR_MS || !fine ? HOUR_MS : MINUTE_MS;
    const raw = await this.#points(def.name, unit, from, to);
    // Points of the stored unit, combined into steps of `step`, aligned to whole steps.
    const steps = new Map<number, number[]>();
    for (const { t, v } of raw) {
      const at = floorTo(t, step);
      const list = steps.get(at) ?? [];
      steps.set(at, list);
      list.push(v);
    }
    const points = [...steps.entries()]
      .sort(([a], [b]) => a - b)
      .map(([t, vs]) => ({ t, v: aggregate(vs, def.aggregation) as number }));
    return { name, help: def.help, aggregation: def.aggregation, step, from, to, points };
  }

  /** Stored points of `unit` (minute or hour) within [from, to]. */
  async #points(name: string, unit: number, from: number, to: number) {
    const chunkSpan = unit === MINUTE_MS ? HOUR_MS : DAY_MS;
    const kind = unit === MINUTE_MS ? 'm' : 'h';
    const out: { t: number; v: number }[] = [];
    const starts: number[] = [];
    for (let c = floorTo(from, chunkSpan); c <= to; c += chunkSpan) starts.push(c);
    const chunks = await Promise.all(
      starts.map((c) =>
        kind === 'm' && this.#hour?.start === c ? this.#hour.chunk : this.#readChunk(kind, c),
      ),
    );
    starts.forEach((c, i) => {
      (chunks[i]?.[name] ?? []).forEach((v, slot) => {
        const t = c + slot * unit;
        if (v !== null && t >= from && t <= to) out.push({ t, v });
      });
    });
    // The hour being filled has no hour point yet: its minutes so far stand in for it.
    if (kind === 'h' && this.#hour && this.#hour.start >= from && this.#hour.start <= to) {
      const def = this.#byName.get(name) as HistorySeriesDefinition;
      const v = aggregate(this.#hour.chunk[name] ?? [], def.aggregation);
      if (v !== undefined && !out.some((p) => p.t === this.#hour?.start)) {
        out.push({ t: this.#hour.start, v });
      }
    }
    return out;
  }

  #key(kind: 'm' | 'h', start: number): string {
    return `${this.#prefix}${kind}:${pad(start)}`;
  }

  async #readChunk(kind: 'm' | 'h', start: number): Promise<Chunk> {
    const value = await this.#state.get(HISTORY_NAMESPACE, this.#key(kind, start));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Chunk)
      : {};
  }
}

function checkRange(from: number, to: number, step: number): void {
  const bad = (why: string) => new AgentdError('E_METRICS_QUERY', why);
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw bad('from and to must be epoch ms');
  if (from > to) throw bad('from must not be after to');
  if (!Number.isInteger(step) || step < MINUTE_MS || step % MINUTE_MS !== 0) {
    throw bad('step must be a whole number of minutes, in ms (60000, 300000, 3600000...)');
  }
  if (to - from > HOUR_RETENTION_MS + DAY_MS) throw bad('the range may span at most 90 days');
  if ((to - from) / step > MAX_SERIES_POINTS) {
    throw bad(`the range holds more than ${MAX_SERIES_POINTS} steps: choose a larger step`);
  }
}
