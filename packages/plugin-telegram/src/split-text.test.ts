import { describe, expect, it } from 'vitest';
import { splitText, TELEGRAM_TEXT_LIMIT } from './split-text.js';

const hasLoneSurrogate = (s: string) =>
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

describe('splitText', () => {
  it('leaves a text within the limit whole, and gives nothing for an empty text', () => {
    expect(splitText('hello')).toEqual(['hello']);
    expect(splitText('x'.repeat(TELEGRAM_TEXT_LIMIT))).toHaveLength(1);
    expect(splitText('')).toEqual([]);
  });

  it('cuts a text without spaces at the limit', () => {
    const parts = splitText('a'.repeat(5000));
    expect(parts.map((p) => p.length)).toEqual([4096, 904]);
  });

  it('prefers a paragraph break, then a line break, then a space', () => {
    const paragraph = `${'a'.repeat(3000)}\n\n${'b'.repeat(500)}\n${'c'.repeat(2000)}`;
    expect(splitText(paragraph)[0]).toBe(`${'a'.repeat(3000)}\n\n`);
    const lines = `${'a'.repeat(3000)}\n${'b'.repeat(500)} ${'c'.repeat(2000)}`;
    expect(splitText(lines)[0]).toBe(`${'a'.repeat(3000)}\n`);
    const words = `${'word '.repeat(1000)}`;
    for (const part of splitText(words).slice(0, -1)) expect(part.endsWith(' ')).toBe(true);
  });

  it('never cuts an emoji (a surrogate pair) in half, and keeps every unit', () => {
    // 4095 ASCII units then emoji: the limit falls between the two halves of the first emoji.
    const text = `${'a'.repeat(4095)}${'😀'.repeat(3000)}`;
    const parts = splitText(text);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
      expect(hasLoneSurrogate(part)).toBe(false);
    }
    expect(parts[0]).toHaveLength(4095);
    expect(parts.join('')).toBe(text);
  });

  it('handles text that is all emoji or all Markdown specials', () => {
    const emoji = '👍🏽'.repeat(3000);
    const parts = splitText(emoji);
    expect(parts.join('')).toBe(emoji);
    for (const part of parts) expect(hasLoneSurrogate(part)).toBe(false);
    const specials = '_*[]()~`>#+-=|{}.!\\'.repeat(500);
    expect(splitText(specials).join('')).toBe(specials);
  });

  it('rejects a limit too small to hold a surrogate pair', () => {
    expect(() => splitText('abc', 1)).toThrow(/at least 2/);
  });
});
