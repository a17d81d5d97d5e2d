import type { Api } from 'grammy';

type GrammySignal = Parameters<Api['getMe']>[0];

/**
 * Node's AbortSignal as grammY's Node typings want it: they name the `abort-controller`
 * package's class, while grammY itself only listens for the abort, which Node's signal does.
 *
 * @example
 * ```ts
 * await api.getMe(grammySignal(AbortSignal.timeout(5000)));
 * ```
 */
export function grammySignal(signal: AbortSignal | undefined): GrammySignal {
  return signal as unknown as GrammySignal;
}
