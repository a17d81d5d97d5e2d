import { AgentExecutorToken, AgentRegistryToken } from '../contracts/agent.js';
import { InboundRouterToken } from '../contracts/channel.js';
import type { CircuitStateName } from '../contracts/events.js';
import { FailoverPolicyToken } from '../contracts/failover.js';
import { HealthRegistryToken } from '../contracts/health.js';
import { NotifierToken, raiseAlert } from '../contracts/notifier.js';
import { type StateStore, StateStoreToken } from '../contracts/state.js';
import { userKeyOf } from '../kernel/inbound-router.js';
import type { Plugin } from '../kernel/plugin.js';
import { createToken } from '../kernel/token.js';
import { SecretMaskerToken } from '../logging/secret-masker.js';
import { BudgetGuard } from './budgets.js';
import { CircuitBoard, DEFAULT_CIRCUIT } from './circuits.js';
import { FailoverExecutor, type SessionRunner } from './executor.js';
import { DefaultFailoverPolicy } from './policy.js';
import type { BudgetsConfig, FailoverConfig } from './schema.js';

/**
 * The host's budget guard (rate limits, cost caps), provided by the failover plugin.
 *
 * @example
 * ```ts
 * const spend = ctx.resolve(BudgetGuardToken).report();
 * ```
 */
export const BudgetGuardToken = createToken<BudgetGuard>('agentd.budgets');

/**
 * The session manager as the executor sees it; provided by the sessions plugin.
 *
 * @example
 * ```ts
 * const sessions = ctx.tryResolve(SessionRunnerToken);
 * ```
 */
export const SessionRunnerToken = createToken<SessionRunner>('agentd.sessions.runner');

/**
 * Name of the built-in failover plugin (reserved).
 *
 * @example
 * ```ts
 * host.plugins.includes(FAILOVER_PLUGIN_NAME);
 * ```
 */
export const FAILOVER_PLUGIN_NAME = 'failover';

/** Options of {@link failover}: the `failover` and `budgets` config keys. */
export interface FailoverPluginOptions {
  failover?: FailoverConfig;
  budgets?: BudgetsConfig;
}

/**
 * The built-in plugin for reliable agent runs: provides the {@link FailoverPolicyToken}, the
 * {@link AgentExecutorToken} the runner routes every run through, and the {@link BudgetGuardToken}.
 * It restores circuit states from the StateStore at start, refuses inbound messages over a
 * user's rate limit or a cost cap (with a reply saying why, an alert, and a `budget.exceeded`
 * event), and reports open circuits in `/health`.
 *
 * @example
 * ```ts
 * createHost({
 *   agents: [research, reasoning, executor],
 *   plugins: [
 *     sqlite(),
 *     failover({
 *       failover: { chains: ['research -> reasoning -> executor'], retries: 2 },
 *       budgets: { rateLimits: { perMinute: 30, perHour: 500 }, cost: { dailyUsd: 5, monthlyUsd: 100 } },
 *     }),
 *   ],
 * });
 * ```
 */
