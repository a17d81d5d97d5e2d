import type { JsonObject, JsonValue } from '@agentd/core';

/** What `{{ ... }}` placeholders in a route's task template can read. */
export interface TemplateContext {
  /** The parsed JSON body (or the text, for `format: 'text'` routes). */
  payload: JsonValue;
  /** Request headers, lower-case names. */
  headers: Record<string, string>;
  route: string;
  deliveryId: string;
  /** The event name (`X-GitHub-Event`, the payload's `type`, or the generic route's event header). */
  event: string | null;
}

/** The roots a placeholder may start with. */
export const TEMPLATE_ROOTS = ['payload', 'headers', 'route', 'deliveryId', 'event'] as const;

type Path = readonly string[];
type Part = string | Path;

/** A template compiled once at start, rendered per request. */
export type CompiledTemplate = (context: TemplateContext) => JsonValue;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE = /^\{\{\s*([^{}]*?)\s*\}\}$/;

/**
 * Checks a template's placeholders; returns problems as `message` strings (empty when valid).
 *
 * @example
 * ```ts
 * templateProblems('Issue {{ payload.issue.title }}'); // []
 * templateProblems('{{ body.x }}'); // ['unknown placeholder root "body" ...']
 * ```
 */
export function templateProblems(template: unknown): string[] {
  const problems: string[] = [];
  walkStrings(template, (text) => {
    for (const m of text.matchAll(PLACEHOLDER)) {
      const root = m[1]!.split('.')[0]!;
      if (!(TEMPLATE_ROOTS as readonly string[]).includes(root)) {
        problems.push(
          `unknown placeholder root "${root}" in "{{${m[1]}}}" (use ${TEMPLATE_ROOTS.join(', ')})`,
        );
      }
    }
  });
  return problems;
}

/**
 * The placeholder roots a template reads (`payload`, `headers`...), so a caller can skip
 * building a root nobody reads.
 *
 * @example
 * ```ts
 * templateRoots({ title: '{{ payload.title }}', by: '{{ headers.x-user }}' }); // Set { 'payload', 'headers' }
 * ```
 */
export function templateRoots(template: unknown): Set<string> {
  const roots = new Set<string>();
  walkStrings(template, (text) => {
    for (const m of text.matchAll(PLACEHOLDER)) roots.add(m[1]!.split('.')[0]!);
  });
  return roots;
}

/**
 * Compiles a template: any JSON value whose strings may hold `{{ path }}` placeholders. A
 * string that is exactly one placeholder becomes the value it points at (an object stays an
 * object); placeholders inside longer strings are replaced by text (JSON for non-strings, empty
 * for missing values). Paths are dot-separated; array elements are numbers (`commits.0.id`).
 *
 * @example
 * ```ts
 * const t = compileTemplate({ title: '{{ payload.issue.title }}', raw: '{{ payload }}' });
 * t({ payload: { issue: { title: 'Crash' } }, headers: {}, route: 'gh', deliveryId: '1', event: null });
 * // { title: 'Crash', raw: { issue: { title: 'Crash' } } }
 * ```
 */
export function compileTemplate(template: JsonValue): CompiledTemplate {
  if (typeof template === 'string') return compileString(template);
  if (Array.isArray(template)) {
    const items = template.map(compileTemplate);
    return (ctx) => items.map((item) => item(ctx));
  }
  if (template !== null && typeof template === 'object') {
    const entries = Object.entries(template).map(
      ([k, v]) => [k, compileTemplate(v as JsonValue)] as const,
    );
    return (ctx) => {
      const out: JsonObject = {};
      for (const [k, render] of entries) out[k] = render(ctx);
      return out;
    };
  }
  return () => template;
}

/**
 * Compiles a template that must render to text (descriptions, session keys).
 *
 * @example
 * ```ts
 * compileText('gh:{{ payload.repository.full_name }}')(ctx); // 'gh:acme/api'
 * ```
 */
export function compileText(template: string): (context: TemplateContext) => string {
  const render = compileString(template);
  return (ctx) => toText(render(ctx));
}

function compileString(text: string): CompiledTemplate {
  const whole = WHOLE.exec(text);
  if (whole) {
    const path = whole[1]!.split('.');
    return (ctx) => lookup(ctx, path) ?? null;
  }
  if (!text.includes('{{')) return () => text;
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push(m[1]!.split('.'));
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return (ctx) => {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : toText(lookup(ctx, part));
    return out;
  };
}

function lookup(ctx: TemplateContext, path: Path): JsonValue | undefined {
  let value: JsonValue | undefined = (ctx as unknown as Record<string, JsonValue>)[path[0]!];
  for (let i = 1; i < path.length && value !== undefined; i++) {
    const key = path[i]!;
    if (Array.isArray(value)) value = /^\d+$/.test(key) ? value[Number(key)] : undefined;
    else if (value !== null && typeof value === 'object' && Object.hasOwn(value, key))
      value = value[key];
    else value = undefined;
  }
  return value;
}

function toText(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function walkStrings(value: unknown, visit: (text: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) for (const v of value) walkStrings(v, visit);
  else if (value !== null && typeof value === 'object')
    for (const v of Object.values(value)) walkStrings(v, visit);
}
