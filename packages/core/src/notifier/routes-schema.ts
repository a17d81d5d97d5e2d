import { z } from 'zod';
import { ALERT_SEVERITIES } from '../contracts/notifier.js';
import { parseDuration } from '../scheduler/reminders.js';
import { timezoneProblem } from '../scheduler/time-zone.js';

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

const duration = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value * 1000;
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a duration: write it like "30s", "5m" or "1h30m", or as seconds`,
    });
    return z.NEVER;
  }
  return ms;
});

const clockTime = z.string().regex(HH_MM, 'must be a time of day like "22:00" (24-hour HH:MM)');

const quietSchema = z
  .object({
    /** Start of the quiet time, `HH:MM` in `timezone`. */
    from: clockTime,
    /** End of the quiet time (may be past midnight: `from: '22:00', to: '07:00'`). */
    to: clockTime,
    /** IANA zone the times are read in (default: the host's `timezone`, else the machine's). */
    timezone: z
      .string()
      .superRefine((tz, ctx) => {
        const problem = timezoneProblem(tz);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
  })
  .strict()
  .refine((q) => q.from !== q.to, { message: 'quiet hours need `from` and `to` to differ' });

const channelTarget = z
  .object({
    /** A registered channel's name: `telegram`. */
    channel: z.string().min(1),
    /** The channel's address: a Telegram chat id. Numbers are accepted and kept as text. */
    id: z.union([z.string().min(1), z.number().int()]).transform(String),
    thread: z.string().min(1).optional(),
  })
  .strict();

const webhookTarget = z
  .object({
    webhook: z
      .object({
        /** Where the signed POST goes. */
        url: z.url().refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL'),
        /** The Standard Webhooks signing secret: `whsec_` and base64. */
        secret: z
          .string()
          .regex(
            /^whsec_[A-Za-z0-9+/]+={0,2}$/,
            'must be a Standard Webhooks secret: "whsec_" followed by base64',
          ),
        /** Per attempt (default 5 s). */
        // zod 4 returns a default as output: in ms.
        timeout: duration.default(5_000),
        /** Attempts after the first (default 3), with exponential backoff. */
        retries: z.number().int().min(0).max(10).default(3),
      })
      .strict(),
  })
  .strict();

const logTarget = z.object({ log: z.literal(true) }).strict();

const routeSchema = z
  .object({
    /** Names the route in logs and in the state store (default `route-<n>`). */
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'use letters, digits, "_", "." and "-"')
      .optional(),
    /** Alerts of this severity or worse (default `info`: all). */
    minSeverity: z.enum(ALERT_SEVERITIES).optional(),
    /** Exactly these severities (instead of `minSeverity`). */
    severities: z.array(z.enum(ALERT_SEVERITIES)).min(1).optional(),
    /** Only alerts raised by these sources (`monitor`, `runner`, `report`...); default any. */
    sources: z.array(z.string().min(1)).min(1).optional(),
    /** Where matching alerts go. */
    targets: z.array(z.union([channelTarget, webhookTarget, logTarget])).min(1),
    /** Hold non-critical alerts while quiet; send them as one digest when it ends. */
    quiet: quietSchema.optional(),
    /** The same dedupe key goes out on this route at most once per cooldown (default 0: always). */
    cooldown: duration.optional(),
  })
  .strict()
  .refine((r) => !(r.minSeverity && r.severities), {
    message: 'give `minSeverity` or `severities`, not both',
  });

/**
 * The `notifications` config: routes that send the host's alerts (and notices such as a daily
 * report) to channels, a signed webhook or the log, by severity and source.
 *
 * @example
 * ```ts
 * notificationsSchema.parse({ routes: [{ minSeverity: 'error', targets: [{ log: true }] }] });
 * ```
 */
export const notificationsSchema = z
  .object({
    routes: z.array(routeSchema).default([]),
  })
  .strict()
  .superRefine((n, ctx) => {
    const seen = new Set<string>();
    n.routes.forEach((route, index) => {
      if (!route.name) return;
      if (seen.has(route.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', index, 'name'],
          message: `route "${route.name}" is defined twice`,
        });
      }
      seen.add(route.name);
    });
  });

/** The `notifications` config as written. */
export type NotificationsConfig = z.input<typeof notificationsSchema>;
/** One route after validation (durations in ms, chat ids as text). */
export type NotificationRoute = z.output<typeof routeSchema>;
/** A route's target after validation. */
export type NotificationTarget = NotificationRoute['targets'][number];
/** A route as code adds it (Telegram's `alerts: { chats }`): validated like the config's. */
export type NotificationRouteInput = z.input<typeof routeSchema>;

/**
 * Validates one route given in code.
 *
 * @example
 * ```ts
 * parseRoute({ name: 'ops', targets: [{ channel: 'telegram', id: '42' }] });
 * ```
 */
export function parseRoute(input: NotificationRouteInput): NotificationRoute {
  return routeSchema.parse(input);
}

/**
 * The `notifications` key of the host config, for the built-in preset.
 *
 * @example
 * ```ts
 * const hostConfigSchema = z.object({ ...notificationsConfigShape }).strict();
 * ```
 */
export const notificationsConfigShape = {
  notifications: notificationsSchema.optional(),
};
