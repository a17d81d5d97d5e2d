import { describe, expect, it } from 'vitest';
import { menuOf } from './command-menu.js';

describe('menuOf', () => {
  it('keeps names Telegram can show, once each, in order, with descriptions cut to 256', () => {
    expect(
      menuOf([
        { name: 'sessions', description: 'List your sessions' },
        { name: 'Shout', description: 'Upper case: Telegram refuses the whole menu' },
        { name: 'sessions', description: 'A second /sessions never answers: the first does' },
        { name: 'long_one', description: 'x'.repeat(300) },
      ]),
    ).toEqual([
      { command: 'sessions', description: 'List your sessions' },
      { command: 'long_one', description: 'x'.repeat(256) },
    ]);
  });

  it('lists at most 100 commands, as Telegram takes', () => {
    const many = Array.from({ length: 120 }, (_, i) => ({ name: `c${i}`, description: 'd' }));
    const menu = menuOf(many);
    expect(menu).toHaveLength(100);
    expect(menu.at(-1)?.command).toBe('c99');
  });
});
