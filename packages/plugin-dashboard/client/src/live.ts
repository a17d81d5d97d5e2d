import { useEffect, useRef, useState } from 'preact/hooks';
import { apiBase } from './api';
import { takeFirst } from './first-view';

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
let started = false;
let connected = false;
const statusListeners = new Set<(up: boolean) => void>();
const KINDS = ['task', 'schedule', 'session', 'alert', 'circuit', 'dead-letter'];

/** What tabs of one dashboard tell each other over their BroadcastChannel. */
type TabMessage =
  | { type: 'event'; event: LiveEvent }
  | { type: 'status'; up: boolean; position?: number }
  | { type: 'ask' };

/** The stream's position (events published) when the server read the page's data, if it did. */
let pageSince: number | undefined;
/** The last position the stream this tab hears has reached (its `hello`, then each event's id). */
let heard: number | undefined;

const resyncEvent = (): LiveEvent => ({ kind: 'resync', event: 'resync', at: Date.now() });

function deliver(event: LiveEvent): void {
  for (const listener of listeners) listener(event);
}

/**
 * Opens an EventSource on the API's stream, handing every event and status change on. It starts
 * from the page's position, so the server says `resync` when events came after the page's data
 * was read (and, reconnecting, the browser's Last-Event-ID does the same for a dropped stream).
 */
function openStream(onEvent: (event: LiveEvent) => void, onStatus: (up: boolean) => void): void {
  const since = pageSince === undefined ? '' : `?since=${pageSince}`;
  const source = new EventSource(`${apiBase}/events${since}`);
  const dispatch = (message: MessageEvent<string>) => {
    heard = Number(message.lastEventId);
    onEvent(JSON.parse(message.data) as LiveEvent);
  };
  for (const kind of KINDS) source.addEventListener(kind, dispatch as EventListener);
  source.addEventListener('hello', (message) => {
    heard = Number((message as MessageEvent<string>).lastEventId);
  });
  source.addEventListener('resync', () => onEvent(resyncEvent()));
  source.onopen = () => onStatus(true);
  source.onerror = () => onStatus(false);
}

/**
 * Connects this tab to the live updates (after login). A browser keeps at most 6 HTTP/1.1
 * connections to one server, and every stream holds one: with a stream per tab, the seventh
 * dashboard tab would hang loading. So the tabs of one browser share one stream: the tab holding
 * a Web Lock opens it and passes every event to the others over a BroadcastChannel; when that tab
 * closes, the lock passes to another, which opens the stream and has every tab re-read (events
 * may have been missed in between). Where Web Locks are missing (plain HTTP beyond loopback is
 * not a secure context), each tab opens its own stream.
 */
export function connectLive(): void {
  if (started) return;
  started = true;
  pageSince = takeFirst<{ since: number }>('/events')?.since;
  const name = `agentd-dashboard-live:${apiBase}`;
  if (typeof BroadcastChannel === 'undefined' || !navigator.locks) {
    openStream(deliver, setConnected);
    return;
  }
  const channel = new BroadcastChannel(name);
  const tell = (message: TabMessage) => channel.postMessage(message);
  let leader = false;
  channel.onmessage = ({ data }: MessageEvent<TabMessage>) => {
    if (data.type === 'event') deliver(data.event);
    else if (data.type === 'status') {
      setConnected(data.up);
      // Joining another tab's stream: events it passed on before this tab listened are missed.
      if (pageSince !== undefined && data.position !== undefined && data.position !== pageSince) {
        deliver(resyncEvent());
      }
      pageSince = undefined;
    } else if (data.type === 'ask' && leader) {
      tell({ type: 'status', up: connected, position: heard });
    }
  };
  tell({ type: 'ask' });
  const lead = (takeover: boolean) => {
    leader = true;
    let opened = false;
    openStream(
      (event) => {
        deliver(event);
        tell({ type: 'event', event });
      },
      (up) => {
        setConnected(up);
        tell({ type: 'status', up });
        if (up && !opened && takeover) {
          // Taken over from a closed tab: whatever happened in between, re-read.
          const resync = resyncEvent();
          deliver(resync);
          tell({ type: 'event', event: resync });
        }
        if (up) opened = true;
      },
    );
    // Held while this tab lives; the browser releases it when the tab closes.
    return new Promise<never>(() => undefined);
  };
  // The first tab leads at once; the others wait for the lock, and take over when it passes.
  void navigator.locks.request(name, { ifAvailable: true }, (lock) =>
    lock ? lead(false) : navigator.locks.request(name, () => lead(true)),
  );
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
 * re-reads what it shows instead of polling. A hidden tab (in the background) re-reads once when
 * it is shown again instead, so open tabs nobody looks at cost the host nothing.
 */
export function useLive(kinds: readonly string[], onChange: () => void): void {
  const callback = useRef(onChange);
  callback.current = onChange;
  const key = kinds.join(',');
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let missed = false;
    const wanted = new Set([...key.split(','), 'resync']);
    const listener: Listener = (event) => {
      if (!wanted.has(event.kind) || timer) return;
      if (document.hidden) {
        missed = true;
        return;
      }
      timer = setTimeout(() => {
        timer = undefined;
        callback.current();
      }, 500);
    };
    const onVisible = () => {
      if (document.hidden || !missed) return;
      missed = false;
      callback.current();
    };
    listeners.add(listener);
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      listeners.delete(listener);
      document.removeEventListener('visibilitychange', onVisible);
      if (timer) clearTimeout(timer);
    };
  }, [key]);
}
