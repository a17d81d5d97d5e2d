import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, post } from '../api';
import { when } from '../format';
import { ErrorNote, Header } from '../ui';

interface ChatEntry {
  seq: string;
  text: string;
  at: number;
  from?: 'client';
}

interface ChatRead {
  user: string;
  messages: ChatEntry[];
  cursor: string;
}

/** How long one read waits for a reply (the server's limit is 25 s). */
const WAIT_MS = 25_000;
/** The pause before reading again after a failed read. */
const RETRY_MS = 3_000;

/**
 * A message id for the server to recognise a repeat by. `crypto.randomUUID` exists only in
 * secure contexts (not on plain HTTP beyond loopback); random bytes exist everywhere.
 */
function messageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Chat: talk to the host's agents as the `web` channel's user. Both sides of the conversation
 * come from the server (a loop of waiting reads), so a reload or a second tab shows the same.
 */
export function Chat() {
  const [messages, setMessages] = useState<ChatEntry[]>([]);
  const [user, setUser] = useState<string>();
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string>();
  const [readError, setReadError] = useState<string>();
  /** The id of the text being sent: kept until the server took it, so a retry is no double. */
  const pendingId = useRef<string>();
  const list = useRef<HTMLOListElement>(null);

  useEffect(() => {
    const stop = new AbortController();
    void (async () => {
      let cursor = '';
      let wait = 0; // The first read returns what is kept at once.
      while (!stop.signal.aborted) {
        try {
          const read = await get<ChatRead>(`/chat?after=${cursor}&wait=${wait}`, stop.signal);
          setUser(read.user);
          setReadError(undefined);
          if (read.messages.length > 0) setMessages((m) => [...m, ...read.messages]);
          cursor = read.cursor;
          wait = WAIT_MS;
        } catch (e) {
          if (stop.signal.aborted) return;
          setReadError(`replies paused: ${(e as Error).message}`);
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
    })();
    return () => stop.abort();
  }, []);

  // New messages scroll into view (the list scrolls, not the page).
  useEffect(() => {
    const element = list.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [messages.length]);

  const send = async (event?: Event) => {
    event?.preventDefault();
    if (text.trim() === '' || sending) return;
    pendingId.current ??= messageId();
    setSending(true);
    setError(undefined);
    try {
      await post('/chat', { text, id: pendingId.current });
      setText('');
      pendingId.current = undefined;
    } catch (e) {
      // 409: the server had taken it already (an earlier try whose answer was lost).
      if (e instanceof ApiError && e.status === 409) {
        setText('');
        pendingId.current = undefined;
      } else {
        setError((e as Error).message);
      }
    } finally {
      setSending(false);
    }
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) void send(event);
  };

  return (
    <section class="chat">
      <Header title="Chat">
        {user ? <span class="muted small">as {user} on the web channel</span> : null}
      </Header>
      <ErrorNote error={readError} />
      <ol class="messages" aria-live="polite" ref={list}>
        {messages.map((m) => (
          <li key={m.seq} class={m.from === 'client' ? 'message mine' : 'message'}>
            <div class="bubble">{m.text}</div>
            <time class="muted small" title={when(m.at)}>
              {new Date(m.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
            </time>
          </li>
        ))}
        {messages.length === 0 ? (
          <li class="muted">
            Write to the host's agents; <span class="mono">/help</span> lists the commands.
          </li>
        ) : null}
      </ol>
      <form class="composer" onSubmit={send}>
        <label class="visually-hidden" for="chat-text">
          Message
        </label>
        <textarea
          id="chat-text"
          name="text"
          rows={2}
          maxLength={16000}
          placeholder="Message (Enter sends, Shift+Enter for a new line)"
          value={text}
          onInput={(e) => {
            setText((e.target as HTMLTextAreaElement).value);
            pendingId.current = undefined;
          }}
          onKeyDown={onKeyDown}
        />
        <button type="submit" disabled={sending || text.trim() === ''}>
          {sending ? 'Sending…' : 'Send'}
        </button>
      </form>
      <ErrorNote error={error} />
    </section>
  );
}
