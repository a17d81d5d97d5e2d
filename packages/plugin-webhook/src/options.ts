import type { TaskPriority } from '@agentd/core';
import { MAX_TASK_ATTEMPTS, TaskPriorities } from '@agentd/core/store';
import { z } from 'zod';
import { templateProblems } from './template.js';
import { DEFAULT_TOLERANCE_SECONDS, standardWebhooksKey } from './verify.js';

const MiB = 1024 * 1024;

/**
 * Paths the plugin itself answers; webhook routes may not use them.
 *
 * @example
 * ```ts
 * PROBE_PATHS.includes('/ready'); // true
 * ```
 */
export const PROBE_PATHS = ['/live', '/ready', '/health'] as const;
/**
 * Prefix of the HTTP API.
 *
 * @example
 * ```ts
 * await fetch(`${url}${API_PREFIX}/status`, { headers: { authorization: `Bearer ${token}` } });
 * ```
 */
export const API_PREFIX = '/api/v1';
/**
 * Prefix of the OpenAI-compatible endpoint (an OpenAI client's `baseURL` is the server's URL
 * followed by it).
 *
 * @example
 * ```ts
 * new OpenAI({ baseURL: `${url}${OPENAI_PREFIX}`, apiKey: token });
 * ```
 */
export const OPENAI_PREFIX = '/v1';

// `${PORT}` placeholders interpolate to strings, so a port may arrive as one.
const portSchema = z
  .union([z.number(), z.string().regex(/^\d+$/, 'must be a port number').transform(Number)])
  .pipe(z.number().int().min(0).max(65_535));

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name')
  .transform((h) => h.toLowerCase());

const secrets = z.union([
  z.string().min(1, 'must not be empty (is its environment variable set?)'),
  z.array(z.string().min(1)).min(1),
]);
const tolerance = z.number().int().min(1).max(3600).default(DEFAULT_TOLERANCE_SECONDS);

const standardVerify = z
  .object({
    scheme: z.literal('standard'),
    /** `whsec_<base64>`, or several during a key rotation. */
    secret: secrets.refine(
      (s) =>
        (typeof s === 'string' ? [s] : s).every((one) => {
          try {
            return standardWebhooksKey(one).length > 0;
          } catch {
            return false;
          }
        }),
      'must be a Standard Webhooks secret: whsec_ followed by base64',
    ),
    toleranceSeconds: tolerance,
  })
  .strict();

const githubVerify = z.object({ scheme: z.literal('github'), secret: secrets }).strict();

const hmacVerify = z
  .object({
    scheme: z.literal('hmac'),
    secret: secrets,
    header: headerName.default('x-signature'),
    prefix: z.string().default('sha256='),
    encoding: z.enum(['hex', 'base64']).default('hex'),
    idHeader: headerName.default('x-delivery-id'),
    timestampHeader: headerName.optional(),
    eventHeader: headerName.optional(),
    toleranceSeconds: tolerance,
  })
  .strict();

const priority = z
  .union([z.literal([0, 1, 2, 3]), z.enum(['critical', 'high', 'normal', 'low'])])
  .transform((p): TaskPriority => (typeof p === 'string' ? TaskPriorities[p] : p));

const taskTemplate = z
  .object({
    /** Agent to run the task; the host's default agent when absent. */
    agent: z.string().min(1).optional(),
    priority: priority.default(2),
    /** The task's input: a template over the payload; the whole payload by default. */
    input: z.json().optional(),
    /** Text template for lists and alerts. */
    description: z.string().min(1).optional(),
    /** Text template: tasks with the same session key run one at a time, in order. */
    sessionKey: z.string().min(1).optional(),
    maxAttempts: z.number().int().min(1).max(MAX_TASK_ATTEMPTS).optional(),
    type: z.string().min(1).default('webhook'),
  })
  .strict();

const routeSchema = z
  .object({
    /** Unique; part of each task's idempotency key, so keep it stable. */
    name: z
      .string()
      .max(64)
      .regex(
        /^[A-Za-z0-9][\w.-]*$/,
        'use letters, digits and - _ . (starting with a letter or digit)',
      ),
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9\-._~!$&'()+,;=:@%/]*$/, 'must be a path starting with "/"')
      .refine((p) => !p.includes('*') && !/\/:/.test(p), 'must be a fixed path (no :param or *)'),
    verify: z.discriminatedUnion('scheme', [standardVerify, githubVerify, hmacVerify]),
    /** `json` (default): the body must be JSON (400 otherwise); `text`: any UTF-8 text. */
    format: z.enum(['json', 'text']).default('json'),
    /** Accept only these event names; others are acknowledged (202) and ignored. */
    events: z.array(z.string().min(1)).min(1).optional(),
    /** The task each delivery becomes (the default, with the whole payload as input). */
    task: taskTemplate.optional(),
    /** Emit `webhook.received` on the event bus instead of creating a task. */
    emit: z.literal(true).optional(),
    /** Body cap of this route; at most the server's. */
    bodyLimitBytes: z.number().int().min(1).optional(),
  })
  .strict()
  .superRefine((route, ctx) => {
    if (route.task && route.emit) {
      ctx.addIssue({
        code: 'custom',
        path: ['emit'],
        message: 'a route either creates a task or emits an event, not both',
      });
    }
    if (route.task) {
      for (const [field, value] of Object.entries(route.task)) {
        for (const message of templateProblems(value)) {
          ctx.addIssue({ code: 'custom', path: ['task', field], message });
        }
      }
    }
  });

