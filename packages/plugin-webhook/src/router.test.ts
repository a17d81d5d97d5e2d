import { describe, expect, it } from 'vitest';
import { Router } from './router.js';

describe('Router', () => {
  it('matches exact paths first, then :params and wildcard tails', () => {
    const r = new Router<string>();
    r.add(['GET'], '/tasks', 'list');
    r.add(['GET'], '/tasks/:id', 'get');
    r.add(['POST'], '/tasks/:id/cancel', 'cancel');
    r.add(['GET'], '/files/*', 'files');
    expect(r.match('GET', '/tasks')).toEqual({ kind: 'found', value: 'list', params: {} });
    expect(r.match('GET', '/tasks/t%2F1')).toEqual({
      kind: 'found',
      value: 'get',
      params: { id: 't/1' },
    });
    expect(r.match('POST', '/tasks/9/cancel')).toMatchObject({ params: { id: '9' } });
    expect(r.match('GET', '/files/a/b.txt')).toMatchObject({ params: { '*': 'a/b.txt' } });
    expect(r.match('GET', '/tasks/')).toEqual({ kind: 'none' });
    expect(r.match('GET', '/nope')).toEqual({ kind: 'none' });
  });

  it('answers HEAD from GET and lists allowed methods', () => {
    const r = new Router<string>();
    r.add(['GET'], '/live', 'live');
    expect(r.match('HEAD', '/live')).toMatchObject({ kind: 'found', value: 'live' });
    expect(r.match('POST', '/live')).toEqual({ kind: 'method', allowed: ['GET', 'HEAD'] });
  });

  it('refuses a taken method and path, and frees it on removal', () => {
    const r = new Router<string>();
    const remove = r.add(['POST'], '/hooks/a', 'one');
    expect(() => r.add(['POST'], '/hooks/a', 'two')).toThrow('already mounted');
    r.add(['GET'], '/x/:a', 'p');
    expect(() => r.add(['GET'], '/x/:b', 'q')).toThrow('already mounted');
    remove();
    expect(r.match('POST', '/hooks/a')).toEqual({ kind: 'none' });
    r.add(['POST'], '/hooks/a', 'two');
    expect(r.match('POST', '/hooks/a')).toMatchObject({ value: 'two' });
  });

  it('refuses malformed patterns', () => {
    const r = new Router<string>();
    expect(() => r.add(['GET'], 'live', 'x')).toThrow('must start with "/"');
    expect(() => r.add(['GET'], '/a/*/b', 'x')).toThrow('last segment');
    expect(() => r.add(['GET'], '/a/:', 'x')).toThrow('empty :param');
  });
});
