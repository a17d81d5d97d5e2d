/** Replacement text for anything secret. */
export const REDACTED = '[redacted]';

// Secrets that hide inside ordinary strings (URLs in error messages, headers echoed by clients).
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  // Telegram puts the bot token in the URL path: https://api.telegram.org/bot123:ABC/sendMessage
  [/\/bot\d+:[A-Za-z0-9_-]+/g, `/bot${REDACTED}`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [/\bwhsec_[A-Za-z0-9+/=]+/g, `whsec_${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, `sk-${REDACTED}`],
  [/([?&](?:token|api_key|apikey|key|secret|access_token)=)[^&\s#]+/gi, `$1${REDACTED}`],
];

/**
 * Replaces secrets embedded in a string: Telegram `/bot<token>/` URL parts, bearer and basic
 * credentials, `whsec_` webhook secrets, `sk-` API keys and secret query parameters.
 *
 * @example
 * ```ts
 * redactSecrets('GET https://api.telegram.org/bot123:AAE-x/getMe failed');
 * // 'GET https://api.telegram.org/bot[redacted]/getMe failed'
 * ```
 */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Object keys whose values are never logged (matched case-insensitively, anywhere in a log object). */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'token',
  'bottoken',
  'secret',
  'secrets',
  'password',
  'passphrase',
  'apikey',
  'api_key',
  'authorization',
  'cookie',
  'set-cookie',
  'x-telegram-bot-api-secret-token',
  'privatekey',
  'private_key',
  'accesstoken',
  'access_token',
  'refreshtoken',
  'refresh_token',
  'clientsecret',
  'client_secret',
]);

/**
 * Returns a copy of `value` with secret keys masked and secrets inside strings redacted.
 * Depth and breadth are bounded so a huge or cyclic object cannot stall logging.
 */
export function redactValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 8 || seen.has(value)) return '[…]';
  seen.add(value);
  if (value instanceof Error) {
    const err: Record<string, unknown> = {
      type: value.name,
      message: redactSecrets(value.message),
      stack: value.stack ? redactSecrets(value.stack) : undefined,
    };
    for (const [k, v] of Object.entries(value)) {
      err[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : redactValue(v, depth + 1, seen);
    }
    if (value.cause !== undefined) err.cause = redactValue(value.cause, depth + 1, seen);
    return err;
  }
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redactValue(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : redactValue(v, depth + 1, seen);
  }
  return out;
}
