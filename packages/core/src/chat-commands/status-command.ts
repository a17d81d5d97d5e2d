import type { CommandMiddleware } from '../contracts/channel.js';
import type { Scheduler } from '../contracts/scheduler.js';
import { TASK_STATUSES } from '../contracts/task.js';
import type { HostInfo } from '../kernel/host-info.js';
import { command } from '../kernel/inbound-command.js';
import { errorMessage, withTimeout } from '../kernel/timeout.js';
import { createToken } from '../kernel/token.js';
import { formatInZone } from '../scheduler/time-zone.js';
import { senderKey } from './access.js';
import type { ChatCommandDeps } from './deps.js';
import { userTimezone } from './deps.js';

/**
 * A part of the `/status` answer a plugin adds: the monitor adds `System` (CPU, memory, disks).
 *
 * @example
 * ```ts
 * const section: StatusSection = { title: 'Mail', render: () => `${inbox.unread} unread` };
 * ```
 */
export interface StatusSection {
  /** Shown before the text: `System`. */
  title: string;
  /** The section's text (one or more lines); a section that throws or hangs is reported as such. */
  render(): string | Promise<string>;
}

/**
 * Where plugins add {@link StatusSection}s to `/status`, so core shows figures it cannot make
 * itself (the monitor's) without importing their package.
 *
 * @example
 * ```ts
 * // in a plugin's start(ctx):
 * const off = ctx.tryResolve(StatusReportToken)?.addSection({ title: 'Mail', render: () => '3 unread' });
 * ```
 */
export interface StatusReport {
  /** Adds a section (after those already there); returns a function that removes it. */
  addSection(section: StatusSection): () => void;
}

/** The {@link StatusReport} of the `commands` built-in. */
export const StatusReportToken = createToken<StatusReport>('agentd.status-report');

/** How long one section may take to render. */
const SECTION_TIMEOUT_MS = 5_000;

function duration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/**
 * Makes `/status` (operators only): the host, its queue, its schedules, and every section
 * plugins added (the monitor's `System`), as shared/seeds/000's bot showed them.
 *
 * @example
 * ```ts
 * const { middleware, report } = statusCommand(deps, { host: () => hostInfo, scheduler: () => undefined });
 * router.use(middleware);
 * ```
 */
export function statusCommand(
  deps: ChatCommandDeps,
  sources: { host: () => HostInfo; scheduler: () => Scheduler | undefined },
): { middleware: CommandMiddleware; report: StatusReport } {
  const sections: StatusSection[] = [];
  const report: StatusReport = {
    addSection(section) {
      sections.push(section);
      return () => {
        const i = sections.indexOf(section);
        if (i >= 0) sections.splice(i, 1);
      };
    },
  };
  const middleware = command(
    'status',
    async (ctx) => {
      if (!deps.operators.includes(ctx.message)) {
        return `Only operators can use /status (the config lists them under commands.operators; you are ${senderKey(ctx.message)}).`;
      }
      const now = deps.clock.now();
      const { zone } = await userTimezone(deps, ctx.message);
      const host = sources.host();
      const up =
        host.readyAt === null ? host.state : `${host.state}, up ${duration(now - host.readyAt)}`;
      const lines = [`${host.name}: ${up}, ${host.plugins.length} plugins`];
      const store = deps.store();
      if (store) {
        const counts = await store.counts();
        const owed = await store.countOwedReplies();
        const queue = TASK_STATUSES.map((s) => `${counts[s]} ${s}`).join(', ');
        lines.push(`Queue: ${queue}; ${owed} ${owed === 1 ? 'reply' : 'replies'} owed`);
      } else {
        lines.push('Queue: no task store');
      }
      const schedules = await sources.scheduler()?.list();
      if (schedules && schedules.length > 0) {
        lines.push('Schedules:');
        for (const s of schedules) {
          const next =
            s.nextRunAt === null ? 'no next run' : `next ${formatInZone(s.nextRunAt, zone)}`;
          const last = s.lastFiredAt === null ? '' : `, last ${formatInZone(s.lastFiredAt, zone)}`;
          lines.push(
            `  ${s.name} (${s.expression})${s.enabled ? '' : ' disabled'}: ${next}${last}`,
          );
        }
      } else {
        lines.push('Schedules: none');
      }
      for (const section of [...sections]) {
        let text: string;
        try {
          text = await withTimeout(() => section.render(), SECTION_TIMEOUT_MS, section.title);
        } catch (error) {
          text = `unavailable (${errorMessage(error)})`;
        }
        lines.push(
          text.includes('\n') ? `${section.title}:\n${text}` : `${section.title}: ${text}`,
        );
      }
      return lines.join('\n');
    },
    { description: 'Host, queue, schedules and system figures (operators)' },
  );
  return { middleware, report };
}
