import type {
  ClassifiedError,
  ClassifierRule,
  ErrorClass,
  FailoverAction,
} from '../contracts/failover.js';
import { errorMessage } from '../kernel/timeout.js';
import { AgentError } from './errors.js';

/**
 * What each error class does by default. `retry` tries the same agent again (up to its retries,
 * then the next agent); `failover` moves to the next agent at once; `give_up` fails the task.
 * A rate limit moves on rather than hammering the same provider; auth and content filter refusals
 * cannot get better by retrying.
 *
 * @example
 * ```ts
 * DEFAULT_ACTIONS.rate_limit; // 'failover'
 * ```
 */
export const DEFAULT_ACTIONS: Readonly<Record<ErrorClass, FailoverAction>> = {
  rate_limit: 'failover',
  auth: 'give_up',
  content_filter: 'give_up',
  timeout: 'retry',
  tool_failure: 'retry',
  model_error: 'failover',
  api_error: 'retry',
  empty_result: 'failover',
  unknown: 'retry',
};

/**
 * Every error class, in documentation order.
 *
 * @example
 * ```ts
 * z.enum(ERROR_CLASSES as [ErrorClass, ...ErrorClass[]]);
 * ```
 */
export const ERROR_CLASSES: readonly ErrorClass[] = Object.keys(DEFAULT_ACTIONS) as ErrorClass[];

// Order matters: the first matching pattern wins, so specific classes come before generic ones.
const MESSAGE_PATTERNS: readonly [RegExp, ErrorClass][] = [
  [
    /content[ _-]?(filter|policy|management)|safety system|flagged|refusal|refused to/i,
    'content_filter',
  ],
  [/rate[ _-]?limit|too many requests|\b429\b|quota|retry[ -]after/i, 'rate_limit'],
  [
    /unauthori[sz]ed|forbidden|invalid[ _-]?api[ _-]?key|incorrect api key|authenticat|permission denied|\b40[13]\b/i,
    'auth',
  ],
  [/timed? ?out|timeout|deadline exceeded|ETIMEDOUT/i, 'timeout'],
  [
    /model .*(not found|does not exist|unavailable|not available)|context[ _-]length|maximum context|no such model/i,
    'model_error',
  ],
  [
    /\b5\d\d\b|server error|bad gateway|service unavailable|overloaded|ECONN|ENOTFOUND|EAI_AGAIN|fetch failed|socket hang up/i,
    'api_error',
  ],
  [/tool|exit code|exited with|command (failed|not found)|ENOENT|EACCES/i, 'tool_failure'],
];

function classFromStatus(status: number, text: string): ErrorClass | undefined {
  if (status === 429) return 'rate_limit';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 404) return 'model_error';
  if (status >= 500) return 'api_error';
  if (status === 400 && /content|policy|safety/i.test(text)) return 'content_filter';
  if (status === 400 && /context|token/i.test(text)) return 'model_error';
  if (status >= 400) return 'api_error';
  return undefined;
}

function prop(error: unknown, key: string): unknown {
  return typeof error === 'object' && error !== null
    ? (error as Record<string, unknown>)[key]
    : undefined;
}

/**
 * Parses a `Retry-After` header (seconds, or an HTTP date) into milliseconds from `now`.
 *
 * @example
 * ```ts
 * parseRetryAfter('20', Date.now()); // 20000
 * parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT', Date.now());
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Classifies agent failures: user rules first, then an {@link AgentError}'s own class, then
 * HTTP status, error codes and names, then the message. Unknown errors are retried.
 *
 * @example
 * ```ts
 * const classify = new ErrorClassifier([{ match: /billing/i, class: 'auth' }]);
 * classify.classify(new Error('429 Too Many Requests')); // { class: 'rate_limit', action: 'failover', ... }
 * ```
 */
export class ErrorClassifier {
  constructor(
    private readonly rules: readonly ClassifierRule[] = [],
    private readonly actions: Partial<Record<ErrorClass, FailoverAction>> = {},
  ) {}

  classify(error: unknown): ClassifiedError {
    const message = errorMessage(error);
    const name = error instanceof Error ? error.name : '';
    const retryAfter = prop(error, 'retryAfterMs');
    const retryAfterMs = typeof retryAfter === 'number' ? retryAfter : undefined;
    const make = (cls: ErrorClass, action?: FailoverAction): ClassifiedError => ({
      class: cls,
      action: action ?? this.actions[cls] ?? DEFAULT_ACTIONS[cls],
      message,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    });
    for (const rule of this.rules) {
      const hit =
        rule.match instanceof RegExp
          ? rule.match.test(message) || rule.match.test(name)
          : safeMatch(rule.match, error);
      if (hit) return make(rule.class, rule.action);
    }
    if (error instanceof AgentError && error.errorClass) return make(error.errorClass);
    const status = prop(error, 'status') ?? prop(error, 'statusCode');
    if (typeof status === 'number') {
      const cls = classFromStatus(status, message);
      if (cls) return make(cls);
    }
    if (name === 'TimeoutError' || prop(error, 'code') === 'ETIMEDOUT') return make('timeout');
    const code = prop(error, 'code');
    const text = typeof code === 'string' ? `${code} ${message}` : `${name} ${message}`;
    for (const [pattern, cls] of MESSAGE_PATTERNS) if (pattern.test(text)) return make(cls);
    return make('unknown');
  }
}

function safeMatch(match: (error: unknown) => boolean, error: unknown): boolean {
  try {
    return match(error);
  } catch {
    return false;
  }
}
