import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../testing/memory-logger.js';
import { redactSecrets, redactValue } from './redact.js';

const BOT_TOKEN = '123456789:AAHk-some_SECRET-token';

describe('redaction', () => {
  it('removes Telegram tokens from /bot<token>/ URLs inside strings', () => {
    expect(redactSecrets(`GET https://api.telegram.org/bot${BOT_TOKEN}/getMe failed`)).toBe(
      'GET https://api.telegram.org/bot[redacted]/getMe failed',
    );
  });

  it('removes bearer credentials, webhook secrets, API keys and secret query parameters', () => {
    const text =
      'Authorization: Bearer abc.def-123 whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw sk-proj1234567890abcdefgh ?token=xyz&x=1';
    const out = redactSecrets(text);
    for (const secret of [
      'abc.def-123',
      'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'proj1234567890abcdefgh',
      'xyz',
    ]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('x=1');
  });

  it('masks secret-named keys at any depth and survives cycles', () => {
    const value: Record<string, unknown> = {
      plugin: { options: { token: 't0p', chatId: 5 } },
      headers: { Authorization: 'x' },
    };
    value.self = value;
    expect(redactValue(value)).toMatchObject({
      plugin: { options: { token: '[redacted]', chatId: 5 } },
      headers: { Authorization: '[redacted]' },
      self: '[…]',
    });
  });

  it('keeps secrets out of every line the default logger writes: messages, objects and errors', () => {
    const { logger, text } = memoryLogger();
    const child = logger.child({ plugin: 'telegram' });
    child.info(`calling https://api.telegram.org/bot${BOT_TOKEN}/sendMessage`);
    child.info(
      { options: { token: BOT_TOKEN }, req: { headers: { authorization: 'Bearer q' } } },
      'config',
    );
    child.error({ err: new Error(`request to /bot${BOT_TOKEN}/getUpdates failed`) }, 'poll failed');
    const log = text();
    expect(log).not.toContain('AAHk-some_SECRET-token');
    expect(log).not.toContain('Bearer q');
    expect(log).toContain('/bot[redacted]/sendMessage');
    expect(log.split('\n').filter(Boolean)).toHaveLength(3);
  });
});
