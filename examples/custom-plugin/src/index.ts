/**
 * @module agentd-example-custom-plugin
 * A complete custom plugin: options validated by a schema, a service other plugins can depend
 * on, an agent, a health check, a timer started in `start` and cleared in `stop`.
 */
import { AgentRegistryToken, createToken, HealthRegistryToken, type Plugin } from '@agentd/core';
import { z } from 'zod';

/** What the plugin offers to other plugins. */
export interface Greeter {
  greet(name: string): string;
}

/** Other plugins list this in `dependsOn` and `ctx.resolve` it. */
export const GreeterToken = createToken<Greeter>('example.greeter');

const optionsSchema = z.object({
  /** How to greet. */
  greeting: z.string().min(1).default('Hello'),
  /** Log a heartbeat this often (ms); 0 turns it off. */
  heartbeatMs: z.number().int().min(0).default(60_000),
});

/** Options of {@link greeter}, as users write them. */
export type GreeterOptions = z.input<typeof optionsSchema>;

/**
 * A greeter plugin: provides the {@link GreeterToken} service and an agent named `greeter`.
 *
 * @example
 * ```ts
 * // agentd.config.ts
 * import { defineConfig } from '@agentd/core';
 * import { greeter } from 'agentd-example-custom-plugin';
 * export default defineConfig({ plugins: [greeter({ greeting: 'Moin' })] });
 * ```
 */
export function greeter(options: GreeterOptions = {}): Plugin<z.output<typeof optionsSchema>> {
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'greeter',
    provides: [GreeterToken],
    optionsSchema,
    options,
    register(ctx) {
      const service: Greeter = { greet: (name) => `${ctx.options.greeting}, ${name}!` };
      ctx.provide(GreeterToken, service);
      ctx.resolve(AgentRegistryToken).add({
        name: 'greeter',
        run: async (input, run) => {
          const text = service.greet(String(input));
          run.logger.info(text);
          return { output: text };
        },
      });
      ctx.resolve(HealthRegistryToken).add({ name: 'greeter', check: () => ({ status: 'pass' }) });
    },
    start(ctx) {
      ctx.logger.info(ctx.resolve(GreeterToken).greet('world'));
      if (ctx.options.heartbeatMs > 0) {
        timer = setInterval(() => ctx.logger.info('greeter is alive'), ctx.options.heartbeatMs);
        timer.unref();
      }
    },
    stop() {
      clearInterval(timer);
    },
  };
}

export default greeter;
