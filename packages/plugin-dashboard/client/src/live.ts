import { useEffect, useRef, useState } from 'preact/hooks';
import { apiBase } from './api';

export interface LiveEvent {
  kind: string;
  event: string;
  id?: string;
  status?: string;
  text?: string;
  at: number;
}

type Listener = (event: LiveEvent) => void;
const listeners = new Set<Listener>();
let source: EventSource | undefined;
let connected = false;
const statusListeners = new Set<(up: boolean) => void>();

/** Opens the one event stream of this tab (after login). */
export function connectLive(): void {
  if (source) return;
  source = new EventSource(`${apiBase}/events`);
  const dispatch = (message: MessageEvent<string>) => {
    const event = JSON.parse(message.data) as LiveEvent;
    for (const listener of listeners) listener(event);
  };
  for (const kind of ['task', 'schedule', 'session', 'alert', 'circuit', 'dead-letter']) {
    source.addEventListener(kind, dispatch as EventListener);
  }
  source.addEventListener('resync', () => {
    for (const listener of listeners) listener({ kind: 'resync', event: 'resync', at: Date.now() });
  });
  source.onopen = () => setConnected(true);
  source.onerror = () => setConnected(false);
}

function setConnected(up: boolean) {
  connected = up;
  for (const l of statusListeners) l(up);
}

/** Whether the live stream is up. */
export function useLiveStatus(): boolean {
  const [up, setUp] = useState(connected);
  useEffect(() => {
    statusListeners.add(setUp);
    return () => {
      statusListeners.delete(setUp);
    };
  }, []);
  return up;
}

/**
 * Calls `onChange` (at most every 500 ms) when an event of one of `kinds` arrives, so a page
 * re-reads what it shows instead of polling.
 */
export function useLive(kinds: readonly string[], onChange: () => void): void {
  const callback = useRef(onChange);
  callback.current = onChange;
  const key = kinds.join(',');
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const wanted = new Set([...key.split(','), 'resync']);
    const listener: Listener = (event) => {
      if (!wanted.has(event.kind) || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        callback.current();
      }, 500);
    };
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (timer) clearTimeout(timer);
    };
  }, [key]);
}
