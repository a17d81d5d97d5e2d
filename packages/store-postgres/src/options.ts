import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { PostgresConnectionOptions } from './store.js';

type Issue = StandardSchemaV1.Issue;

/**
 * Options of the {@link postgres} plugin: where the database is, the schema, the pool and TLS.
 * `url` and `password` are secrets: the host masks them wherever it writes text out.
 *
 * @example
 * ```ts
 * const options: PostgresPluginOptions = {
 *   url: '${DATABASE_URL}',
 *   schema: 'agentd',
 *   pool: { max: 10, connectionTimeoutMillis: 5000 },
 *   ssl: { rejectUnauthorized: true },
 * };
 * ```
 */
export interface PostgresPluginOptions extends PostgresConnectionOptions {
  /** How long the `store` health check waits for `select 1` (default 800 ms). */
  healthTimeoutMs?: number;
  /**
   * Wake runners at once with LISTEN/NOTIFY when another host enqueues (default `true`). Set
   * `false` behind PgBouncer in transaction mode, where LISTEN does not work: runners then find
   * work at their next poll (`runner.pollMs`).
   */
  listen?: boolean;
}

const KNOWN = [
  'url',
  'host',
  'port',
  'database',
  'user',
  'password',
  'schema',
  'pool',
  'ssl',
  'applicationName',
  'healthTimeoutMs',
  'listen',
  'preparedStatements',
] as const;

const positiveInt = (v: unknown, min: number) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min;

function parsePool(v: unknown, issues: Issue[]): PostgresPluginOptions['pool'] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    issues.push({
      message: 'must be { max, idleTimeoutMillis, connectionTimeoutMillis }',
      path: ['pool'],
    });
    return undefined;
  }
  const out: NonNullable<PostgresPluginOptions['pool']> = {};
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (k === 'max' && positiveInt(value, 1)) out.max = value as number;
    else if (k === 'idleTimeoutMillis' && positiveInt(value, 0))
      out.idleTimeoutMillis = value as number;
    else if (k === 'connectionTimeoutMillis' && positiveInt(value, 0))
      out.connectionTimeoutMillis = value as number;
    else {
      const expected: Record<string, string> = {
        max: 'must be an integer of at least 1',
        idleTimeoutMillis: 'must be an integer of at least 0',
        connectionTimeoutMillis: 'must be an integer of at least 0 (0 waits forever)',
      };
      issues.push({
        message:
          expected[k] ?? 'unknown option (known: max, idleTimeoutMillis, connectionTimeoutMillis)',
        path: ['pool', k],
      });
    }
  }
  return out;
}

function parseSsl(v: unknown, issues: Issue[]): PostgresPluginOptions['ssl'] {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    issues.push({ message: 'must be true, false or { rejectUnauthorized, ca }', path: ['ssl'] });
    return undefined;
  }
  const out: { rejectUnauthorized?: boolean; ca?: string } = {};
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (k === 'rejectUnauthorized' && typeof value === 'boolean') out.rejectUnauthorized = value;
    else if (k === 'ca' && typeof value === 'string' && value !== '') out.ca = value;
    else {
      const expected: Record<string, string> = {
        rejectUnauthorized: 'must be true or false',
        ca: 'must be a non-empty string (the PEM text of the CA certificate)',
      };
      issues.push({
        message: expected[k] ?? 'unknown option (known: rejectUnauthorized, ca)',
        path: ['ssl', k],
      });
    }
  }
  return out;
}

/**
 * Checks the plugin's options when the config is validated (the Standard Schema interface, so
 * the package needs no validation library). Unknown keys are reported: a misspelt `shema`
 * would otherwise silently put the tables somewhere else. Messages never repeat a value, so a
 * misplaced password is not echoed.
 *
 * @example
 * ```ts
 * await postgresOptionsSchema['~standard'].validate({ pool: { max: 0 } });
 * // { issues: [{ message: 'must be an integer of at least 1', path: ['pool', 'max'] }] }
 * ```
 */
export const postgresOptionsSchema: StandardSchemaV1<unknown, PostgresPluginOptions> = {
  '~standard': {
    version: 1,
    vendor: 'agentd',
    validate(value: unknown): StandardSchemaV1.Result<PostgresPluginOptions> {
      if (value === undefined || value === null) return { value: {} };
      if (typeof value !== 'object' || Array.isArray(value)) {
        return { issues: [{ message: 'options must be an object' }] };
      }
      const input = value as Record<string, unknown>;
      const issues: Issue[] = [];
      const out: PostgresPluginOptions = {};
      const text = (key: 'url' | 'host' | 'database' | 'user' | 'password' | 'applicationName') => {
        const v = input[key];
        if (typeof v === 'string' && v !== '') out[key] = v;
        else issues.push({ message: 'must be a non-empty string', path: [key] });
      };
      for (const key of Object.keys(input)) {
        const v = input[key];
        if (v === undefined) continue;
        switch (key) {
          case 'url':
            if (typeof v === 'string' && /^postgres(ql)?:\/\//.test(v)) out.url = v;
            else {
              issues.push({
                message: 'must be a postgres:// or postgresql:// URL',
                path: [key],
              });
            }
            break;
          case 'host':
          case 'database':
          case 'user':
          case 'password':
          case 'applicationName':
            text(key);
            break;
          case 'port':
            if (positiveInt(v, 1) && (v as number) <= 65535) out.port = v as number;
            else issues.push({ message: 'must be an integer from 1 to 65535', path: [key] });
            break;
          case 'schema':
            if (typeof v === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(v)) out.schema = v;
            else {
              issues.push({
                message: 'must be letters, digits and _ (at most 63, not starting with a digit)',
                path: [key],
              });
            }
            break;
          case 'healthTimeoutMs':
            if (positiveInt(v, 1)) out.healthTimeoutMs = v as number;
            else issues.push({ message: 'must be an integer of at least 1', path: [key] });
            break;
          case 'listen':
          case 'preparedStatements':
            if (typeof v === 'boolean') out[key] = v;
            else issues.push({ message: 'must be true or false', path: [key] });
            break;
          case 'pool': {
            const pool = parsePool(v, issues);
            if (pool !== undefined) out.pool = pool;
            break;
          }
          case 'ssl': {
            const ssl = parseSsl(v, issues);
            if (ssl !== undefined) out.ssl = ssl;
            break;
          }
          default:
            issues.push({ message: `unknown option (known: ${KNOWN.join(', ')})`, path: [key] });
        }
      }
      return issues.length > 0 ? { issues } : { value: out };
    },
  },
};
