/**
 * @module @agentd/core/roles
 * Roles held by one host at a time across every host sharing a store (Telegram long polling,
 * the monitor's alerts, a daily report): the contract and its token, the built-in `roles()`
 * plugin, and the store-neutral implementation over `StateStore.compareAndSet`. See docs/roles.md.
 */

export type {
  RoleAcquiredReason,
  RoleCampaign,
  RoleHolder,
  RoleLease,
  RoleLostReason,
  RoleStatus,
  Roles,
} from '../contracts/roles.js';
export { RolesToken } from '../contracts/roles.js';
export type { RolesConfig } from '../roles/plugin.js';
export {
  ROLES_PLUGIN_NAME,
  roles,
  rolesConfigShape,
  rolesOptionsSchema,
} from '../roles/plugin.js';
export type { RoleRecord } from '../roles/role-record.js';
export { parseRoleRecord, ROLES_NAMESPACE } from '../roles/role-record.js';
export type { StoreRolesDeps } from '../roles/store-roles.js';
export { DEFAULT_LEASE_MS, StoreRoles } from '../roles/store-roles.js';
