import type { EventBus } from '@agentd/core';
import {
  type AttemptRecord,
  type BudgetGuard,
  type ClassifiedError,
  DefaultFailoverPolicy,
  type FailoverPolicy,
} from '@agentd/core/failover';
import { type ApiRoute, answer, type DashboardDeps } from './routes.js';

/** One failed agent attempt, as the Agents page lists it. */
export interface AgentFailure {
  taskId: string;
  agent: string;
  class: ClassifiedError['class'];
  action: ClassifiedError['action'];
  message: string;
  at: number;
  durationMs: number;
}

/** How many failed attempts the page keeps (the newest). */
export const RECENT_FAILURES = 100;

/**
 * The newest failed agent attempts (`agent.attempt` events whose outcome is an error), kept in
 * memory in a bounded ring since the dashboard started: what failed, its class and action.
 *
 * @example
 * ```ts
 * const failures = new FailureRing(host.events);
 * failures.list('claude'); // newest first
 * ```
 */
export class FailureRing {
  readonly #items: AgentFailure[] = [];
  readonly #off: () => void;

  constructor(events: EventBus, mask: (text: string) => string) {
    this.#off = events.on('agent.attempt', ({ taskId, attempt }) => {
      const failure = failureOf(taskId, attempt, mask);
      if (!failure) return;
      this.#items.push(failure);
      if (this.#items.length > RECENT_FAILURES) this.#items.shift();
    });
  }

  /** Newest first; one agent's only when `agent` is given. */
  list(agent?: string): AgentFailure[] {
    const all = this.#items.toReversed();
    return agent === undefined ? all : all.filter((f) => f.agent === agent);
  }

  close(): void {
    this.#off();
  }
}

function failureOf(
  taskId: string,
  attempt: AttemptRecord,
  mask: (text: string) => string,
): AgentFailure | undefined {
  if (attempt.outcome === 'success') return undefined;
  return {
    taskId,
    agent: attempt.agent,
    class: attempt.outcome.class,
    action: attempt.outcome.action,
    message: mask(attempt.outcome.message).slice(0, 500),
    at: attempt.finishedAt,
    durationMs: attempt.finishedAt - attempt.startedAt,
  };
}

/** What the Agents page reads besides the dashboard's own deps (each may be absent). */
export interface AgentsDeps {
  policy: () => FailoverPolicy | undefined;
  budgets: () => BudgetGuard | undefined;
  failures: FailureRing;
}

/**
 * `GET /agents`: every agent with its failover chain, circuit state (and when an open one is
 * tried again), its recent failed attempts; the spend against the budget caps.
 */
export function mountAgentRoutes(route: ApiRoute, deps: DashboardDeps, agents: AgentsDeps): void {
  route('GET', '/agents', () => {
    const policy = agents.policy();
    const circuits = policy instanceof DefaultFailoverPolicy ? policy.circuits : undefined;
    const states = circuits?.snapshot() ?? {};
    const list = (deps.agents?.list() ?? []).map((agent) => {
      const failures = agents.failures.list(agent.name);
      return {
        name: agent.name,
        default: agent.name === deps.agents?.defaultAgent,
        chain: policy ? [...policy.chainFor(agent.name)] : [agent.name],
        circuit:
          states[agent.name] ?? (policy && !policy.isAvailable(agent.name) ? 'open' : 'closed'),
        reopensAt: circuits?.reopensAt(agent.name) ?? null,
        failures: failures.slice(0, 20),
        failureClasses: countBy(failures.map((f) => f.class)),
      };
    });
    return answer(deps, {
      failover: policy !== undefined,
      agents: list,
      budgets: agents.budgets()?.report() ?? null,
      failures: agents.failures.list().slice(0, 50),
    });
  });
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
