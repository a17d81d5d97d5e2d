import { useCallback, useEffect, useState } from 'preact/hooks';
import { get } from './api';
import { useLive } from './live';

let firstDataMarked = false;

/**
 * Marks (`agentd:first-data`) the first frame painted with data from the API, so tests and
 * users (the browser's performance panel) can see how long the first view took.
 */
function markFirstData(): void {
  if (firstDataMarked) return;
  firstDataMarked = true;
  requestAnimationFrame(() => performance.mark('agentd:first-data'));
}

export interface Data<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/** Reads `path` (again when it changes, and on live events of `kinds`). */
export function useData<T>(path: string, kinds: readonly string[] = []): Data<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  useLive(kinds, reload);
  // `tick` is a dependency on purpose: reload() bumps it to read again.
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    get<T>(path).then(
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
