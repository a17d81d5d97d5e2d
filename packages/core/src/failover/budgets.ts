import type { AgentUsage } from '../contracts/agent.js';
import type { StateStore } from '../contracts/state.js';
import { FAILOVER_NAMESPACE } from './circuits.js';
import type { BudgetsConfig } from './schema.js';

/** Why new work was refused. */
export interface BudgetRefusal {
  /** `rate:minute`, `rate:hour`, `cost:day` or `cost:month`. */
  limit: string;
  /** A message for the user: what limit, and until when. */
  message: string;
}

/** Spend so far, in US dollars. */
export interface SpendReport {
  day: string;
  dayUsd: number;
  month: string;
  monthUsd: number;
  dailyCapUsd: number | undefined;
  monthlyCapUsd: number | undefined;
}

/**
 * Default per-user rate limits, from the reliability analysis (30 per minute, 500 per hour).
 *
 * @example
 * ```ts
 * const { perMinute } = DEFAULT_RATE_LIMITS; // 30
 * ```
 */
export const DEFAULT_RATE_LIMITS = { perMinute: 30, perHour: 500 } as const;

const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
const monthOf = (t: number) => new Date(t).toISOString().slice(0, 7);
const usd = (n: number) => `$${n.toFixed(2)}`;

/**
 * Per-user rate limits and cost caps. Rate limits count messages per user in sliding windows (in
 * memory: a restart forgives). Costs add up reported usage (`costUsd`, or tokens times `prices`)
 * per UTC day and month in the StateStore, so they survive restarts and are shared by hosts on
 * one store. Over a limit, new work is refused with a message saying which limit and until when.
 *
 * @example
 * ```ts
 * const budgets = new BudgetGuard({ cost: { dailyUsd: 5 } }, { state, now: () => clock.now() });
 * await budgets.load();
 * const refusal = budgets.admit('telegram:42') ?? budgets.checkCost();
 * if (refusal) return { outcome: 'refused', reply: refusal.message };
 * ```
 */
export class BudgetGuard {
  readonly #windows = new Map<string, number[]>();
  readonly #spend = new Map<string, number>();
  readonly #perMinute: number | undefined;
  readonly #perHour: number | undefined;
  readonly #exempt: Set<string>;

  constructor(
    private readonly config: BudgetsConfig = {},
    private readonly deps: { state?: StateStore; now?: () => number } = {},
  ) {
    const rates = config.rateLimits;
    this.#perMinute =
      rates === false ? undefined : (rates?.perMinute ?? DEFAULT_RATE_LIMITS.perMinute);
    this.#perHour = rates === false ? undefined : (rates?.perHour ?? DEFAULT_RATE_LIMITS.perHour);
    this.#exempt = new Set(config.exempt ?? []);
  }

  #now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Loads today's and this month's spend from the store. */
  async load(): Promise<void> {
    const now = this.#now();
    for (const key of [`cost:day:${dayOf(now)}`, `cost:month:${monthOf(now)}`]) {
      await this.#read(key);
    }
  }

