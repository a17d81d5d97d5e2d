import type { HealthReport } from '../../contracts/health.js';
import type { StateStore } from '../../contracts/state.js';
import { parseRoleRecord, ROLES_NAMESPACE } from '../../roles/role-record.js';

/**
 * The `roles:` line of `agentd status` from a running host: its `roles` health check, which
 * names who holds each role the host campaigns for. Undefined when the host has no roles.
 *
 * @example
 * ```ts
 * rolesLineFromHealth(report); // 'roles: telegram:polling: held here (epoch 3)'
 * ```
 */
export function rolesLineFromHealth(health: HealthReport): string | undefined {
  const output = health.checks.roles?.output;
  return output && output !== 'no roles' ? `roles: ${output}` : undefined;
}

/**
 * The `roles:` line of `agentd status` read from the store: who holds each role now, and how
 * long ago the holder last renewed (by this machine's clock: a hint, see docs/roles.md). A
 * killed host's roles show here until another host takes them. Undefined when no role is held.
 *
 * @example
 * ```ts
 * await rolesLineFromStore(store.state, Date.now()); // 'roles: telegram:polling held by agentd:4242:…, renewed 3s ago (epoch 2)'
 * ```
 */
export async function rolesLineFromStore(
  state: StateStore,
  now: number,
): Promise<string | undefined> {
  const held = (await state.list(ROLES_NAMESPACE)).flatMap(({ key, value }) => {
    const record = parseRoleRecord(value);
    if (!record?.holder) return [];
    const ago = Math.max(0, Math.round((now - record.renewedAt) / 1000));
    return [`${key} held by ${record.holder}, renewed ${ago}s ago (epoch ${record.epoch})`];
  });
  return held.length > 0 ? `roles: ${held.join('; ')}` : undefined;
}
