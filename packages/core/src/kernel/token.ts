/**
 * A typed key for a service in a host's container. The phantom `T` lets `ctx.resolve(token)`
 * return the right type without casts, and the symbol keeps two tokens with the same name apart.
 */
export interface Token<T> {
  /** Human-readable name used in error messages and `dependsOn`. */
  readonly name: string;
  /** The identity the container keys on. */
  readonly key: symbol;
  /** Type carrier only; never set at runtime. */
  readonly __type?: T;
}

/**
 * Creates a typed service token.
 *
 * @example
 * ```ts
 * import { createToken } from '@agentd/core';
 *
 * interface Greeter { greet(name: string): string }
 * export const GreeterToken = createToken<Greeter>('example.greeter');
 *
 * // in a plugin's register(ctx):
 * ctx.provide(GreeterToken, { greet: (name) => `hello ${name}` });
 * // in another plugin that lists GreeterToken in dependsOn:
 * ctx.resolve(GreeterToken).greet('Ada');
 * ```
 */
export function createToken<T>(name: string): Token<T> {
  if (!name.trim()) throw new TypeError('createToken(name): name must be a non-empty string');
  // Symbol.for makes tokens identical across duplicated copies of a package in node_modules,
  // so a plugin built against another copy of core still finds the same service.
  return Object.freeze({ name, key: Symbol.for(`agentd.token:${name}`) });
}

/** True when `value` is a token created by {@link createToken}. */
export function isToken(value: unknown): value is Token<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Token<unknown>).key === 'symbol' &&
    typeof (value as Token<unknown>).name === 'string'
  );
}
