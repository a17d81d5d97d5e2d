import { useCallback, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { get } from './api';
import { hasFirst, takeFirst } from './first-view';
import { useLive } from './live';

let firstDataMarked = false;

/**
 * Marks (`agentd:first-data`) the start of the first frame with data from the API (in its
 * animation-frame callback: before that frame's style, layout and paint, so the data shows a
 * little later; the dashboard bench times the paint itself), so tests and users (the browser's
 * performance panel) can see when the first view came.
 */
function markFirstData(): void {
  if (firstDataMarked) return;
  firstDataMarked = true;
  requestAnimationFrame(() => performance.mark('agentd:first-data'));
}

/** Reads started before the first render, each waiting for the first {@link useData} of its path. */
const early = new Map<string, Promise<unknown>>();

/**
 * Starts reading `path` now, while the page is still being built: Preact runs effects only after
 * the first frame is painted, so a read started by `useData` alone leaves the network idle for
 * that long. The first `useData(path)` takes this read instead of starting its own.
 */
export function readEarly(path: string): void {
  if (early.has(path) || hasFirst(path)) return;
  const read = get(path);
  // Kept for later; a failure is reported by the useData that takes it, not here.
  read.catch(() => undefined);
  early.set(path, read);
}

/** The early read of `path` if one is waiting (once), else a new one. */
function read<T>(path: string): Promise<T> {
  const started = early.get(path);
  if (!started) return get<T>(path);
  early.delete(path);
  return started as Promise<T>;
}

export interface Data<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/** Reads `path` (again when it changes, and on live events of `kinds`). */
export function useData<T>(path: string, kinds: readonly string[] = []): Data<T> {
  // The page's own answer (first-view.ts), when it holds one: in the first render, no read.
  const fromPage = useRef(false);
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>(() => {
    const data = takeFirst<T>(path);
    if (data === undefined) return { loading: true };
    fromPage.current = true;
    return { data, loading: false };
  });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  useLive(kinds, reload);
  // `tick` is a dependency on purpose: reload() bumps it to read again. A layout effect, run as
  // soon as the page is built rather than after its first frame is painted (Preact's useEffect):
  // the read starts (or the early read is taken) at once, and an answer that comes before the
  // first frame is in that frame instead of one more.
  useLayoutEffect(() => {
    if (fromPage.current) {
      fromPage.current = false;
      markFirstData();
      return;
    }
    let live = true;
    setState((s) => (s.loading ? s : { ...s, loading: true }));
    read<T>(path).then(
      (data) => {
        if (!live) return;
        setState({ data, loading: false });
        markFirstData();
      },
      (error: Error) => live && setState((s) => ({ ...s, error: error.message, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
