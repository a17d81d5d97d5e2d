import { z } from 'zod';
import { HealthRegistryToken, type HealthResult } from '../contracts/health.js';
import { type RoleStatus, RolesToken } from '../contracts/roles.js';
import { StateStoreToken } from '../contracts/state.js';
import { HostInfoToken } from '../kernel/host-info.js';
import type { Plugin } from '../kernel/plugin.js';
import { DEFAULT_LEASE_MS, StoreRoles } from './store-roles.js';

/**
 * Schema of the `roles` config key and of `roles()`'s options (`false` turns roles off).
 *
 * @example
 * ```ts
 * rolesOptionsSchema.parse({ leaseSeconds: 10 });
 * ```
 */
export const rolesOptionsSchema = z
  .object({
    /**
     * The lease, 1 to 600 seconds (default 15): a dead holder's roles are taken over within
     * about this long; the holder renews every third of it.
     */
    leaseSeconds: z.number().min(1).max(600),
  })
  .partial()
  .strict();

/** The `roles` config key: options, or `false` for a host whose plugins do every role themselves. */
export type RolesConfig = z.input<typeof rolesOptionsSchema> | false;

/**
 * The `roles` config key, to spread into the host config schema.
 *
 * @example
 * ```ts
 * const hostConfigSchema = z.object({ ...rolesConfigShape }).strict();
 * ```
 */
export const rolesConfigShape = {
  roles: z.union([z.literal(false), rolesOptionsSchema]).optional(),
};

/**
 * Name of the built-in roles plugin (reserved).
 *
 * @example
 * ```ts
 * host.plugins.includes(ROLES_PLUGIN_NAME);
 * ```
 */
export const ROLES_PLUGIN_NAME = 'roles';

/**
 * The built-in plugin providing {@link RolesToken}: roles held by one host at a time across
 * every host sharing the store (see docs/roles.md). The built-in preset adds it whenever a
 * plugin provides a StateStore; add it yourself only to set options outside the config's
 * `roles` key. Its `roles` health check lists who holds each role this host campaigns for, and
 * at stop it releases the roles still held, so another host takes over at once.
 *
 * @example
 * ```ts
 * import { defineConfig } from '@agentd/core';
 * import { roles } from '@agentd/core/roles';
 * import { sqlite } from '@agentd/store-sqlite';
 *
 * export default defineConfig({ plugins: [sqlite(), roles({ leaseSeconds: 10 })] });
 * ```
 */
export function roles(
  options: z.input<typeof rolesOptionsSchema> = {},
): Plugin<z.output<typeof rolesOptionsSchema>> {
  let service: StoreRoles | undefined;
  return {
    name: ROLES_PLUGIN_NAME,
    dependsOn: [StateStoreToken],
    provides: [RolesToken],
    optionsSchema: rolesOptionsSchema,
    options,
    register(ctx) {
      const leaseSeconds = ctx.options?.leaseSeconds ?? options.leaseSeconds;
      const roles = new StoreRoles({
        state: ctx.resolve(StateStoreToken),
        clock: ctx.clock,
        events: ctx.events,
        logger: ctx.logger,
        holderId: ctx.resolve(HostInfoToken).instanceId,
        leaseMs: leaseSeconds === undefined ? DEFAULT_LEASE_MS : leaseSeconds * 1000,
      });
      service = roles;
      ctx.provide(RolesToken, roles);
      ctx.resolve(HealthRegistryToken).add({
        name: 'roles',
        check: () => rolesHealth(roles.status(), roles.holderId),
      });
    },
    start() {
      service?.begin();
    },
    stop: () => service?.end(),
  };
}

/** Who holds each role this host campaigns for: always `pass` (standing by is healthy). */
function rolesHealth(statuses: RoleStatus[], me: string): HealthResult {
  if (statuses.length === 0) return { status: 'pass', output: 'no roles' };
  const parts = statuses.map((s) => {
    if (s.held) return `${s.role}: held here (epoch ${s.epoch})`;
    if (s.holder === null || s.holder === me) return `${s.role}: nobody (taking it)`;
    return `${s.role}: standing by, held by ${s.holder}`;
  });
  return { status: 'pass', output: parts.join('; ') };
}
