import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signGithub, signStandard } from './test-support.js';
import {
  bodyDigest,
  standardWebhooksKey,
  verifyGithub,
  verifyHmac,
  verifyStandardWebhook,
} from './verify.js';

describe('GitHub X-Hub-Signature-256', () => {
  // GitHub's documented test vector (docs: "Validating webhook deliveries").
  const secret = "It's a Secret to Everybody";
  const body = Buffer.from('Hello, World!');
  const vector = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

  it('accepts the official test vector and returns the delivery id', () => {
    expect(signGithub(secret, body)).toBe(vector);
    expect(
      verifyGithub({ 'x-hub-signature-256': vector, 'x-github-delivery': 'd-1' }, body, [
        Buffer.from(secret),
      ]),
    ).toEqual({ ok: true, deliveryId: 'd-1' });
  });

  it('falls back to a digest of the body when there is no delivery id', () => {
    expect(verifyGithub({ 'x-hub-signature-256': vector }, body, [Buffer.from(secret)])).toEqual({
      ok: true,
      deliveryId: bodyDigest(body),
    });
  });

  it('tries every secret (rotation)', () => {
    const keys = [Buffer.from('old secret'), Buffer.from(secret)];
    expect(verifyGithub({ 'x-hub-signature-256': vector }, body, keys).ok).toBe(true);
  });

  it.each([
    ['missing', {}, 'missing'],
    ['empty', { 'x-hub-signature-256': '' }, 'missing'],
    ['sha1 instead', { 'x-hub-signature-256': `sha1=${'a'.repeat(40)}` }, 'malformed'],
    ['truncated', { 'x-hub-signature-256': vector.slice(0, -2) }, 'malformed'],
    ['not hex', { 'x-hub-signature-256': `sha256=${'z'.repeat(64)}` }, 'malformed'],
    ['wrong', { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, 'mismatch'],
  ])('refuses a %s signature', (_name, headers, reason) => {
    expect(verifyGithub(headers, body, [Buffer.from(secret)])).toEqual({ ok: false, reason });
  });

  it('refuses a body that differs by one byte (a BOM, a re-serialisation)', () => {
    const key = [Buffer.from(secret)];
    const h = { 'x-hub-signature-256': vector };
    expect(verifyGithub(h, Buffer.from('\uFEFFHello, World!'), key).ok).toBe(false);
    expect(verifyGithub(h, Buffer.from('Hello, World! '), key).ok).toBe(false);
  });
});

describe('Standard Webhooks', () => {
  // The reference library's fixed vector (standard-webhooks, libraries/javascript, "sign function works").
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const ts = 1614265330;
  const body = Buffer.from('{"test": 2432232314}');
  const vector = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
  const key = standardWebhooksKey(secret);
  const headers = (over: Record<string, string | undefined> = {}) => {
    const h: Record<string, string> = {};
    const all = {
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': vector,
      ...over,
    };
    for (const [k, v] of Object.entries(all)) if (v !== undefined) h[k] = v;
    return h;
  };
  const verify = (h: Record<string, string>, b = body, now = ts, keys = [key]) =>
    verifyStandardWebhook(h, b, keys, now);

  it('reproduces and accepts the reference vector', () => {
    expect(signStandard(key, id, ts, body)).toBe(vector);
    expect(verify(headers())).toEqual({ ok: true, deliveryId: id });
  });

  it('decodes the secret with or without the whsec_ prefix', () => {
    expect(standardWebhooksKey(secret.slice(6))).toEqual(key);
    expect(key).toHaveLength(24);
  });

  it('never verifies with the whsec_ string used undecoded as the key', () => {
    const wrongKey = Buffer.from(secret);
    const forged = `v1,${createHmac('sha256', wrongKey).update(`${id}.${ts}.`).update(body).digest('base64')}`;
    expect(verify(headers({ 'webhook-signature': forged })).ok).toBe(false);
    expect(verify(headers(), body, ts, [wrongKey]).ok).toBe(false);
  });

  it('accepts the valid signature anywhere in a list, skipping other versions', () => {
    const other = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    const v2 = 'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    expect(verify(headers({ 'webhook-signature': `${other} ${vector}` })).ok).toBe(true);
    expect(verify(headers({ 'webhook-signature': `${v2} ${other} ${vector} ${other}` })).ok).toBe(
      true,
    );
  });

  it('is 5 minutes tolerant both ways, and no more', () => {
    expect(verify(headers(), body, ts + 300).ok).toBe(true);
    expect(verify(headers(), body, ts - 300).ok).toBe(true);
    expect(verify(headers(), body, ts + 301)).toEqual({ ok: false, reason: 'stale' });
    expect(verify(headers(), body, ts - 301)).toEqual({ ok: false, reason: 'stale' });
  });

  it.each([
    ['no id', { 'webhook-id': undefined }, 'missing'],
    ['an empty id', { 'webhook-id': '' }, 'missing'],
    ['no timestamp', { 'webhook-timestamp': undefined }, 'missing'],
    ['no signature', { 'webhook-signature': undefined }, 'missing'],
    ['an empty signature', { 'webhook-signature': '' }, 'missing'],
    ['a non-integer timestamp', { 'webhook-timestamp': '1614265330.5' }, 'malformed'],
    ['a word for a timestamp', { 'webhook-timestamp': 'hello' }, 'malformed'],
    ['a negative timestamp', { 'webhook-timestamp': '-1614265330' }, 'malformed'],
    ['only unknown versions', { 'webhook-signature': vector.replace('v1,', 'v1a,') }, 'malformed'],
    ['bad base64', { 'webhook-signature': 'v1,dawfeoifkpqwoekfpqoekf!!' }, 'malformed'],
    ['a truncated signature', { 'webhook-signature': vector.slice(0, 8) }, 'malformed'],
    ['an empty v1 entry', { 'webhook-signature': 'v1,' }, 'malformed'],
    ['a signature for another id', { 'webhook-id': 'msg_other' }, 'mismatch'],
  ])('refuses %s', (_name, over, reason) => {
    expect(verify(headers(over))).toEqual({ ok: false, reason });
  });

  it('verifies the exact bytes: a BOM, a re-serialised body or an empty body fail', () => {
    expect(verify(headers(), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body])).ok).toBe(
      false,
    );
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString())));
    expect(reserialised.equals(body)).toBe(false);
    expect(verify(headers(), reserialised).ok).toBe(false);
    expect(verify(headers(), Buffer.alloc(0)).ok).toBe(false);
  });

  it('rejects secrets that are not base64', () => {
    expect(() => standardWebhooksKey('whsec_not base64!')).toThrow(/base64/);
  });
});

