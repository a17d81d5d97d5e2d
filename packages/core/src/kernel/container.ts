// tsyringe throws at import time unless the Reflect metadata polyfill is loaded first.
import 'reflect-metadata';
import {
  type DependencyContainer,
  instanceCachingFactory,
  container as rootContainer,
} from 'tsyringe';
import { AgentdError, MissingServiceError } from './errors.js';
import type { Token } from './token.js';

/** Resolves services inside a factory passed to `provideFactory`. */
export type ServiceResolver = <T>(token: Token<T>) => T;

/**
 * One host's services. Wraps a tsyringe child container so that plugins and users never see
 * DI types, every host is isolated from every other in the same process, and errors name the
 * plugin that provided or asked for a service.
 */
export class ServiceContainer {
  readonly #container: DependencyContainer = rootContainer.createChildContainer();
  readonly #providers = new Map<symbol, { token: Token<unknown>; owner: string }>();

  /** Registers a ready-made value. */
  provide<T>(token: Token<T>, value: T, owner = 'host'): void {
    this.#claim(token, owner);
    this.#container.register(token.key, { useValue: value });
  }

  /** Registers a factory run once, on first resolve; it may resolve other services. */
  provideFactory<T>(
    token: Token<T>,
    factory: (resolve: ServiceResolver) => T,
    owner = 'host',
  ): void {
    this.#claim(token, owner);
    this.#container.register(token.key, {
      useFactory: instanceCachingFactory(() => factory((dep) => this.resolve(dep, owner))),
    });
  }

  /** Returns the service for `token`, or throws an error naming who asked. */
  resolve<T>(token: Token<T>, requester = 'host'): T {
    if (!this.#providers.has(token.key)) {
      throw new MissingServiceError(
        'E_MISSING_SERVICE',
        `${requester} needs service "${token.name}", but no plugin provides it`,
      );
    }
    return this.#container.resolve<T>(token.key);
  }

  /** Returns the service for `token`, or `undefined` when nobody provides it. */
  tryResolve<T>(token: Token<T>): T | undefined {
    return this.#providers.has(token.key) ? this.#container.resolve<T>(token.key) : undefined;
  }

  has(token: Token<unknown>): boolean {
    return this.#providers.has(token.key);
  }

  /** Name of the plugin that provided `token`, if any. */
  providerOf(token: Token<unknown>): string | undefined {
    return this.#providers.get(token.key)?.owner;
  }

  #claim(token: Token<unknown>, owner: string): void {
    const existing = this.#providers.get(token.key);
    if (existing) {
      throw new AgentdError(
        'E_DUPLICATE_SERVICE',
        `${owner} provides service "${token.name}", which ${existing.owner} already provides`,
      );
    }
    this.#providers.set(token.key, { token, owner });
  }
}
