/**
 * The longest text `/task` and `/remind` take: more than a chat message holds on Telegram
 * (4,096), so a pasted paragraph fits, while a megabyte pushed through the HTTP API does not
 * become a task.
 */
export const MAX_COMMAND_TEXT = 8000;

// C0 controls except tab and newline, DEL, C1 controls, and the bidi overrides that make a
// listing read differently from what is stored.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/**
 * Why a free text argument cannot be taken (empty, too long, control characters), or undefined
 * when it can.
 *
 * @example
 * ```ts
 * textProblem('check the backups'); // undefined
 * textProblem('a\u0000b'); // 'the text holds a control character (U+0000); send plain text'
 * ```
 */
export function textProblem(text: string): string | undefined {
  if (text.trim() === '') return 'the text is empty';
  if (text.length > MAX_COMMAND_TEXT) {
    return `the text is ${text.length} characters long; at most ${MAX_COMMAND_TEXT} are taken`;
  }
  const control = CONTROL.exec(text);
  if (control) {
    const code = control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `the text holds a control character (U+${code}); send plain text`;
  }
  return undefined;
}

/** Task ids of every store: letters, digits, `_` and `-`, up to 64. */
const TASK_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Whether `text` can be a task id at all, so a typo is answered without a store lookup.
 *
 * @example
 * ```ts
 * isTaskId('qkzvt1a'); // true
 * isTaskId('../etc'); // false
 * ```
 */
export function isTaskId(text: string): boolean {
  return TASK_ID.test(text);
}

/**
 * A text shortened to `max` characters for a one-line listing, with line breaks as spaces.
 *
 * @example
 * ```ts
 * oneLine('check\nthe backups', 10); // 'check the…'
 * ```
 */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/**
 * A text shown as a quoted argument in a reply, cut to 40 characters so a huge or hostile
 * argument is not echoed back whole.
 *
 * @example
 * ```ts
 * quoted('abc'); // '"abc"'
 * ```
 */
export function quoted(text: string): string {
  return JSON.stringify(oneLine(text, 40));
}