describe('generic HMAC-SHA256', () => {
  const secret = 'home-made secret';
  const body = Buffer.from('{"event":"backup.done"}');
  const base = {
    header: 'x-signature',
    prefix: 'sha256=',
    encoding: 'hex' as const,
    idHeader: 'x-delivery-id',
    toleranceSeconds: 300,
  };
  const hex = createHmac('sha256', secret).update(body).digest('hex');

  it('accepts hex with a prefix, and uses the id header or the body digest', () => {
    const keys = [Buffer.from(secret)];
    expect(
      verifyHmac({ 'x-signature': `sha256=${hex}`, 'x-delivery-id': 'b-7' }, body, keys, 0, base),
    ).toEqual({ ok: true, deliveryId: 'b-7' });
    expect(verifyHmac({ 'x-signature': `sha256=${hex}` }, body, keys, 0, base)).toEqual({
      ok: true,
      deliveryId: bodyDigest(body),
    });
  });

  it('accepts base64 without a prefix when so configured', () => {
    const b64 = createHmac('sha256', secret).update(body).digest('base64');
    const opts = { ...base, prefix: '', encoding: 'base64' as const };
    expect(verifyHmac({ 'x-signature': b64 }, body, [Buffer.from(secret)], 0, opts).ok).toBe(true);
  });

  it('signs and checks a timestamp when one is configured', () => {
    const opts = { ...base, timestampHeader: 'x-timestamp' };
    const now = 1_700_000_000;
    const sig = createHmac('sha256', secret).update(`${now}.`).update(body).digest('hex');
    const h = { 'x-signature': `sha256=${sig}`, 'x-timestamp': String(now) };
    const keys = [Buffer.from(secret)];
    expect(verifyHmac(h, body, keys, now + 10, opts).ok).toBe(true);
    expect(verifyHmac(h, body, keys, now + 301, opts)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyHmac({ 'x-signature': h['x-signature'] }, body, keys, now, opts)).toEqual({
      ok: false,
      reason: 'missing',
    });
    expect(verifyHmac({ ...h, 'x-timestamp': 'soon' }, body, keys, now, opts)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it.each([
    ['missing', {}, 'missing'],
    ['without its prefix', { 'x-signature': hex }, 'malformed'],
    ['truncated', { 'x-signature': `sha256=${hex.slice(0, 60)}` }, 'malformed'],
    ['wrong', { 'x-signature': `sha256=${'1'.repeat(64)}` }, 'mismatch'],
  ])('refuses a signature %s', (_name, headers, reason) => {
    expect(verifyHmac(headers, body, [Buffer.from(secret)], 0, base)).toEqual({
      ok: false,
      reason,
    });
  });
});
