import type { JsonValue } from '../contracts/json.js';
import type { AgentdErrorCode } from '../kernel/error-codes.js';
import { AgentdError } from '../kernel/errors.js';

/** Why a value is not JSON, and where (`input.items[2].at`). */
interface JsonProblem {
  path: (string | number)[];
  message: string;
}

function describeType(value: object): string {
  const ctor = Object.getPrototypeOf(value)?.constructor;
  return typeof ctor === 'function' && ctor.name ? ctor.name : 'object';
}

/**
 * Nesting walked without tracking ancestors: a cycle shows as a walk this deep, which then
 * starts again with them tracked, to name the cycle. Real values nest a few levels; tracking
 * cost a `Set` and an add and a delete per object, on every enqueue.
 */
const UNTRACKED_DEPTH = 64;
/** What an untracked walk returns once it is nested deeper than {@link UNTRACKED_DEPTH}. */
const TOO_DEEP_UNTRACKED: JsonProblem = { path: [], message: '' };

// Returns the first problem found, or undefined. The path is built while unwinding, so a valid
// value (the hot path) allocates nothing for it. `ancestors` undefined: untracked (see above).
function findProblem(
  value: unknown,
  ancestors: Set<object> | undefined,
  depth: number,
): JsonProblem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : { path: [], message: `is ${value}, which JSON cannot represent` };
    case 'object': {
      if (value === null) return undefined;
      if (ancestors === undefined) {
        if (depth > UNTRACKED_DEPTH) return TOO_DEEP_UNTRACKED;
      } else if (ancestors.has(value)) {
        return { path: [], message: 'refers back to itself (a cycle)' };
      }
      if (Array.isArray(value)) {
        ancestors?.add(value);
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          // JSON.stringify would silently turn a hole or undefined into null: not a round trip.
          const problem =
            item === undefined
              ? { path: [], message: 'is undefined, which JSON cannot hold in an array' }
              : findProblem(item, ancestors, depth + 1);
          if (problem) {
            if (problem !== TOO_DEEP_UNTRACKED) problem.path.unshift(i);
            return problem;
          }
        }
        ancestors?.delete(value);
        return undefined;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        return {
          path: [],
          message: `is a ${describeType(value)}, not a plain object (convert it first, e.g. a Date to an ISO string)`,
        };
      }
      ancestors?.add(value);
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        const item = record[key];
        // An undefined property is dropped by JSON, as optional fields usually mean.
        if (item === undefined) continue;
        const problem = findProblem(item, ancestors, depth + 1);
        if (problem) {
          if (problem !== TOO_DEEP_UNTRACKED) problem.path.unshift(key);
          return problem;
        }
      }
      ancestors?.delete(value);
      return undefined;
    }
    case 'bigint':
      return { path: [], message: 'is a BigInt, which JSON cannot represent (use a string)' };
    case 'function':
      return { path: [], message: 'is a function, which JSON cannot represent' };
    case 'symbol':
      return { path: [], message: 'is a symbol, which JSON cannot represent' };
    default:
      return { path: [], message: 'is undefined' };
  }
}

function formatPath(root: string, path: readonly (string | number)[]): string {
  let out = root;
  for (const seg of path) {
    out +=
      typeof seg === 'number'
        ? `[${seg}]`
        : /^[A-Za-z_$][\w$]*$/.test(seg)
          ? `.${seg}`
          : `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/**
 * Serializes `value` as JSON after checking that it survives a round trip unchanged: no
 * functions, BigInts, symbols, cycles, NaN or Infinity, and no class instances. Throws an
 * {@link AgentdError} with `code` and a message naming the offending path.
 *
 * @example
 * ```ts
 * toJsonText({ a: [1, 2] }, 'input', 'E_INVALID_TASK'); // '{"a":[1,2]}'
 * toJsonText({ f: () => 1 }, 'input', 'E_INVALID_TASK'); // throws "input.f is a function, ..."
 * ```
 */
export function toJsonText(value: unknown, root: string, code: AgentdErrorCode): string {
  // Strings, booleans, null and finite numbers always round-trip: skip the walk (and the Set it
  // allocates) for them. NaN and Infinity go on to the walk, which says what is wrong.
  if (typeof value === 'number') {
    // JSON writes a finite number as ToString does (JSON.stringify's SerializeJSONProperty;
    // -0 as "0" in both); String() skips the stringifier's set-up, about 300 instructions.
    if (Number.isFinite(value)) return String(value);
  } else if (typeof value === 'string' || typeof value === 'boolean' || value === null) {
    return JSON.stringify(value);
  }
  let problem: JsonProblem | undefined;
  try {
    problem = findProblem(value, undefined, 0);
    // Deeper than the untracked walk goes: a cycle, or a deep value. Walk again, tracked.
    if (problem === TOO_DEEP_UNTRACKED) problem = findProblem(value, new Set(), 0);
  } catch (error) {
    if (error instanceof RangeError) {
      throw new AgentdError(code, `${root} is nested too deeply to store as JSON`, {
        cause: error,
      });
    }
    throw error;
  }
  if (problem) throw new AgentdError(code, `${formatPath(root, problem.path)} ${problem.message}`);
  return JSON.stringify(value);
}

/**
 * JSON with object keys sorted at every level, so that two equal values always give the same
 * text. The state store keeps values this way so `compareAndSet` can compare stored text.
 * The value must already have passed {@link toJsonText}'s checks.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }); // '{"a":[{"c":3,"d":2}],"b":1}'
 * ```
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  // Built as text, never as an object: assigning a "__proto__" key would change a prototype.
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const item = value[key];
    if (item !== undefined) parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * Parses JSON stored by this package. `JSON.parse` defines keys such as `__proto__` as own data
 * properties, so stored payloads can never change a prototype when read back.
 *
 * @example
 * ```ts
 * const value = parseJson<{ n: number }>('{"n":1}'); // { n: 1 }
 * ```
 */
export function parseJson<T = JsonValue>(text: string): T {
  return JSON.parse(text) as T;
}
