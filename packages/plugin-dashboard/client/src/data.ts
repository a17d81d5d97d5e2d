import { useCallback, useEffect, useState } from 'preact/hooks';
import { get } from './api';
import { useLive } from './live';

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
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState((s) => ({ ...s, error: error.message, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
