import type { ScheduleDefinition, ScheduleStatus } from '../../contracts/scheduler.js';
import { AgentdError } from '../../kernel/errors.js';
import { withPresetPlugins } from '../../kernel/preset.js';
import { builtinPreset } from '../../preset/builtin-preset.js';
import { slotSourceFor } from '../../scheduler/cron.js';
import {
  SCHEDULER_NAMESPACE,
  type ScheduleState,
  scheduleStatus,
  setSchedulePaused,
  slotSourceFromIdentity,
} from '../../scheduler/scheduler.js';
import { SCHEDULER_PLUGIN_NAME } from '../../scheduler/scheduler-plugin.js';
import {
  HEARTBEAT_SCHEDULE,
  type SchedulerOptions,
  schedulerOptionsSchema,
} from '../../scheduler/schema.js';
import { formatInZone, systemTimezone } from '../../scheduler/time-zone.js';
import { table } from '../format.js';
import { type CheckedConfig, loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { READ_ONLY, withStore } from '../store-access.js';

/**
 * Options of {@link schedulesCommand}.
 *
 * @example
 * ```ts
 * await schedulesCommand(io, { cwd: process.cwd(), json: true });
 * ```
 */
export interface SchedulesCommandOptions {
  config?: string;
  cwd: string;
  json?: boolean;
  /** `--pause <name>`: pause this schedule (in the store; every host sharing it stops firing it). */
  pause?: string;
  /** `--resume <name>`: resume this schedule from its next slot. */
  resume?: string;
  /** `--env-file` (default: `.env` beside the config, when present). */
  envFile?: string;
}

/**
 * A schedule as `agentd schedules` prints it.
 *
 * @example
 * ```ts
 * const listings = JSON.parse(output) as ScheduleListing[];
 * ```
 */
export interface ScheduleListing extends ScheduleStatus {
  /** `config`: declared in the config; `store`: only known from stored progress (a plugin's own schedule). */
  source: 'config' | 'store';
}

/** Missed slots printed per schedule (the status keeps more). */
const MISSED_SHOWN = 5;

/**
 * `agentd schedules [--json] [--pause <name> | --resume <name>]`: each schedule with its next
 * and last runs and missed slots; `--pause`/`--resume` first change one schedule in the store
 * (whether or not the host runs: a running host reads it at its next slot).
 * Definitions come from the config (the scheduler plugin's options, or top-level
 * `schedules`/`heartbeat`/`timezone`); progress comes from the store, so it works whether or
 * not the host is running. Schedules that plugins register at run time are listed from their
 * stored progress.
 *
 * @example
 * ```ts
 * program.command('schedules').option('--json').action(async (opts) => {
 *   code = await schedulesCommand(io, { ...opts, cwd });
 * });
 * ```
 */
export async function schedulesCommand(
  io: CliIO,
  options: SchedulesCommandOptions,
): Promise<number> {
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  if (options.pause !== undefined && options.resume !== undefined) {
    io.err('agentd: give either --pause or --resume, not both');
    return 2;
  }
  const name = options.pause ?? options.resume;
  if (name !== undefined) {
    const code = await pauseFromCli(io, checked, name, options.pause !== undefined, Date.now());
    if (code !== 0) return code;
  }
  return showSchedules(io, checked, { json: options.json });
}

/**
 * Pauses (or resumes) the schedule `name` in the store of a checked config. Its slot identity
 * comes from the config, or from stored progress for a plugin's own schedule; an unknown name
 * changes nothing and returns 1.
 *
 * @example
 * ```ts
 * await pauseFromCli(io, checked, 'daily-report', true, Date.now());
 * ```
 */
export async function pauseFromCli(
  io: CliIO,
  checked: CheckedConfig,
  name: string,
  paused: boolean,
  now: number,
): Promise<number> {
  const config = schedulerConfigOf(checked);
  const definition = (config ? definitionsOf(config) : []).find((d) => d.name === name);
  const identity = definition
    ? slotSourceFor(definition, config?.timezone ?? systemTimezone()).identity
    : undefined;
  try {
    await withStore(checked, (store) =>
      setSchedulePaused(store.state, name, { paused, by: 'cli', now, identity }),
    );
  } catch (error) {
    if (error instanceof AgentdError && error.code === 'E_UNKNOWN_SCHEDULE') {
      const known = config ? definitionsOf(config).map((d) => d.name) : [];
      io.err(
        `agentd: no schedule named "${name.slice(0, 100)}"${known.length ? ` (known: ${known.join(', ')})` : ''}`,
      );
      return 1;
    }
    throw error;
  }
  io.out(
    paused
      ? `paused "${name}": no host fires it until resumed (agentd schedules --resume ${name})`
      : `resumed "${name}": it fires from its next slot; slots due while paused are not caught up`,
  );
  return 0;
}

/**
 * The body of {@link schedulesCommand} for an already checked config (tests, other front ends).
 *
 * @example
 * ```ts
 * await showSchedules(io, checked, { json: true, now: Date.now() });
 * ```
 */
export async function showSchedules(
  io: CliIO,
  checked: CheckedConfig,
  options: { json?: boolean; now?: number } = {},
): Promise<number> {
  const now = options.now ?? Date.now();
  const config = schedulerConfigOf(checked);
  const timezone = config?.timezone ?? systemTimezone();
  const definitions = config ? definitionsOf(config) : [];
  const listings = await withStore(
    checked,
    async (store) => {
      const stored = new Map<string, ScheduleState>();
      for (const { key, value } of await store.state.list(SCHEDULER_NAMESPACE, 'schedule:')) {
        stored.set(key.slice('schedule:'.length), value as ScheduleState);
      }
      const out: ScheduleListing[] = [];
      for (const definition of definitions) {
        const source = slotSourceFor(definition, timezone);
        const state = stored.get(definition.name);
        stored.delete(definition.name);
        const current =
          state && state.identity !== source.identity ? { ...state, cursor: now } : state;
        out.push({
          ...scheduleStatus(
            { name: definition.name, enabled: definition.enabled !== false },
            source,
            current,
            now,
          ),
          source: 'config',
        });
      }
      for (const [name, state] of stored) {
        out.push({
          ...scheduleStatus(
            { name, enabled: true },
            slotSourceFromIdentity(state.identity),
            state,
            now,
          ),
          source: 'store',
        });
      }
      return { out, description: store.description };
    },
    READ_ONLY,
  );

  if (options.json) {
    io.out(JSON.stringify(listings.out, null, 2));
    return 0;
  }
  if (listings.out.length === 0) {
    io.out('no schedules (declare them under "schedules" in the config)');
    return 0;
  }
  const at = (ms: number | null, tz: string) =>
    ms === null ? '-' : formatInZone(ms, tz === '?' ? 'UTC' : tz);
  io.out(
    `${listings.description}: ${listings.out.length} schedule(s), times in each schedule's zone`,
  );
  for (const line of table(
    ['NAME', 'SCHEDULE', 'ZONE', 'NEXT RUN', 'LAST SLOT', 'MISSED'],
    listings.out.map((s) => [
      `${s.name}${s.source === 'store' ? ' (not in config)' : ''}`,
      s.expression,
      s.timezone,
      !s.enabled ? 'disabled' : s.pausedAt !== null ? 'paused' : at(s.nextRunAt, s.timezone),
      at(s.lastSlot, s.timezone),
      String(s.missedTotal),
    ]),
  )) {
    io.out(line);
  }
  for (const s of listings.out) {
    if (s.missedSlots.length === 0) continue;
    const shown = s.missedSlots.slice(-MISSED_SHOWN).map((m) => at(m, s.timezone));
    const more = s.missedTotal - shown.length;
    io.out(
      `${s.name}: missed ${s.missedTotal} slot(s)${more > 0 ? `, latest ${shown.length}` : ''}: ${shown.join(', ')}`,
    );
  }
  return 0;
}

/** The scheduler's validated options from a checked config, or undefined when it has none. */
function schedulerConfigOf(checked: CheckedConfig): SchedulerOptions | undefined {
  const entry = withPresetPlugins(checked.resolved, [builtinPreset]).find(
    (p) => p.plugin.name === SCHEDULER_PLUGIN_NAME,
  );
  if (entry) {
    // Listed in `plugins`, the kernel validated its options already; added by the built-in preset,
    // only the factory's raw options exist.
    if (entry.options !== undefined) return entry.options as SchedulerOptions;
    const parsed = schedulerOptionsSchema.safeParse(entry.plugin.options ?? {});
    if (parsed.success) return parsed.data;
  }
  const top = checked.config as Record<string, unknown>;
  if (top.schedules === undefined && top.heartbeat === undefined) return undefined;
  const parsed = schedulerOptionsSchema.safeParse({
    timezone: top.timezone,
    schedules: top.schedules,
    heartbeat: top.heartbeat,
  });
  return parsed.success ? parsed.data : undefined;
}

function definitionsOf(config: SchedulerOptions): ScheduleDefinition[] {
  const list = [...config.schedules];
  const beat = config.heartbeat;
  if (beat?.task) {
    const { everyMs, ...task } = beat.task;
    list.push({ name: HEARTBEAT_SCHEDULE, every: everyMs ?? beat.everyMs, task, missed: 'skip' });
  }
  return list;
}
