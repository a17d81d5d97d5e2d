// PostgreSQL's TEXT cannot hold U+0000, which task fields may (a description, a session key, a
// dead letter's raw input). Plain strings are stored through this escape: U+0001 is the escape
// character, U+0000 becomes U+0001 U+0002 and U+0001 becomes U+0001 U+0001. It is injective, so
// equality in SQL (idempotency keys, session keys, owners) still holds, and it leaves every
// string without those two characters as it is, so rows stay readable. JSON columns need none:
// JSON text escapes U+0000 itself.

const NUL = '\u0000';
const ESC = '\u0001';

/** A string as stored in a TEXT column. */
export function encodeText(value: string): string {
  if (!value.includes(NUL) && !value.includes(ESC)) return value;
  return value.replaceAll(ESC, `${ESC}${ESC}`).replaceAll(NUL, `${ESC}\u0002`);
}

/** Same as {@link encodeText}, keeping null. */
export function encodeNullable(value: string | null): string | null {
  return value === null ? null : encodeText(value);
}

/** A TEXT column's value back as the string that was stored. */
export function decodeText(value: string): string {
  if (!value.includes(ESC)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === ESC && i + 1 < value.length) {
      i++;
      out += value[i] === '\u0002' ? NUL : ESC;
    } else {
      out += c;
    }
  }
  return out;
}

/** Same as {@link decodeText}, keeping null. */
export function decodeNullable(value: string | null): string | null {
  return value === null ? null : decodeText(value);
}
