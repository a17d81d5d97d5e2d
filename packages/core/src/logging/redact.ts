/** Replacement text for anything secret. */
export const REDACTED = '[redacted]';

type Replacer = (match: string, ...groups: string[]) => string;

// Secrets that hide inside ordinary strings, for secrets the config never saw: URLs in error
// messages, headers echoed by clients or printed on a command's stderr, provider key shapes.
// Each pattern keeps what identifies the secret (the header name, the key's prefix) and replaces
// only the secret itself, so a masked line still says what was there.
const SECRET_PATTERNS: readonly [RegExp, string | Replacer][] = [
  // Telegram puts the bot token in the URL path: https://api.telegram.org/bot123:ABC/sendMessage
  [/\/bot\d+:[A-Za-z0-9_-]+/g, `/bot${REDACTED}`],
  // A bare Telegram bot token: digits, a colon, then 30+ token characters (123456:AAE...).
  [/\b\d{5,12}:[A-Za-z0-9_-]{30,}/g, REDACTED],
  // URL credentials: scheme://user:password@host keeps the user, drops the password.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@"'<>]*):[^\s/?#@"'<>]+@/gi, `$1:${REDACTED}@`],
  // Credential headers, as `Name: value`, `Name=value` or `"name": "value"` (JSON, stderr tails).
  [
    /((?:proxy-)?authorization|x-api-key|api-key|x-auth-token|x-access-token|x-telegram-bot-api-secret-token|cookie)(["']?\s*[:=]\s*["']?)(?:(Bearer|Basic|Token|Bot|Digest)\s+)?[^\s"',;]+/gi,
    (_m, name: string, sep: string, scheme?: string) =>
      `${name}${sep}${scheme ? `${scheme} ` : ''}${REDACTED}`,
  ],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  // Secret query parameters and form values.
  [
    /([?&;](?:token|api_key|apikey|api-key|key|secret|access_token|refresh_token|client_secret|password|passwd|pwd|sig|signature|auth)=)[^&\s#"']+/gi,
    `$1${REDACTED}`,
  ],
  // Environment assignments as a shell or a crash dump prints them: OPENAI_API_KEY=sk-...
  [/\b([A-Z][A-Z0-9_]*(?:_KEY|_TOKEN|_SECRET|PASSWORD|PASSWD|_PAT)=)[^\s"']+/g, `$1${REDACTED}`],
  // Key shapes of common providers, wherever they appear.
  [/\bwhsec_[A-Za-z0-9+/=]+/g, `whsec_${REDACTED}`],
  [/\b(sk-(?:proj-|ant-|or-v1-|live-)?)[A-Za-z0-9_-]{16,}/g, `$1${REDACTED}`],
  [/\b((?:sk|rk|pk)_live_)[A-Za-z0-9]{10,}/g, `$1${REDACTED}`],
  [/\bgsk_[A-Za-z0-9]{16,}/g, `gsk_${REDACTED}`],
  [/\b(xox[abposr]-)[A-Za-z0-9-]{10,}/g, `$1${REDACTED}`],
  [/\b(gh[pousr]_)[A-Za-z0-9]{20,}/g, `$1${REDACTED}`],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, `github_pat_${REDACTED}`],
  [/\bglpat-[A-Za-z0-9_-]{16,}/g, `glpat-${REDACTED}`],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, REDACTED],
];

/**
 * A literal each pattern above needs (case-insensitive, so it may over-match: that only costs
 * the full pass). Keep it in step with SECRET_PATTERNS. A bare bot token starts with five
 * digits and a colon: a time of day (`18:30`) or an id like `m:12:3` need no full pass, and a
 * task's result is masked on every run.
 */
const MIGHT_HOLD_SECRET =
  /\/bot|\d{5}:|:\/\/|authori|api-key|-token|cookie|bearer|basic|=|whsec_|sk-|_live_|gsk_|xox|gh[pousr]_|github_pat_|glpat-|AKIA|ASIA|AIza/i;

/**
 * Replaces secrets embedded in a string by their shape, for secrets the config never saw:
 * Telegram bot tokens (bare and in `/bot<token>/` URLs), URL credentials (`user:password@`),
 * `Authorization`, `x-api-key` and similar headers (also as `name: value` lines of a stderr
 * tail), bearer and basic credentials, secret query parameters (`key=`, `token=`, `api_key=`...),
 * `NAME_KEY=`/`NAME_TOKEN=` assignments, and provider key shapes (`sk-`, `sk-proj-`, `gsk_`,
 * `xoxb-`, `ghp_`, `github_pat_`, `glpat-`, `AKIA...`, `AIza...`, `whsec_`). Secrets the config
 * holds are masked by value as well: see {@link SecretMasker}.
 *
 * @example
 * ```ts
 * redactSecrets('GET https://api.telegram.org/bot123:AAE-x/getMe failed');
 * // 'GET https://api.telegram.org/bot[redacted]/getMe failed'
 * redactSecrets('x-api-key: abc123'); // 'x-api-key: [redacted]'
 * ```
 */
export function redactSecrets(text: string): string {
  // Most text holds none of the markers every pattern needs: one scan instead of one per pattern.
  if (!MIGHT_HOLD_SECRET.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) {
    out = out.replace(pattern, replacement as string);
  }
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
  'x-api-key',
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
 * Returns a copy of `value` with secret keys masked and secrets inside strings redacted (by
 * `mask`, {@link redactSecrets} unless given, e.g. a host's {@link SecretMasker}). Depth and
 * breadth are bounded so a huge or cyclic object cannot stall logging.
 *
 * @example
 * ```ts
 * redactValue({ token: 'abc', url: 'https://u:p@db.example/x' });
 * // { token: '[redacted]', url: 'https://u:[redacted]@db.example/x' }
 * ```
 */
export function redactValue(
  value: unknown,
  depth = 0,
  seen = new WeakSet<object>(),
  mask: (text: string) => string = redactSecrets,
): unknown {
  if (typeof value === 'string') return mask(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 8 || seen.has(value)) return '[…]';
  seen.add(value);
  if (value instanceof Error) {
    const err: Record<string, unknown> = {
      type: value.name,
      message: mask(value.message),
      stack: value.stack ? mask(value.stack) : undefined,
    };
    for (const [k, v] of Object.entries(value)) {
      err[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : redactValue(v, depth + 1, seen, mask);
    }
    if (value.cause !== undefined) err.cause = redactValue(value.cause, depth + 1, seen, mask);
    return err;
  }
  if (Array.isArray(value)) {
    return value.slice(0, 100).map((v) => redactValue(v, depth + 1, seen, mask));
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : redactValue(v, depth + 1, seen, mask);
  }
  return out;
}
