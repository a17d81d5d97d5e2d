import { setMaxListeners } from 'node:events';
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

/** Deadlines are shared by the calls whose deadline falls in the same slice of this length. */
const DEADLINE_SLICE_MS = 1_000;
let lastDeadline: { at: number; signal: AbortSignal } | undefined;

/**
 * A signal that aborts `ms` from now, rounded up to the next {@link DEADLINE_SLICE_MS}: the
 * calls made within one slice share it. `AbortSignal.timeout` makes a timer and a signal per
 * call (measured on the Telegram bench: one per reply cost about 2 % of the host's CPU); a
 * deadline a second late changes nothing for a send whose limit is tens of seconds. The shared
 * signal takes any number of listeners (one per call in flight, each removed when its call ends).
 *
 * @example
 * ```ts
 * sharedDeadline(45_000); // aborts 45 to 46 s from now
 * ```
 */
export function sharedDeadline(ms: number, now = Date.now()): AbortSignal {
  const at = Math.ceil((now + ms) / DEADLINE_SLICE_MS) * DEADLINE_SLICE_MS;
  if (lastDeadline?.at === at) return lastDeadline.signal;
  const signal = AbortSignal.timeout(at - now);
  setMaxListeners(0, signal);
  lastDeadline = { at, signal };
  return signal;
}

/**
 * A signal that aborts when `signal` does or after `ms` (rounded up to the next whole second,
 * see {@link sharedDeadline}), whichever comes first. (Node 20.0 to
 * 20.2 lack `AbortSignal.any`, and `engines` promises Node 20.)
 *
 * @example
 * ```ts
 * await api.sendMessage(chat, text, {}, grammySignal(withDeadline(options.signal, 45_000)));
 * ```
 */
export function withDeadline(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const deadline = sharedDeadline(ms);
  if (!signal) return deadline;
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([signal, deadline]);
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (signal.aborted) abort();
  signal.addEventListener('abort', abort, { once: true });
  deadline.addEventListener('abort', abort, { once: true });
  return controller.signal;
}