/**
 * The webhook plugin's options schema (zod), exported for tools that check configs.
 *
 * @example
 * ```ts
 * webhookOptionsSchema.parse({ port: 9000 }).host; // '127.0.0.1'
 * ```
 */
export const webhookOptionsSchema = z
  .object({
    /** Interface to bind: loopback by default. `0.0.0.0` or `::` expose it to the network. */
    host: z.string().min(1).default('127.0.0.1'),
    port: portSchema.default(8787),
    bodyLimitBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * MiB)
      .default(MiB),
    headersTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    requestTimeoutMs: z.number().int().min(100).max(3_600_000).default(30_000),
    keepAliveTimeoutMs: z.number().int().min(0).max(600_000).default(5_000),
    maxConnections: z.number().int().min(1).optional(),
    /** The HTTP API under /api/v1; absent: no API. */
    api: z
      .object({
        token: z
          .string()
          .min(
            16,
            'use at least 16 characters (e.g. `openssl rand -hex 32`), from an environment variable',
          ),
      })
      .strict()
      .optional(),
    /**
     * The OpenAI-compatible endpoint (`POST /v1/chat/completions`, `GET /v1/models`), behind
     * the API token. Off by default; `true` turns it on with the defaults.
     */
    openai: z
      .union([
        z.boolean(),
        z
          .object({
            /** How long a completion waits for its task before answering 504 (ms). */
            timeoutMs: z.number().int().min(1000).max(3_600_000).default(300_000),
            /** Body cap of the completions route; at most the server's. */
            bodyLimitBytes: z.number().int().min(1024).optional(),
          })
          .strict(),
      ])
      .default(false)
      .transform((o) => (o === false ? undefined : o === true ? { timeoutMs: 300_000 } : o)),
    /** `bearer`: /health needs the API token too (/live and /ready stay open for probes). */
    healthAuth: z.enum(['none', 'bearer']).default('none'),
    /**
     * `/health` reuses its last answer for this long (ms; 0 runs the checks on every request),
     * so frequent or hostile polling cannot make the host run its checks at that rate.
     */
    healthCacheMs: z.number().int().min(0).max(60_000).default(1000),
    /** How long ids of `emit` routes' deliveries are remembered, to drop repeats. */
    eventDedupeMs: z
      .number()
      .int()
      .min(60_000)
      .default(3 * 24 * 3600_000),
    routes: z.array(routeSchema).default([]),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.headersTimeoutMs > o.requestTimeoutMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['headersTimeoutMs'],
        message: 'must not exceed requestTimeoutMs',
      });
    }
    if (o.healthAuth === 'bearer' && !o.api) {
      ctx.addIssue({
        code: 'custom',
        path: ['healthAuth'],
        message: '"bearer" needs api.token: there is no token to check',
      });
    }
    if (o.openai && !o.api) {
      ctx.addIssue({
        code: 'custom',
        path: ['openai'],
        message: 'the OpenAI-compatible endpoint needs api.token: clients send it as their API key',
      });
    }
    const names = new Set<string>();
    const paths = new Set<string>();
    o.routes.forEach((route, i) => {
      if (names.has(route.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'name'],
          message: 'duplicate route name',
        });
      }
      names.add(route.name);
      const reserved =
        (PROBE_PATHS as readonly string[]).includes(route.path) ||
        (o.openai !== undefined && route.path.startsWith(`${OPENAI_PREFIX}/`)) ||
        route.path === API_PREFIX ||
        route.path.startsWith(`${API_PREFIX}/`);
      if (paths.has(route.path) || reserved) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'path'],
          message: reserved
            ? `${route.path} is reserved (probes and ${API_PREFIX})`
            : 'duplicate route path',
        });
      }
      paths.add(route.path);
    });
  });

/** Options of the webhook plugin, as written in a config. */
export type WebhookOptions = z.input<typeof webhookOptionsSchema>;
/** Options after validation, with defaults: what the plugin's hooks see. */
export type ResolvedWebhookOptions = z.output<typeof webhookOptionsSchema>;
/** One webhook route after validation. */
export type WebhookRouteConfig = ResolvedWebhookOptions['routes'][number];
