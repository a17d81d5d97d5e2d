import type { Agent, AgentResult, AgentRunContext } from '../contracts/agent.js';
import type { JsonValue } from '../contracts/json.js';

/** What a function agent's function may return: a full result, or just the output. */
export type FunctionAgentReturn = AgentResult | JsonValue | undefined;

/**
 * Makes an agent from a function. Return the output (any JSON value) or `{ output, usage }`.
 * Honour `ctx.signal`: it aborts on cancel, timeout and shutdown.
 *
 * @example
 * ```ts
 * import { agent, defineConfig } from '@agentd/core';
 *
 * export default defineConfig({
 *   agents: [agent('shout', async (input) => String(input).toUpperCase())],
 *   plugins: [sqlite()],
 * });
 * ```
 */
export function agent(
  name: string,
  run: (
    input: JsonValue,
    ctx: AgentRunContext,
  ) => Promise<FunctionAgentReturn> | FunctionAgentReturn,
): Agent {
  return {
    name,
    async run(input, ctx) {
      const value = await run(input, ctx);
      if (
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        'output' in value
      ) {
        return value as AgentResult;
      }
      return { output: (value ?? null) as JsonValue };
    },
  };
}
