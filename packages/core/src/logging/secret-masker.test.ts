import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskingLogger } from './create-logger.js';
import { redactSecrets } from './redact.js';
import { MIN_SECRET_LENGTH, SecretMasker, secretOptionValues } from './secret-masker.js';

describe('SecretMasker', () => {
  it('masks registered values, their URL-encoded and JSON-escaped forms, longest first', () => {
    const masker = new SecretMasker(['p@ss/word+1', 'p@ss/word+1-and-more', 'quote"d-secret']);
    expect(masker.mask('a p@ss/word+1-and-more b p@ss/word+1 c')).toBe(
      'a [redacted] b [redacted] c',
    );
    expect(masker.mask(`dsn?pw=${encodeURIComponent('p@ss/word+1')}`)).toBe('dsn?pw=[redacted]');
    expect(masker.mask(JSON.stringify({ v: 'quote"d-secret' }))).toBe('{"v":"[redacted]"}');
  });

  it(`does not mask values shorter than ${MIN_SECRET_LENGTH} characters by value`, () => {
    const masker = new SecretMasker(['abc', '12345', 'abcdef']);
    expect(masker.mask('abc 12345 abcdef')).toBe('abc 12345 [redacted]');
    expect(masker.size).toBeGreaterThan(0);
  });

  it('registers the password of a URL on its own', () => {
    const masker = new SecretMasker(['postgres://app:s3cr3t%21pw@db:5432/app']);
    expect(masker.mask('auth failed for password s3cr3t!pw')).toBe(
      'auth failed for password [redacted]',
    );
  });

  it('escapes values with regular expression characters and takes new values at any time', () => {
    const masker = new SecretMasker();
    expect(masker.mask('a.b*c(d)e')).toBe('a.b*c(d)e');
    masker.add('a.b*c(d)e');
    expect(masker.mask('x a.b*c(d)e y aXb*c(d)e')).toBe('x [redacted] y aXb*c(d)e');
    expect(masker.containsSecret('..a.b*c(d)e')).toBe(true);
  });

  it('masks JSON values deeply and returns the same value when nothing changed', () => {
    const masker = new SecretMasker(['topsecret-1']);
    const clean = { a: ['x', { b: 1 }] };
    expect(masker.maskJson(clean)).toBe(clean);
    expect(masker.maskJson({ a: ['x', { b: 'is topsecret-1' }], n: 2 })).toEqual({
      a: ['x', { b: 'is [redacted]' }],
      n: 2,
    });
  });

  it('finds secret plugin options by key name and by the plugin list', () => {
    expect(
      secretOptionValues(
        {
          token: '123:abc',
          port: 8080,
          api: { token: 'api-token' },
          routes: [{ path: '/gh', verify: { secret: ['s1', 's2'] } }],
          healthAuth: 'bearer',
          dsn: 'postgres://u:p@h/db',
        },
        ['dsn'],
      ),
    ).toEqual(['123:abc', 'api-token', 's1', 's2', 'postgres://u:p@h/db']);
  });
});

describe('secret patterns (for secrets the config never saw)', () => {
  it.each([
    ['OpenAI project key', 'key sk-proj-AbCdEf0123456789ghijklMN', 'key sk-proj-[redacted]'],
    ['OpenAI key', 'sk-AbCdEf0123456789ghijkl.', 'sk-[redacted].'],
    ['Groq key', 'gsk_AbCdEf0123456789ghijkl', 'gsk_[redacted]'],
    ['Slack bot token', 'xoxb-123456789012-abcdefABCDEF', 'xoxb-[redacted]'],
    ['Slack user token', 'xoxp-123456789012-abcdefABCDEF', 'xoxp-[redacted]'],
    ['GitHub token', 'ghp_0123456789abcdefghijABCDEFGHIJ', 'ghp_[redacted]'],
    ['GitHub OAuth token', 'gho_0123456789abcdefghijABCDEFGHIJ', 'gho_[redacted]'],
    [
      'GitHub fine-grained PAT',
      'github_pat_11ABCDEFG0123456789_abcdefXYZ',
      'github_pat_[redacted]',
    ],
    ['AWS access key id', 'id AKIAIOSFODNN7EXAMPLE end', 'id [redacted] end'],
    ['Standard Webhooks secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_[redacted]'],
    [
      'Telegram bot token',
      'token 123456789:AAHk-some_SECRET-token0123456789abc',
      'token [redacted]',
    ],
    [
      'Telegram URL',
      'https://api.telegram.org/bot123:AAE-x/getMe',
      'https://api.telegram.org/bot[redacted]/getMe',
    ],
    [
      'URL credentials',
      'redis://user:pa55word@cache:6379/0',
      'redis://user:[redacted]@cache:6379/0',
    ],
    [
      'query key',
      'GET /v1/models?key=AIzaSecret&alt=json',
      'GET /v1/models?key=[redacted]&alt=json',
    ],
    [
      'query token',
      'https://x.test/cb?code=1&token=abc',
      'https://x.test/cb?code=1&token=[redacted]',
    ],
    ['query api_key', 'https://x.test/?api_key=abc', 'https://x.test/?api_key=[redacted]'],
    [
      'x-api-key header in a stderr tail',
      '> x-api-key: abc123def\n> accept: */*',
      '> x-api-key: [redacted]\n> accept: */*',
    ],
    ['Authorization header', 'Authorization: Token abc123', 'Authorization: Token [redacted]'],
    ['Bearer credential', 'authorization=Bearer abc.def-123', 'authorization=Bearer [redacted]'],
    ['JSON header', '{"x-api-key":"abc123","a":1}', '{"x-api-key":"[redacted]","a":1}'],
    ['environment line', 'OPENAI_API_KEY=abc123 node x.js', 'OPENAI_API_KEY=[redacted] node x.js'],
  ])('%s', (_name, text, masked) => {
    expect(redactSecrets(text)).toBe(masked);
  });

  it('leaves ordinary text alone', () => {
    for (const text of [
      'task 8f3a finished in 1200 ms at 12:30:45',
      'https://api.example.com/v1/chat/completions?model=gpt&stream=false',
      'the skeleton key of sk-short',
      'Authorization failed',
    ]) {
      expect(redactSecrets(text)).toBe(text);
    }
  });
});

describe('loggers with a host masker', () => {
  function capture() {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    return { destination, text: () => chunks.join('') };
  }

  it('the default logger masks the host secrets in messages, objects and errors', () => {
    const masker = new SecretMasker(['my-db-password-1']);
    const out = capture();
    const logger = createLogger({ destination: out.destination, pretty: false, masker });
    logger.info('connecting with my-db-password-1');
    logger.warn({ detail: { text: 'pw my-db-password-1' } }, 'retry');
    logger.error({ err: new Error('auth failed: my-db-password-1') }, 'failed');
    expect(out.text()).not.toContain('my-db-password-1');
    // The message, the object, and the error's message and stack.
    expect(out.text().match(/\[redacted\]/g)).toHaveLength(4);
  });

  it('a logger of your own is wrapped so it never sees a secret', () => {
    const masker = new SecretMasker(['my-db-password-1']);
    const out = capture();
    const own = createLogger({ destination: out.destination, pretty: false });
    const logger = maskingLogger(own, masker).child({ plugin: 'db' });
    logger.info({ note: 'my-db-password-1' }, 'pw my-db-password-1');
    logger.debug('x');
    expect(out.text()).not.toContain('my-db-password-1');
    expect(JSON.parse(out.text())).toMatchObject({ plugin: 'db', note: '[redacted]' });
  });
});
