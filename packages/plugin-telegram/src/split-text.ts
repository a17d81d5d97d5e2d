/**
 * Telegram's limit on one message's text, in UTF-16 code units (what JavaScript's `length`
 * counts, and what Telegram counts too).
 *
 * @example
 * ```ts
 * if (text.length > TELEGRAM_TEXT_LIMIT) parts = splitText(text);
 * ```
 */
export const TELEGRAM_TEXT_LIMIT = 4096;

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/**
 * Where to end a part that may be at most `limit` units long: after the last paragraph break,
 * else line break, else space in its second half, so words and lines stay whole; else at the
 * limit itself, moved back one unit if that would cut a surrogate pair (an emoji) in half.
 */
function cutAt(text: string, from: number, limit: number): number {
  const hard = from + limit;
  const window = text.slice(from, hard);
  const minimum = Math.floor(limit / 2);
  for (const separator of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(separator);
    if (at >= minimum) return from + at + separator.length;
  }
  return isHighSurrogate(text.charCodeAt(hard - 1)) ? hard - 1 : hard;
}

/**
 * Splits a text into parts Telegram accepts: each at most `limit` UTF-16 units, none empty,
 * cut preferably at a paragraph, line or word boundary and never inside a surrogate pair.
 * Joining the parts gives back the text. An empty text gives no parts.
 *
 * @example
 * ```ts
 * splitText('a'.repeat(5000)).map((p) => p.length); // [4096, 904]
 * splitText('hello'); // ['hello']
 * ```
 */
export function splitText(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  if (!Number.isInteger(limit) || limit < 2) {
    throw new RangeError(`limit must be an integer of at least 2, got ${limit}`);
  }
  const parts: string[] = [];
  let from = 0;
  while (text.length - from > limit) {
    const to = cutAt(text, from, limit);
    parts.push(text.slice(from, to));
    from = to;
  }
  if (from < text.length) parts.push(text.slice(from));
  return parts;
}
