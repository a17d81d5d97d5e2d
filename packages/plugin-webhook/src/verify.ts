import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The outcome of a signature check. The reason is for debug logs only: every failure gets the
 * same 401 answer, so a sender cannot learn which part was wrong.
 */
export type VerifyResult =
  | { ok: true; deliveryId: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/**
 * Standard Webhooks' tolerance, both ways: 5 minutes.
 *
 * @example
 * ```ts
 * verifyStandardWebhook(headers, body, keys, Date.now() / 1000, DEFAULT_TOLERANCE_SECONDS);
 * ```
 */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * The HMAC key of a Standard Webhooks secret: the base64 after `whsec_`, decoded. Using the
 * `whsec_...` string itself as the key is a classic mistake that never verifies.
 *
 * @example
 * ```ts
 * standardWebhooksKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'); // 24-byte Buffer
 * ```
 */
export function standardWebhooksKey(secret: string): Buffer {
  const encoded = secret.startsWith('whsec_') ? secret.slice(6) : secret;
  if (!BASE64.test(encoded) || encoded.length % 4 === 1) {
    throw new TypeError('a Standard Webhooks secret is base64, optionally prefixed with whsec_');
  }
  return Buffer.from(encoded, 'base64');
}

/**
 * Verifies a Standard Webhooks request: `webhook-id`, `webhook-timestamp` (Unix seconds, within
 * `toleranceSeconds` of `nowSeconds` either way) and `webhook-signature` (space-separated
 * `v1,<base64>` entries; any one that matches any key passes; other versions are skipped).
 * The signed content is `${id}.${timestamp}.` followed by the exact body bytes.
 *
 * @example
 * ```ts
 * const r = verifyStandardWebhook(req.headers, body, [standardWebhooksKey(secret)], Date.now() / 1000);
 * if (!r.ok) throw unauthorized;
 * ```
 */
export function verifyStandardWebhook(
  headers: IncomingHttpHeaders,
  body: Buffer,
  keys: readonly Buffer[],
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): VerifyResult {
  const id = single(headers['webhook-id']);
  const timestamp = single(headers['webhook-timestamp']);
  const signatures = single(headers['webhook-signature']);
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'missing' };
  if (!/^\d{1,15}$/.test(timestamp)) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) {
    return { ok: false, reason: 'stale' };
  }
  const candidates: Buffer[] = [];
  for (const entry of signatures.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma === -1 || entry.slice(0, comma) !== 'v1') continue;
    const encoded = entry.slice(comma + 1);
    if (!BASE64.test(encoded)) continue;
    const decoded = Buffer.from(encoded, 'base64');
    if (decoded.length === 32) candidates.push(decoded);
  }
  if (candidates.length === 0) return { ok: false, reason: 'malformed' };
  // Handed to the HMAC as text (UTF-8, as Buffer.from would encode it): no buffer per delivery.
  const prefix = `${id}.${timestamp}.`;
  for (const key of keys) {
    const expected = createHmac('sha256', key).update(prefix).update(body).digest();
    if (anyEqual(expected, candidates)) return { ok: true, deliveryId: id };
  }
  return { ok: false, reason: 'mismatch' };
}

/**
 * Verifies a GitHub delivery: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.
 * GitHub signs no timestamp, so replays are stopped by de-duplicating on `X-GitHub-Delivery`
 * (the delivery id returned; a SHA-256 of the body when the header is absent).
 *
 * @example
 * ```ts
 * const r = verifyGithub(req.headers, body, [Buffer.from(process.env.GITHUB_WEBHOOK_SECRET!)]);
 * ```
 */
export function verifyGithub(
  headers: IncomingHttpHeaders,
  body: Buffer,
  secrets: readonly Buffer[],
): VerifyResult {
  const signature = single(headers['x-hub-signature-256']);
  if (!signature) return { ok: false, reason: 'missing' };
  if (!signature.startsWith('sha256=') || !HEX_SHA256.test(signature.slice(7))) {
    return { ok: false, reason: 'malformed' };
  }
  const given = Buffer.from(signature.slice(7), 'hex');
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest();
    if (timingSafeEqual(expected, given)) {
      return { ok: true, deliveryId: single(headers['x-github-delivery']) ?? bodyDigest(body) };
    }
  }
  return { ok: false, reason: 'mismatch' };
}

/** Options of {@link verifyHmac}: how a home-made sender signs. */
export interface HmacOptions {
  /** Header holding the signature (lower-case). */
  header: string;
  /** What precedes the digest in the header, e.g. `sha256=`; may be empty. */
  prefix: string;
  encoding: 'hex' | 'base64';
  /** Header with the delivery id; when absent from a request, a SHA-256 of the body is used. */
  idHeader: string;
  /**
   * Header with a Unix-seconds timestamp. When set, it is required, must be within the
   * tolerance, and the signed content is `${timestamp}.` followed by the body.
   */
  timestampHeader?: string;
  toleranceSeconds: number;
}

/**
 * Verifies a generic HMAC-SHA256 signature over the raw body (optionally prefixed with a signed
 * timestamp), for senders of your own.
 *
 * @example
 * ```ts
 * verifyHmac(req.headers, body, [Buffer.from(secret)], Date.now() / 1000, {
 *   header: 'x-signature', prefix: 'sha256=', encoding: 'hex', idHeader: 'x-delivery-id', toleranceSeconds: 300,
 * });
 * ```
 */
export function verifyHmac(
  headers: IncomingHttpHeaders,
  body: Buffer,
  secrets: readonly Buffer[],
  nowSeconds: number,
  options: HmacOptions,
): VerifyResult {
  const signature = single(headers[options.header]);
  if (!signature) return { ok: false, reason: 'missing' };
  if (!signature.startsWith(options.prefix)) return { ok: false, reason: 'malformed' };
  const encoded = signature.slice(options.prefix.length);
  const valid = options.encoding === 'hex' ? HEX_SHA256.test(encoded) : BASE64.test(encoded);
  if (!valid) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(encoded, options.encoding);
  if (given.length !== 32) return { ok: false, reason: 'malformed' };
  let timestamp: string | undefined;
  if (options.timestampHeader) {
    timestamp = single(headers[options.timestampHeader]);
    if (!timestamp) return { ok: false, reason: 'missing' };
    if (!/^\d{1,15}$/.test(timestamp)) return { ok: false, reason: 'malformed' };
    if (Math.abs(nowSeconds - Number(timestamp)) > options.toleranceSeconds) {
      return { ok: false, reason: 'stale' };
    }
  }
  for (const secret of secrets) {
    const hmac = createHmac('sha256', secret);
    if (timestamp !== undefined) hmac.update(`${timestamp}.`);
    if (timingSafeEqual(hmac.update(body).digest(), given)) {
      return { ok: true, deliveryId: single(headers[options.idHeader]) ?? bodyDigest(body) };
    }
  }
  return { ok: false, reason: 'mismatch' };
}

/**
 * `sha256:<hex>` of the body: the delivery id of senders that send none.
 *
 * @example
 * ```ts
 * bodyDigest(Buffer.from('')); // 'sha256:e3b0c442…'
 * ```
 */
export function bodyDigest(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

function anyEqual(expected: Buffer, candidates: readonly Buffer[]): boolean {
  // Compare with every candidate, not stopping at the first match: the work done does not
  // depend on which entry matched.
  let found = false;
  for (const c of candidates) if (timingSafeEqual(expected, c)) found = true;
  return found;
}

function single(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const trimmed = v.trim();
  return trimmed === '' ? undefined : trimmed;
}
