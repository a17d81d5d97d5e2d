import { createToken } from '../kernel/token.js';
import { REDACTED, redactSecrets, redactValue } from './redact.js';

/**
 * Secrets shorter than this are not masked by value: a 3-character password would turn every
 * occurrence of those three letters in logs and replies into `[redacted]`. Pattern masking
 * ({@link redactSecrets}) still applies to them.
 */
export const MIN_SECRET_LENGTH = 6;

/** Option keys treated as secret in every plugin's options (matched case-insensitively, at any depth). */
const SECRET_OPTION_KEY =
  /token|secret|passw(or)?d|passphrase|api[_-]?key|private[_-]?key|credential|authorization/i;

/**
 * Masks a host's secrets wherever text leaves the process. It knows secrets two ways:
 * - by value: every value the config filled in from `${ENV}`, every plugin option a plugin
 *   marks as secret (`secretOptions`, or keys named like `token`, `secret`, `password`,
 *   `apiKey`), and the password of every URL among them, each also in its URL-encoded and
 *   JSON-escaped form. All are matched by one precompiled regular expression (longest first);
 *   values shorter than {@link MIN_SECRET_LENGTH} are not masked by value;
 * - by shape ({@link redactSecrets}): URL credentials, credential headers, secret query
 *   parameters and common provider key shapes, for secrets the config never saw.
 *
 * A host makes one and provides it as {@link SecretMaskerToken}; its logger, the task runner
 * (task errors and results, replies), the HTTP API and the CLI apply it to what they write.
 *
 * @example
 * ```ts
 * const masker = new SecretMasker(['sk-live-0123456789']);
 * masker.mask('provider said: bad key sk-live-0123456789'); // 'provider said: bad key [redacted]'
 * const masker2 = ctx.resolve(SecretMaskerToken); // in a plugin
 * masker2.add(tokenFetchedAtRuntime);
 * res.end(masker2.mask(JSON.stringify(body)));
 * ```
 */
export class SecretMasker {
  readonly #values = new Set<string>();
  /** Rebuilt on the first mask after an `add`; undefined while there is nothing to match. */
  #matcher: RegExp | undefined;
  #dirty = false;

  constructor(values: Iterable<string> = []) {
    for (const v of values) this.add(v);
  }

  /**
   * Registers a secret value (ignored when not a string or shorter than {@link MIN_SECRET_LENGTH}).
   * Its URL-encoded and JSON-escaped forms are registered with it. Returns `this`.
   */
  add(value: unknown): this {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return this;
    for (const form of [value, safeEncode(value), JSON.stringify(value).slice(1, -1)]) {
      if (form !== undefined && !this.#values.has(form)) {
        this.#values.add(form);
        this.#dirty = true;
      }
    }
    // A URL with a password (a database DSN): its password is a secret on its own.
    const password = urlPassword(value);
    if (password !== undefined) this.add(password);
    return this;
  }

  /** How many values (including encoded forms) are masked by value. */
  get size(): number {
    return this.#values.size;
  }

  /** Whether `text` contains a registered secret value (not pattern matches). */
  containsSecret(text: string): boolean {
    const matcher = this.#compiled();
    if (!matcher) return false;
    matcher.lastIndex = 0;
    return matcher.test(text);
  }

  /**
   * `text` with every registered secret value and every secret-shaped string replaced by
   * `[redacted]`.
   */
  mask(text: string): string {
    const matcher = this.#compiled();
    const byValue = matcher ? text.replace(matcher, REDACTED) : text;
    return redactSecrets(byValue);
  }

  /**
   * A JSON-like value with every string masked ({@link mask}); returns the same value when
   * nothing in it changed, so clean results cost no copy.
   */
  maskJson<T>(value: T): T {
    return maskDeep(value, (s) => this.mask(s), 0) as T;
  }

  /**
   * For log objects: secret-named keys masked, every string masked, bounded in depth and
   * breadth (see {@link redactValue}).
   */
  redact(value: unknown): unknown {
    return redactValue(value, 0, new WeakSet(), (s) => this.mask(s));
  }

  #compiled(): RegExp | undefined {
    if (this.#dirty) {
      this.#dirty = false;
      const sorted = [...this.#values].sort((a, b) => b.length - a.length);
      this.#matcher = sorted.length
        ? new RegExp(sorted.map((v) => v.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|'), 'g')
        : undefined;
    }
    return this.#matcher;
  }
}

function safeEncode(value: string): string | undefined {
  try {
    return encodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function urlPassword(value: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*:[^/]*@/i.test(value)) return undefined;
  try {
    const password = new URL(value).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

function maskDeep(value: unknown, mask: (s: string) => string, depth: number): unknown {
  if (typeof value === 'string') return mask(value);
  if (typeof value !== 'object' || value === null || depth > 64) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const m = maskDeep(v, mask, depth + 1);
      if (m === v) return;
      out ??= [...value];
      out[i] = m;
    });
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const m = maskDeep(v, mask, depth + 1);
    if (m !== v) {
      out ??= { ...(value as Record<string, unknown>) };
      out[k] = m;
    }
  }
  return out ?? value;
}

/**
 * The secret string values in a plugin's options: those under keys named like a secret
 * (`token`, `secret`, `password`, `apiKey`, `authorization`...) or listed in `secretOptions`,
 * at any depth.
 *
 * @example
 * ```ts
 * secretOptionValues({ token: '123:AA...', routes: [{ path: '/gh', secret: 'xyz123' }] });
 * // ['123:AA...', 'xyz123']
 * ```
 */
export function secretOptionValues(
  options: unknown,
  secretOptions: readonly string[] = [],
): string[] {
  const extra = new Set(secretOptions.map((k) => k.toLowerCase()));
  const found: string[] = [];
  const walk = (value: unknown, secret: boolean, depth: number): void => {
    if (depth > 16) return;
    if (typeof value === 'string') {
      if (secret) found.push(value);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      for (const v of value) walk(v, secret, depth + 1);
      return;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return;
    for (const [k, v] of Object.entries(value)) {
      walk(v, secret || SECRET_OPTION_KEY.test(k) || extra.has(k.toLowerCase()), depth + 1);
    }
  };
  walk(options, false, 0);
  return found;
}

/**
 * The host's {@link SecretMasker}, a kernel service: plugins resolve it to mask what they
 * write out (HTTP responses, messages) or to {@link SecretMasker.add} secrets they learn at
 * runtime.
 *
 * @example
 * ```ts
 * const masker = ctx.resolve(SecretMaskerToken);
 * res.end(masker.mask(JSON.stringify(body)));
 * ```
 */
export const SecretMaskerToken = createToken<SecretMasker>('agentd.secrets');
