import type { Store } from '../../contracts/store.js';
import type { STORE_RECORD_KINDS, StoreRecord } from '../../contracts/store-records.js';
import { TASK_STATUSES, type TaskStatus } from '../../contracts/task.js';
import { AgentdError } from '../../kernel/errors.js';
import { renumberHistory } from '../../store-kit/records.js';
import { type CheckedConfig, loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { withStore } from '../store-access.js';

/** Options of {@link storeCopyCommand}. */
export interface StoreCopyOptions {
  cwd: string;
  /** The source: the project's config (default) or this one. */
  config?: string;
  /** The target: a config file whose store plugin is the store to copy into. */
  to: string;
  envFile?: string;
  /** Copy into a store that already holds data (records it has are kept, not doubled). */
  force?: boolean;
  /** Records per transaction (default 500). */
  batch?: string;
}

type Kind = (typeof STORE_RECORD_KINDS)[number];
type Counts = Record<Kind | 'history', number>;
const LABELS: Record<Kind | 'history', string> = {
  task: 'tasks',
  deadLetter: 'dead letters',
  session: 'sessions',
  history: 'session history',
  state: 'state values',
};
const zero = (): Counts => ({ task: 0, deadLetter: 0, session: 0, history: 0, state: 0 });

function count(into: Counts, batch: readonly StoreRecord[]): void {
  for (const r of batch) {
    into[r.kind]++;
    if (r.kind === 'session') into.history += r.history.length;
  }
}

/** What a store holds, by record kind, read through its export. */
async function countRecords(store: Store): Promise<Counts> {
  const counts = zero();
  for await (const batch of exportOf(store)({ batchSize: 1000 })) count(counts, batch);
  return counts;
}

function exportOf(store: Store): NonNullable<Store['exportRecords']> {
  if (!store.exportRecords) {
    throw new AgentdError(
      'E_STORE_COPY',
      `${store.description} cannot export its records (its store plugin has no exportRecords); copying works between sqlite() and postgres() stores`,
    );
  }
  return store.exportRecords.bind(store);
}

async function isEmpty(store: Store): Promise<boolean> {
  for await (const batch of exportOf(store)({ batchSize: 1 })) {
    if (batch.length > 0) return false;
  }
  return true;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '),
  );
}

/**
 * `agentd store copy --to <config>`: copies every task (all statuses, with attempts, results,
 * run-at, session and idempotency keys, leases and owed replies), dead letter, session with its
 * history, and state value (schedule progress, the Telegram offset) from the project's store into
 * the store the other config names, e.g. from SQLite into PostgreSQL, or back. Refuses a target
 * that holds data unless `force`; prints progress and a table of counts, and fails with
 * `E_STORE_COPY` when the target's counts do not match after the copy. Stop the hosts of both
 * stores first: records changed during the copy may be missed.
 *
 * @example
 * ```ts
 * await storeCopyCommand(processIO(), { cwd: process.cwd(), to: 'agentd.postgres.json' });
 * ```
 */
export async function storeCopyCommand(io: CliIO, options: StoreCopyOptions): Promise<number> {
  const batchSize = options.batch === undefined ? 500 : Number(options.batch);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new AgentdError('E_STORE_COPY', '--batch must be a whole number from 1 to 10000');
  }
  const load = (path: string | undefined) =>
    loadCheckedConfig(options.cwd, path, { envFile: options.envFile, storeOnly: true });
  const from: CheckedConfig = await load(options.config);
  const to: CheckedConfig = await load(options.to);
  if (from.path === to.path) {
    throw new AgentdError(
      'E_STORE_COPY',
      `--to names the source's own config (${to.path}): name the config of the store to copy into`,
    );
  }
  return withStore(from, (source) =>
    withStore(to, async (target) => {
      if (source.description === target.description) {
        throw new AgentdError(
          'E_STORE_COPY',
          `both configs name the same store (${source.description}): nothing to copy`,
        );
      }
      const read = exportOf(source);
      const write = target.importRecords?.bind(target);
      if (!write) {
        throw new AgentdError(
          'E_STORE_COPY',
          `${target.description} cannot import records (its store plugin has no importRecords); copying works between sqlite() and postgres() stores`,
        );
      }
      exportOf(target);
      if (!options.force && !(await isEmpty(target))) {
        throw new AgentdError(
          'E_STORE_COPY',
          `${target.description} already holds data; copy into an empty store, or pass --force to add to it (records it has, by idempotency key, session id and state key, are kept as they are)`,
        );
      }
      io.out(`copying ${source.description} -> ${target.description}`);
      const copied = zero();
      const taskIds = new Map<string, string>();
      let lastKind: Kind | undefined;
      for await (const batch of read({ batchSize })) {
        const renumbered = batch.map((r) =>
          r.kind === 'session' ? { ...r, history: renumberHistory(r.history, taskIds) } : r,
        );
        const report = await write(renumbered);
        for (const [from, to] of report.taskIds) taskIds.set(from, to);
        count(copied, batch);
        const kind = batch[0]!.kind;
        if (kind !== lastKind && lastKind !== undefined) {
          io.out(`  ${LABELS[lastKind]}: ${copied[lastKind]} copied`);
        }
        lastKind = kind;
        if (kind === 'task' && copied.task % (batchSize * 10) === 0) {
          io.out(`  tasks: ${copied.task} so far`);
        }
      }
      if (lastKind !== undefined) io.out(`  ${LABELS[lastKind]}: ${copied[lastKind]} copied`);

      const [after, sourceStatuses, targetStatuses] = await Promise.all([
        countRecords(target),
        source.tasks.counts(),
        target.tasks.counts(),
      ]);
      const rows: string[][] = [['', 'source', 'target']];
      const differs: string[] = [];
      const compare = (label: string, a: number, b: number) => {
        rows.push([label, String(a), String(b)]);
        // A forced copy adds to what the target had: it holds at least the source's records.
        if (options.force ? b < a : a !== b) differs.push(`${label.trim()} ${a} -> ${b}`);
      };
      for (const kind of ['task', 'deadLetter', 'session', 'history', 'state'] as const) {
        compare(LABELS[kind], copied[kind], after[kind]);
        if (kind === 'task') {
          for (const status of TASK_STATUSES as readonly TaskStatus[]) {
            compare(`  ${status}`, sourceStatuses[status], targetStatuses[status]);
          }
        }
      }
      for (const line of table(rows)) io.out(line);
      if (differs.length > 0) {
        throw new AgentdError(
          'E_STORE_COPY',
          `the target's counts do not match the source's after the copy: ${differs.join(', ')}`,
        );
      }
      io.out(
        `copied; the counts match. Task ids are new in the target (each store numbers its own); idempotency keys, session keys and everything else are as they were.`,
      );
      return 0;
    }),
  );
}
