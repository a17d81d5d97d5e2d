import type { CommandMiddleware, DispatchReceipt } from '../contracts/channel.js';
import { AgentdError } from '../kernel/errors.js';
import { type CommandContext, command } from '../kernel/inbound-command.js';
import {
  parseReminderTime,
  REMINDER_TIME_FORMS,
  reminderTimeForm,
} from '../scheduler/reminders.js';
import { formatInZone, timezoneProblem } from '../scheduler/time-zone.js';
import { senderKey, taskOwner } from './access.js';
import { quoted, textProblem } from './arguments.js';
import {
  budgetRefusal,
  CHAT_COMMANDS_STATE,
  type ChatCommandDeps,
  NO_STORE,
  userTimezone,
} from './deps.js';
import { recentTasks, taskLine } from './task-view.js';

/** The type of the tasks `/remind` makes (the scheduler's reminders have it too). */
export const REMINDER_TASK_TYPE = 'reminder';

/** The longest `<when>` in words: `2026-05-01 09:00`, `tomorrow 9:00`, `in 1 h 30 min`. */
const MAX_WHEN_WORDS = 5;
/** How far ahead a reminder may be set. */
const MAX_AHEAD_MS = 10 * 366 * 86_400_000;

const REMIND_USAGE = `Use /remind WHEN TEXT, e.g. /remind 18:30 call Anna, /remind in 10m stretch, /remind tomorrow 9:00 standup. WHEN is ${REMINDER_TIME_FORMS}.`;

/** What `/remind` read: when, and the text after the time. */
type ReadReminder = { at: number; text: string } | { problem: string };

/**
 * Reads `<when> <text>`: the longest run of leading words (up to five) that is a time in one of
 * the accepted forms, then the rest as the text. A run that has a form but a bad value
 * (`25:00`) is answered with what is wrong with it.
 *
 * @example
 * ```ts
 * readReminder('tomorrow 9:00 standup', Date.parse('2026-07-01T10:00:00Z'), 'UTC');
 * // { at: Date.parse('2026-07-02T09:00:00Z'), text: 'standup' }
 * readReminder('25:00 wake up', Date.now(), 'UTC'); // { problem: 'cannot read "25:00" as a time (hour 25 is past 23); ...' }
 * ```
 */
export function readReminder(argText: string, now: number, timezone: string): ReadReminder {
  const words = argText.split(/\s+/);
  let problem: string | undefined;
  for (let n = Math.min(MAX_WHEN_WORDS, words.length); n >= 1; n--) {
    const when = words.slice(0, n).join(' ');
    if (reminderTimeForm(when) === undefined) continue;
    let at: number;
    try {
      at = parseReminderTime(when, { now, timezone });
    } catch (error) {
      problem ??= error instanceof AgentdError ? error.message : String(error);
      continue;
    }
    // The text keeps its own line breaks: only the time's words are cut off the front.
    const text = argText.replace(new RegExp(`^(?:\\S+\\s+){${n}}`), '');
    if (text === argText || text.trim() === '') {
      return { problem: `what should I remind you of? ${REMIND_USAGE}` };
    }
    return { at, text };
  }
  return { problem: problem ?? `cannot read the time in ${quoted(argText)}. ${REMIND_USAGE}` };
}

/**
 * `/remind`, `/reminders` and `/timezone` as router middleware: a reminder at a time read in the
 * user's zone (or the host's), which runs as a task for the agent then and answers in the chat;
 * the user's pending reminders; and the user's zone.
 *
 * @example
 * ```ts
 * for (const middleware of reminderCommands(deps)) router.use(middleware);
 * ```
 */
export function reminderCommands(deps: ChatCommandDeps): CommandMiddleware[] {
  const remind = async (ctx: CommandContext): Promise<string | DispatchReceipt> => {
    if (ctx.command.args.length === 0) return REMIND_USAGE;
    const queue = deps.queue();
    if (!queue) return NO_STORE;
    const { zone } = await userTimezone(deps, ctx.message);
    const now = deps.clock.now();
    const read = readReminder(ctx.command.argText, now, zone);
    if ('problem' in read) return `Not set: ${read.problem}`;
    if (read.at <= now) return `Not set: ${formatInZone(read.at, zone)} (${zone}) has passed.`;
    if (read.at - now > MAX_AHEAD_MS) return 'Not set: a reminder can be at most 10 years ahead.';
    const problem = textProblem(read.text);
    if (problem) return `Not set: ${problem}.`;
    const refusal = budgetRefusal(deps, ctx.message);
    if (refusal) return { outcome: 'refused', reply: refusal };
    const { task, created } = await queue.enqueue({
      input: `Reminder: ${read.text}`,
      type: REMINDER_TASK_TYPE,
      runAt: read.at,
      ...(ctx.task.idempotencyKey !== undefined && { idempotencyKey: ctx.task.idempotencyKey }),
      replyTo: ctx.message.from,
      metadata: {
        ...(ctx.task.metadata ?? {}),
        owner: senderKey(ctx.message),
        // The agent words the reminder; the first line says which one it is.
        replyHeading: `Reminder ${quoted(read.text)}:`,
      },
    });
    return {
      outcome: created ? 'accepted' : 'duplicate',
      taskId: task.id,
      reply: `Reminder ${task.id} set for ${formatInZone(task.runAt, zone)} (${zone}). /cancel ${task.id} cancels it.`,
    };
  };

  return [
    command('remind', remind, {
      description:
        'Set a reminder: /remind 18:30 TEXT, /remind in 10m TEXT, /remind tomorrow 9:00 TEXT',
    }),
    command(
      'reminders',
      async (ctx) => {
        const store = deps.store();
        if (!store) return NO_STORE;
        const operator = deps.operators.includes(ctx.message);
        const me = senderKey(ctx.message);
        const pending = await recentTasks(store, {
          limit: deps.listLimit,
          type: REMINDER_TASK_TYPE,
          pending: true,
          visible: (t) => operator || taskOwner(t) === me,
        });
        if (pending.length === 0) return 'No reminders pending. /remind WHEN TEXT sets one.';
        const { zone } = await userTimezone(deps, ctx.message);
        const now = deps.clock.now();
        const lines = pending
          .sort((a, b) => a.runAt - b.runAt)
          .map((t) => taskLine(t, { now, timezone: zone, showOwner: operator }));
        return `Reminders (${zone}):\n${lines.join('\n')}`;
      },
      { description: 'Your pending reminders' },
    ),
    command(
      'timezone',
      async (ctx) => {
        const [zone, extra] = ctx.command.args;
        const current = await userTimezone(deps, ctx.message);
        if (zone === undefined) {
          return `Your times are read in ${current.zone}${current.own ? '' : " (the host's)"}. /timezone Europe/Berlin changes it.`;
        }
        if (extra !== undefined || zone.length > 64)
          return 'Use /timezone ZONE, e.g. /timezone Europe/Berlin.';
        if (timezoneProblem(zone) !== undefined) {
          return `Not changed: ${quoted(zone)} is not a time zone; use an IANA name such as Europe/Berlin, America/New_York or UTC.`;
        }
        const state = deps.state();
        if (!state)
          return `This host keeps no per-user settings; times are read in ${deps.hostTimezone}.`;
        await state.set(CHAT_COMMANDS_STATE, `timezone:${senderKey(ctx.message)}`, zone);
        return `Your times are now read in ${zone}.`;
      },
      { description: 'Show or set your time zone: /timezone Europe/Berlin' },
    ),
  ];
}
