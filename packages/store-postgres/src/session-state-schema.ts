import type { Migration } from './handle.js';

/**
 * The tables of sessions, their history and plugin state. Times are epoch milliseconds
 * (`bigint`); JSON is kept as text (canonical JSON for state values, so `compareAndSet`
 * compares text). State keys use the "C" collation: byte order, so the keys that start with a
 * prefix are one contiguous range of the primary key.
 */
export const SESSION_STATE_MIGRATIONS: Migration[] = [
  {
    name: '0101_sessions_state',
    sql: `
      create table "{{schema}}".sessions (
        id text primary key,
        seq bigint generated always as identity,
        user_key text not null,
        address text not null,
        name text not null,
        agent text not null,
        persona text,
        status text not null check (status in ('live', 'idle', 'suspended', 'archived')),
        active boolean not null default false,
        idle_timeout_ms bigint not null,
        last_activity_at bigint not null,
        created_at bigint not null,
        snapshot text,
        resource text,
        owner text,
        metadata text not null
      );
      create index sessions_user on "{{schema}}".sessions (user_key, created_at, seq);
      -- The database itself guarantees one active session per user.
      create unique index sessions_active on "{{schema}}".sessions (user_key) where active;
      create index sessions_status on "{{schema}}".sessions (status);

      create table "{{schema}}".session_history (
        seq bigint generated always as identity primary key,
        session_id text not null references "{{schema}}".sessions (id) on delete cascade,
        role text not null,
        content text not null,
        at bigint not null,
        task_id text
      );
      create index session_history_session on "{{schema}}".session_history (session_id, seq);

      create table "{{schema}}".state (
        namespace text not null,
        key text collate "C" not null,
        value text not null,
        expires_at bigint,
        primary key (namespace, key)
      );
      create index state_expiry on "{{schema}}".state (expires_at) where expires_at is not null;
    `,
  },
];
