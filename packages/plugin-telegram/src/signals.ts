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

/**
 * A signal that aborts when `signal` does or after `ms`, whichever comes first. (Node 20.0 to
 * 20.2 lack `AbortSignal.any`, and `engines` promises Node 20.)
 *
 * @example
 * ```ts
 * await api.sendMessage(chat, text, {}, grammySignal(withDeadline(options.signal, 45_000)));
 * ```
 */
export function withDeadline(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const deadline = AbortSignal.timeout(ms);
  if (!signal) return deadline;
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([signal, deadline]);
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (signal.aborted) abort();
  signal.addEventListener('abort', abort, { once: true });
  deadline.addEventListener('abort', abort, { once: true });
  return controller.signal;
}
