/** A value that survives `JSON.stringify` / `JSON.parse` unchanged. Task payloads and state use it. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };
