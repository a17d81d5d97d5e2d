import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { AgentdError } from '../../kernel/errors.js';
import { apiErrorMessage, connectToHost, type HostApi } from '../host-api.js';
import { type CliIO, cliSecrets, escapeControls, printError } from '../output.js';

/** Exit code of `agentd chat` when no running host answers. */
export const CHAT_NO_HOST = 3;
/** How long one poll for replies waits on the host. */
const POLL_MS = 25_000;
/** With piped input, how long the end of input waits for the answers still owed. */
const PIPE_DRAIN_MS = 120_000;
/** ...and then until no reply came for this long. */
const QUIET_MS = 1000;

/** Options of {@link chatCommand}. */
export interface ChatOptions {
  cwd: string;
  config?: string;
  envFile?: string;
  /** The conversation (and so the session) to talk in; default `terminal-<user name>`. */
  conversation?: string;
  input?: Readable;
  output?: Writable;
}

interface Delivered {
  seq: string;
  text: string;
}

/** The default conversation: this user's terminal, a session of its own. */
function defaultConversation(): string {
  let name = 'user';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (some containers): a generic name does.
  }
  return `terminal-${name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'user'}`;
}

/**
 * `agentd chat`: an interactive chat with the running host through its HTTP API, on the API's
 * `api` channel, so the host's commands (`/help`, `/status`, `/new`…), budgets and sessions apply
 * as on Telegram. Each line typed is sent; replies are printed as they arrive (a long poll).
 * `/quit`, Ctrl-D or Ctrl-C leaves. With piped input, the end of input waits for the answers
 * still owed before leaving. Exit code 0, or {@link CHAT_NO_HOST} (3) when no host answers.
 *
 * @example
 * ```ts
 * const code = await chatCommand(processIO, { cwd: process.cwd() });
 * ```
 */
export async function chatCommand(io: CliIO, options: ChatOptions): Promise<number> {
  const conversation = options.conversation ?? defaultConversation();
  if (!/^[A-Za-z0-9._:-]{1,100}$/.test(conversation)) {
    throw new AgentdError(
      'E_USAGE',
      '--conversation takes 1-100 letters, digits and ._:- characters',
    );
  }
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const interactive = (input as { isTTY?: boolean }).isTTY === true;
  let api: HostApi;
  try {
    api = await connectToHost(options);
  } catch (error) {
    if (!(error instanceof AgentdError) || error.code !== 'E_NO_API') throw error;
    printError(io, error, false);
    return CHAT_NO_HOST;
  }
  const path = `/api/v1/chat/${conversation}/messages`;
  let cursor: string;
  try {
    // Start after what the conversation already holds: only new replies are shown.
    const first = await api.request<{ cursor: string }>('GET', `${path}?timeout=0`);
    if (first.status !== 200) {
      throw new AgentdError(
        'E_NO_API',
        `the host's chat: ${apiErrorMessage(first.body, first.status)}`,
      );
    }
    cursor = first.body.cursor;
  } catch (error) {
    if (!(error instanceof AgentdError) || error.code !== 'E_NO_API') throw error;
    printError(io, error, false);
    return CHAT_NO_HOST;
  }

  const rl = createInterface({ input, output, terminal: interactive, prompt: 'you> ' });
  const show = (text: string) => {
    const safe = escapeControls(cliSecrets.mask(text));
    if (interactive) {
      // Print above the line being typed, then give the prompt (and what was typed) back.
      output.write('\r\u001b[2K');
      output.write(`${safe}\n`);
      rl.prompt(true);
    } else {
      output.write(`${safe}\n`);
    }
  };
  show(`Chatting with ${api.url} as "${conversation}". /help lists commands; /quit leaves.`);

  const polling = new AbortController();
  let lastReceivedAt = Date.now();
  let lost = false;
  const poll = async () => {
    while (!polling.signal.aborted) {
      try {
        const { status, body } = await api.request<{ messages: Delivered[]; cursor: string }>(
          'GET',
          `${path}?after=${encodeURIComponent(cursor)}&timeout=${POLL_MS}ms`,
          { signal: polling.signal },
        );
        if (status !== 200) throw new Error(apiErrorMessage(body, status));
        for (const message of body.messages) {
          show(message.text);
          lastReceivedAt = Date.now();
        }
        cursor = body.cursor;
        if (lost) show('(the host is back)');
        lost = false;
      } catch (error) {
        if (polling.signal.aborted) return;
        // Said once, not every retry: a restart of the host takes a few seconds.
        if (!lost) show(`(lost the host: ${(error as Error).message}; retrying)`);
        lost = true;
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  };
  const polled = poll();

  const owed: string[] = [];
  let sending = Promise.resolve();
  const send = async (text: string) => {
    try {
      const { status, body } = await api.request<{ outcome: string; taskId?: string }>(
        'POST',
        path,
        { body: { text, id: randomUUID() } },
      );
      if (status >= 400) show(`(not sent: ${apiErrorMessage(body, status)})`);
      else if (body.taskId && body.outcome === 'accepted') owed.push(body.taskId);
    } catch (error) {
      show(`(not sent: ${(error as Error).message})`);
    }
  };

  await new Promise<void>((resolve) => {
    rl.on('line', (line) => {
      const text = line.trim();
      if (text === '/quit' || text === '/exit') {
        rl.close();
        return;
      }
      if (text !== '') sending = sending.then(() => send(text));
      if (interactive) rl.prompt();
    });
    rl.on('SIGINT', () => rl.close());
    rl.on('close', () => resolve());
    if (interactive) rl.prompt();
  });
  await sending;
  if (!interactive && owed.length > 0) {
    // Piped: the answers are the point, so wait for the tasks, then for their replies.
    const deadline = Date.now() + PIPE_DRAIN_MS;
    for (const id of owed) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await api
        .request('GET', `/api/v1/tasks/${id}/wait?timeout=${Math.min(left, 300_000)}ms`)
        .catch(() => {});
    }
    lastReceivedAt = Math.max(lastReceivedAt, Date.now() - QUIET_MS / 2);
    // Replies follow their task's end by moments: leave once none came for a while.
    while (Date.now() - lastReceivedAt < QUIET_MS && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  polling.abort();
  await polled;
  if (interactive) output.write('\n');
  return 0;
}
