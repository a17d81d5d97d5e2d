import type { Migration } from './handle.js';

/**
 * The task part's schema: tasks, the reply outbox, dead letters and the task id prefix. The
 * store's migration runner applies these first, then the other parts' (`{{schema}}` is the
 * store's schema).
 *
 * Times are `BIGINT` epoch milliseconds, as the contract speaks them. JSON values (input,
 * result, error, reply address, metadata, lease process) are `TEXT` holding core's JSON text
 * as `toJsonText` made it, not `jsonb`: `jsonb` reorders keys, drops duplicate ones, rewrites
 * numbers (`1.0` becomes `1`) and refuses `\u0000`, so a task would not read back exactly as it
 * was enqueued, and nothing queries inside these values.
 *
 * @example
 * ```ts
 * for (const m of TASK_MIGRATIONS) await client.query(m.sql.replaceAll('{{schema}}', 'agentd'));
 * ```
 */
export const TASK_MIGRATIONS: readonly Migration[] = [
  {
    name: '0001_tasks',
    sql: `
CREATE TABLE "{{schema}}".task_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
-- Task ids are this prefix followed by the row's seq in base 36: five random letters chosen once,
-- so ids of two databases (or schemas) never look alike.
INSERT INTO "{{schema}}".task_meta (key, value)
VALUES ('task_id_prefix', translate(substr(md5(random()::text || clock_timestamp()::text), 1, 5), '0123456789', 'ghijklmnop'));

CREATE TABLE "{{schema}}".tasks (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  input TEXT NOT NULL,
  description TEXT NOT NULL,
  type TEXT NOT NULL,
  agent TEXT,
  priority SMALLINT NOT NULL CHECK (priority BETWEEN 0 AND 3),
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  run_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  result TEXT,
  error TEXT,
  idempotency_key TEXT UNIQUE,
  session_key TEXT,
  reply_to TEXT,
  metadata TEXT NOT NULL,
  lease_owner TEXT,
  lease_expires_at BIGINT,
  lease_process TEXT
);
-- The claim walks pending tasks in claim order.
CREATE INDEX tasks_claim ON "{{schema}}".tasks (priority, run_at, seq) WHERE status = 'pending';
-- The claim's session check "is an earlier task of this session waiting" (whether one runs is
-- answered by tasks_one_running_per_session below).
CREATE INDEX tasks_session_pending ON "{{schema}}".tasks (session_key, seq)
  WHERE status = 'pending' AND session_key IS NOT NULL;
-- The guarantee behind the claim's session rule: whatever the hosts' clocks say, the database
-- never holds two running tasks of one session key.
CREATE UNIQUE INDEX tasks_one_running_per_session ON "{{schema}}".tasks (session_key)
  WHERE status = 'running' AND session_key IS NOT NULL;
-- Leases, for recovery and listLeases.
CREATE INDEX tasks_leases ON "{{schema}}".tasks (lease_expires_at) WHERE status = 'running';
-- Retention (prune) and the runner's sleep (nextRunAt).
CREATE INDEX tasks_finished ON "{{schema}}".tasks (status, finished_at) WHERE finished_at IS NOT NULL;

-- The outbox: a row per reply owed, deleted once sent or given up.
CREATE TABLE "{{schema}}".task_replies (
  seq BIGINT PRIMARY KEY REFERENCES "{{schema}}".tasks (seq) ON DELETE CASCADE,
  due_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX task_replies_due ON "{{schema}}".task_replies (due_at, seq);

CREATE TABLE "{{schema}}".dead_letters (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel TEXT NOT NULL,
  key TEXT UNIQUE,
  code TEXT NOT NULL,
  reason TEXT NOT NULL,
  raw TEXT NOT NULL,
  raw_bytes INTEGER NOT NULL,
  truncated BOOLEAN NOT NULL,
  reply_to TEXT,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'discarded', 'retried')),
  created_at BIGINT NOT NULL,
  settled_at BIGINT
);
CREATE INDEX dead_letters_open ON "{{schema}}".dead_letters (seq) WHERE status = 'open';
`,
  },
];