export function failover(options: FailoverPluginOptions = {}): Plugin {
  let policy: DefaultFailoverPolicy | undefined;
  let budgets: BudgetGuard | undefined;
  let executor: FailoverExecutor | undefined;
  let offHook: (() => void) | undefined;
  return {
    name: FAILOVER_PLUGIN_NAME,
    dependsOn: [StateStoreToken],
    // Optional partners taken in start: the session manager (recovered by then) and the notifier.
    after: [SessionRunnerToken, NotifierToken],
    provides: [FailoverPolicyToken, AgentExecutorToken, BudgetGuardToken],
    register(ctx) {
      const state = ctx.resolve(StateStoreToken);
      const config = options.failover ?? {};
      const perAgent: Record<string, { threshold?: number; halfOpenAfterMs?: number }> = {};
      for (const [name, a] of Object.entries(config.agents ?? {})) {
        if (a.circuit) perAgent[name] = a.circuit;
      }
      let p: DefaultFailoverPolicy | undefined;
      const circuits = new CircuitBoard({ ...DEFAULT_CIRCUIT, ...config.circuit }, perAgent, {
        state,
        logger: ctx.logger,
        counts: (e) => p?.countsAgainstCircuit(e) ?? true,
        onChange: (agent, s) => {
          ctx.events.emit('circuit.changed', { agent, state: s });
          const log = s === 'open' ? ctx.logger.warn : ctx.logger.info;
          log.call(ctx.logger, { agent, circuit: s }, `circuit of agent "${agent}" is ${s}`);
        },
      });
      p = new DefaultFailoverPolicy(config, { circuits, now: () => ctx.clock.now() });
      policy = p;
      budgets = new BudgetGuard(options.budgets ?? {}, { state, now: () => ctx.clock.now() });
      executor = new FailoverExecutor({
        agents: ctx.resolve(AgentRegistryToken),
        policy: p,
        events: ctx.events,
        budgets,
        state,
        masker: ctx.tryResolve(SecretMaskerToken),
      });
      ctx.provide(FailoverPolicyToken, p);
      ctx.provide(AgentExecutorToken, executor);
      ctx.provide(BudgetGuardToken, budgets);

      const guard = budgets;
      // Admission phase: after commands (a user over budget can still list sessions), before
      // routing (no session is made for refused work).
      offHook = ctx.resolve(InboundRouterToken).use(
        (inbound, next) => {
          const userKey = userKeyOf(inbound.message);
          const refusal = guard.admit(userKey) ?? guard.checkCost();
          if (!refusal) return next();
          ctx.events.emit('budget.exceeded', {
            userKey,
            limit: refusal.limit,
            message: refusal.message,
          });
          const alert = {
            severity: refusal.limit.startsWith('cost') ? ('error' as const) : ('warning' as const),
            source: FAILOVER_PLUGIN_NAME,
            title: refusal.limit.startsWith('cost')
              ? 'Cost cap reached: work refused'
              : `Rate limit hit by ${userKey}`,
            message: refusal.message,
            dedupeKey: `budget:${refusal.limit}:${refusal.limit.startsWith('cost') ? '' : userKey}`,
          };
          void raiseAlert(ctx.tryResolve(NotifierToken), ctx.events, alert);
          return { outcome: 'refused', reply: refusal.message };
        },
        { phase: 'admission' },
      );

      ctx.resolve(HealthRegistryToken).add({
        name: 'failover:circuits',
        check: () => {
          const states = circuits.snapshot();
          const open = Object.entries(states).filter(([, s]) => s === 'open');
          return open.length === 0
            ? {
                status: 'pass',
                observedValue: Object.keys(states).length,
                observedUnit: 'circuits',
              }
            : {
                status: 'warn',
                output: `circuit open for ${open.map(([a]) => a).join(', ')}`,
                observedValue: open.length,
                observedUnit: 'open circuits',
              };
        },
      });
    },
    async start(ctx) {
      await policy?.circuits.load();
      await budgets?.load();
      executor?.attach({
        sessions: ctx.tryResolve(SessionRunnerToken),
        notifier: ctx.tryResolve(NotifierToken),
      });
    },
    async stop() {
      offHook?.();
      await policy?.circuits.flush();
    },
  };
}

/**
 * Circuit states as saved in the StateStore (for `agentd status` without a running host).
 *
 * @example
 * ```ts
 * await withStore(checked, async (store) => console.log(await savedCircuits(store.state)));
 * ```
 */
export async function savedCircuits(
  state: StateStore,
  options: { halfOpenAfterMs?: number } = {},
): Promise<Record<string, CircuitStateName>> {
  const board = new CircuitBoard(
    {
      ...DEFAULT_CIRCUIT,
      ...(options.halfOpenAfterMs !== undefined && { halfOpenAfterMs: options.halfOpenAfterMs }),
    },
    {},
    { state },
  );
  await board.load();
  const out = board.snapshot();
  return out;
}
