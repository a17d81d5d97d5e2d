import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const WHOLE = /^(\d+(?:\.\d+)?(ms|s|m|h|d))+$/;

/**
 * Milliseconds of a duration written for people: `'90s'`, `'5m'`, `'1h30m'`, `'2d'`, or a number
 * of seconds. Undefined when the text is not a duration.
 *
 * @example
 * ```ts
 * parseDuration('1h30m'); // 5_400_000
 * parseDuration(30); // 30_000
 * ```
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  const text = value.trim().replace(/\s+/g, '');
  if (!WHOLE.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return Math.round(ms);
}

/**
 * Milliseconds for people, the other way: `300000` reads `5m`, `5400000` reads `1h30m`.
 *
 * @example
 * ```ts
 * formatDuration(5_400_000); // '1h30m'
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}

/**
 * A zod schema for a duration option: `'5m'`, `'30s'`, `'1h'`, or seconds as a number; parses
 * to milliseconds, within `[minMs, maxMs]`.
 *
 * @example
 * ```ts
 * durationSchema({ minMs: 1000 }).parse('5m'); // 300_000
 * ```
 */
export function durationSchema({ minMs = 0, maxMs = 366 * 86_400_000 } = {}) {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" is not a duration: write it like "30s", "5m", "1h30m" or "2d", or as seconds`,
      });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      ctx.addIssue({
        code: 'custom',
        message: `${formatDuration(ms)} is out of range: at least ${formatDuration(minMs)} and at most ${formatDuration(maxMs)}`,
      });
      return z.NEVER;
    }
    return ms;
  });
}
