import { z } from 'zod';
import { timezoneProblem } from '../scheduler/time-zone.js';

/**
 * An operator as the config names them: a channel name and an id on it, `telegram:42`. The id
 * is a user (the sender) or a conversation (a chat: everyone in it counts as an operator).
 */
const OPERATOR = /^[a-z][a-z0-9-]*:[^\s:][^\s]*$/;

/**
 * Schema of the `commands` config key (`false` turns the built-in chat commands off).
 *
 * @example
 * ```ts
 * commandsConfigSchema.parse({ operators: ['telegram:42'], unknown: 'agent' });
 * ```
 */
export const commandsConfigSchema = z
  .object({
    /**
     * Who may see and cancel every user's tasks and use `/status`: `channel:id` entries, a user
     * id (`telegram:42`) or a conversation (`telegram:-1001234`). Default: nobody.
     */
    operators: z
      .array(
        z
          .string()
          .regex(
            OPERATOR,
            'must be "channel:id", e.g. "telegram:42" (a user id or a chat id on that channel)',
          ),
      )
      .max(1000),
    /**
     * What an unknown `/command` gets: `reply` (default) answers "Unknown command, see /help";
     * `agent` passes it on to the agent like any text.
     */
    unknown: z.enum(['reply', 'agent']),
    /** How many tasks `/tasks` and `/reminders` show (default 10, at most 50). */
    listLimit: z.number().int().min(1).max(50),
  })
  .partial()
  .strict();

/** The `commands` config key. */
export type CommandsConfig = z.input<typeof commandsConfigSchema>;

/**
 * Options of `chatCommands()`: the `commands` config key plus the zone users' times are read in
 * when they set none (the builtin preset passes the config's top-level `timezone`).
 *
 * @example
 * ```ts
 * chatCommandsOptionsSchema.parse({ operators: ['telegram:42'], timezone: 'Europe/Berlin' });
 * ```
 */
export const chatCommandsOptionsSchema = commandsConfigSchema.extend({
  timezone: z
    .string()
    .refine(
      (zone) => timezoneProblem(zone) === undefined,
      'must be an IANA time zone such as "Europe/Berlin"',
    )
    .optional(),
});

/**
 * The `commands` config key, to spread into a host config schema.
 *
 * @example
 * ```ts
 * const hostConfigSchema = z.object({ ...commandsConfigShape }).strict();
 * ```
 */
export const commandsConfigShape = {
  // Not a z.union: a union that fails reports only "Invalid input" for the whole key, where
  // the object's own issues name the field (`commands.operators[0]: must be ...`).
  commands: z
    .custom<CommandsConfig | false | undefined>()
    .transform((value, ctx): z.output<typeof commandsConfigSchema> | false | undefined => {
      if (value === undefined || value === false) return value;
      const parsed = commandsConfigSchema.safeParse(value);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      }
      return z.NEVER;
    }),
};
