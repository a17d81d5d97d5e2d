import type { StandardSchemaV1 } from '@standard-schema/spec';

type PathSegment = PropertyKey | StandardSchemaV1.PathSegment;

/** Formats a path as users write it: `plugins[1].options.token`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const seg of segments) {
    const key = typeof seg === 'object' && seg !== null ? seg.key : seg;
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const name = String(key);
      out += /^\d+$/.test(name) ? `[${name}]` : out ? `.${name}` : name;
    }
  }
  return out;
}

/** Joins a base path and a relative one: `plugins[1]` + `token` = `plugins[1].token`. */
export function joinPath(base: string, rest: string): string {
  if (!rest) return base;
  if (!base) return rest;
  return rest.startsWith('[') ? `${base}${rest}` : `${base}.${rest}`;
}

/** One `path: message` line. */
export function issueLine(path: string, message: string): string {
  return path ? `${path}: ${message}` : message;
}
