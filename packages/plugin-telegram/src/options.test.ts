import { describe, expect, it } from 'vitest';
import { telegramOptionsSchema } from './options.js';

describe('telegramOptionsSchema', () => {
  it('fills in defaults and normalises user ids to strings', () => {
    const options = telegramOptionsSchema.parse({
      token: '123:abc-DEF_9',
      allowedUsers: [42, '5000000123'],
      apiRoot: 'http://127.0.0.1:8081/',
    });
    expect(options).toMatchObject({
      name: 'telegram',
      allowedUsers: ['42', '5000000123'],
      apiRoot: 'http://127.0.0.1:8081',
      pollTimeoutSeconds: 30,
      maxRetryDelaySeconds: 30,
    });
  });

  it('names each bad option by its path, without repeating the token', () => {
    const result = telegramOptionsSchema.safeParse({
      token: 'my-secret-password',
      allowedUsers: ['@alice'],
      pollTimeoutSeconds: 90,
      colour: 'blue',
    });
    expect(result.success).toBe(false);
    const issues = result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues.join('\n')).toMatch(/^token: must look like a bot token/m);
    expect(issues.join('\n')).toMatch(/^allowedUsers/m);
    expect(issues.join('\n')).toMatch(/^pollTimeoutSeconds/m);
    expect(JSON.stringify(result.error)).not.toContain('my-secret-password');
  });

  it('takes alert chats as numbers or numeric strings, groups included', () => {
    const options = telegramOptionsSchema.parse({
      token: '1:a',
      allowedUsers: '*',
      alerts: { chats: [42, '-100123'] },
    });
    expect(options.alerts).toEqual({ chats: ['42', '-100123'], minSeverity: 'warning' });
    const bad = telegramOptionsSchema.safeParse({
      token: '1:a',
      allowedUsers: '*',
      alerts: { chats: ['@ops'], minSeverity: 'loud' },
    });
    expect(bad.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'alerts.chats.0',
      'alerts.minSeverity',
    ]);
  });

  it('takes only webhook URLs Telegram can call and route paths the server takes literally', () => {
    const parse = (webhook: object) =>
      telegramOptionsSchema.safeParse({ token: '1:a', allowedUsers: '*', webhook });
    expect(parse({ url: 'https://bot.example.com/tg', secretToken: 'abc' }).success).toBe(true);
    expect(parse({ url: 'https://bot.example.com:8443/tg', secretToken: 'abc' }).success).toBe(
      true,
    );
    const messages = (webhook: object) =>
      parse(webhook).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(messages({ url: 'http://bot.example.com/tg', secretToken: 'abc' })).toEqual([
      'webhook.url: must be an https:// URL (Telegram calls only HTTPS)',
    ]);
    expect(messages({ url: 'https://bot.example.com:8787/tg', secretToken: 'abc' })).toEqual([
      'webhook.url: must use port 443, 80, 88 or 8443 (the only ones Telegram calls)',
    ]);
    expect(messages({ url: 'https://bot.example.com/:id', secretToken: 'a' })).toHaveLength(1);
    expect(messages({ url: 'https://x.example/tg', secretToken: 'a', path: '/tg?x=1' })).toEqual([
      'webhook.path: must start with / and hold plain segments (no ?, #, : or * segments)',
    ]);
    expect(messages({ url: 'https://x.example/tg', secretToken: 'has space' })[0]).toMatch(
      /^webhook\.secretToken: must be 1 to 256 of/,
    );
  });

  it('asks for the environment variable when the token is empty', () => {
    const result = telegramOptionsSchema.safeParse({ token: '', allowedUsers: '*' });
    expect(result.error?.issues[0]?.message).toMatch(/TELEGRAM_BOT_TOKEN/);
  });
});