  /**
   * Counts one message of `userKey` against the rate limits, or refuses it (not counted then).
   */
  admit(userKey: string): BudgetRefusal | undefined {
    if (this.#exempt.has(userKey) || (this.#perMinute === undefined && this.#perHour === undefined))
      return undefined;
    const now = this.#now();
    const times = (this.#windows.get(userKey) ?? []).filter((t) => now - t < 3_600_000);
    const lastMinute = times.filter((t) => now - t < 60_000);
    if (this.#perMinute !== undefined && lastMinute.length >= this.#perMinute) {
      const wait = Math.ceil((lastMinute[0]! + 60_000 - now) / 1000);
      this.#windows.set(userKey, times);
      return {
        limit: 'rate:minute',
        message: `Rate limit reached: at most ${this.#perMinute} messages per minute. Try again in ${wait} s.`,
      };
    }
    if (this.#perHour !== undefined && times.length >= this.#perHour) {
      const wait = Math.ceil((times[0]! + 3_600_000 - now) / 60_000);
      this.#windows.set(userKey, times);
      return {
        limit: 'rate:hour',
        message: `Rate limit reached: at most ${this.#perHour} messages per hour. Try again in ${wait} min.`,
      };
    }
    times.push(now);
    this.#windows.set(userKey, times);
    return undefined;
  }

  /** Refuses new work while today's or this month's spend is at its cap. */
  checkCost(): BudgetRefusal | undefined {
    const { dailyUsd, monthlyUsd } = this.config.cost ?? {};
    // Checked before every run: without caps there is nothing to compute.
    if (dailyUsd === undefined && monthlyUsd === undefined) return undefined;
    const now = this.#now();
    const spent = this.report(now);
    if (dailyUsd !== undefined && spent.dayUsd >= dailyUsd) {
      return {
        limit: 'cost:day',
        message: `The daily cost cap of ${usd(dailyUsd)} is reached (${usd(spent.dayUsd)} spent today); new work is refused until 00:00 UTC.`,
      };
    }
    if (monthlyUsd !== undefined && spent.monthUsd >= monthlyUsd) {
      return {
        limit: 'cost:month',
        message: `The monthly cost cap of ${usd(monthlyUsd)} is reached (${usd(spent.monthUsd)} spent this month); new work is refused until the 1st (UTC).`,
      };
    }
    return undefined;
  }

  /** The cost of `usage`: its `costUsd`, else its tokens at the configured model prices. */
  costOf(usage: AgentUsage | undefined): number {
    if (!usage) return 0;
    if (typeof usage.costUsd === 'number') return usage.costUsd;
    const price = usage.model ? this.config.prices?.[usage.model] : undefined;
    if (!price) return 0;
    return (
      ((usage.inputTokens ?? 0) * price.inputPerMTokUsd +
        (usage.outputTokens ?? 0) * price.outputPerMTokUsd) /
      1_000_000
    );
  }

  /**
   * Adds a run's cost to today's and this month's spend. Returns the crossings of the warning
   * fraction or the caps caused by this run, for alerts.
   */
  async record(usage: AgentUsage | undefined): Promise<string[]> {
    const cost = this.costOf(usage);
    if (cost <= 0) return [];
    const now = this.#now();
    const crossed: string[] = [];
    const { dailyUsd, monthlyUsd, warnAtFraction = 0.8 } = this.config.cost ?? {};
    for (const [key, cap, label] of [
      [`cost:day:${dayOf(now)}`, dailyUsd, 'daily'],
      [`cost:month:${monthOf(now)}`, monthlyUsd, 'monthly'],
    ] as const) {
      const before = await this.#read(key);
      const after = before + cost;
      this.#spend.set(key, after);
      await this.deps.state?.set(FAILOVER_NAMESPACE, key, after, { ttlMs: 62 * 86_400_000 });
      if (cap === undefined) continue;
      if (before < cap && after >= cap) crossed.push(`${label} cost cap of ${usd(cap)} reached`);
      else if (before < cap * warnAtFraction && after >= cap * warnAtFraction)
        crossed.push(
          `${label} cost at ${Math.round(warnAtFraction * 100)}% of its ${usd(cap)} cap`,
        );
    }
    return crossed;
  }

  /** Spend of the day and month containing `at`, from memory (call `load` first). */
  report(at = this.#now()): SpendReport {
    const day = dayOf(at);
    const month = monthOf(at);
    return {
      day,
      dayUsd: this.#spend.get(`cost:day:${day}`) ?? 0,
      month,
      monthUsd: this.#spend.get(`cost:month:${month}`) ?? 0,
      dailyCapUsd: this.config.cost?.dailyUsd,
      monthlyCapUsd: this.config.cost?.monthlyUsd,
    };
  }

  async #read(key: string): Promise<number> {
    const cached = this.#spend.get(key);
    if (cached !== undefined) return cached;
    const stored = await this.deps.state?.get<number>(FAILOVER_NAMESPACE, key);
    const value = typeof stored === 'number' ? stored : 0;
    this.#spend.set(key, value);
    return value;
  }
}
