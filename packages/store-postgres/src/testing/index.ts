/**
 * @module @agentd/store-postgres/testing
 * What tests of a PostgreSQL-backed host use: a private PostgreSQL server a test may crash and
 * restart ({@link startPrivateCluster}), a loopback TCP proxy that cuts the network
 * ({@link startTcpProxy}), and the shared test database's helpers.
 *
 * @example
 * ```ts
 * import { probePrivateCluster, startPrivateCluster } from '@agentd/store-postgres/testing';
 *
 * if (probePrivateCluster().available) {
 *   const cluster = await startPrivateCluster();
 *   await cluster.restart();
 *   await cluster.destroy();
 * }
 * ```
 */

export { createTestSchema, probePostgres, TEST_POSTGRES_URL } from '../test-database.js';
export {
  freePort,
  type PrivateCluster,
  type PrivateClusterOptions,
  probePrivateCluster,
  startPrivateCluster,
} from './private-cluster.js';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
