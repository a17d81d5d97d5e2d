import type { Task } from '../../contracts/task.js';
import { AgentdError } from '../../kernel/errors.js';
import { failureReply } from '../../runtime/failure-summary.js';
import { apiErrorMessage, connectToHost, type HostApi } from '../host-api.js';
import { type CliIO, printError } from '../output.js';

/**
 * Exit codes of `agentd ask`, by outcome.
 *
 * @example
 * ```ts
 * if ((await askCommand(io, 'ping', { cwd })) === ASK_EXIT.timeout) console.log('still running');
 * ```
 */
export const ASK_EXIT = {
  /** The task completed; its answer is on stdout. */
  completed: 0,
  /** The task failed for good or was cancelled; why is on stderr. */
  failed: 1,
  /** No answer within `--timeout`; the task goes on (its id is on stderr). */
  timeout: 2,
  /** No running host answered (or the config has no API): `E_NO_API` on stderr. */
  noHost: 3,
  /** The host refused the question (a bad option, an unknown agent). */
  refused: 4,
} as const;

/** Longest wait of one long poll (the API's cap). */
const WAIT_STEP_MS = 300_000;

/** Options of {@link askCommand}, as given on the command line. */
export interface AskOptions {
  cwd: string;
  config?: string;
  envFile?: string;
  agent?: string;
  /** A session key: asks with the same key share a conversation. */
  session?: string;
  /** How long to wait, e.g. `120s`, `5m` (default 10m). */
  timeout?: string;
  json?: boolean;
}

/** `30s`, `5m`, `1h`, `1500ms` or seconds, in ms. */
function parseTimeout(text: string | undefined): number {
  if (text === undefined) return 600_000;
  const match = /^(\d{1,7})(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new AgentdError('E_USAGE', '--timeout takes a duration such as 30s, 5m or 1h');
  const n = Number(match[1]);
  const unit = match[2] ?? 's';
  const ms =
    unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  if (ms < 1) throw new AgentdError('E_USAGE', '--timeout must be more than 0');
  return ms;
}

function answerOf(task: Task): string {
  return typeof task.result === 'string' ? task.result : JSON.stringify(task.result, null, 2);
}

/** Waits for the task with long polls until it finishes or `deadline` passes. */
async function waitUntil(api: HostApi, id: string, deadline: number): Promise<Task> {
  for (;;) {
    const left = deadline - Date.now();
    const step = Math.max(1, Math.min(left, WAIT_STEP_MS));
    const { status, body } = await api.request<{ task: Task; done: boolean }>(
      'GET',
      `/api/v1/tasks/${encodeURIComponent(id)}/wait?timeout=${step}ms`,
    );
    if (status !== 200) {
      throw new AgentdError('E_NO_API', `waiting for task ${id}: ${apiErrorMessage(body, status)}`);
    }
    if (body.done || Date.now() >= deadline) return body.task;
  }
}

/**
 * `agentd ask "text"`: one question to the running host through its HTTP API (a task, the
 * default agent unless `--agent`), waits for the answer and prints it. The exit code tells the
 * outcome ({@link ASK_EXIT}): 0 answered, 1 failed or cancelled, 2 timed out (the task goes
 * on), 3 no host, 4 refused.
 *
 * @example
 * ```ts
 * const code = await askCommand(processIO, 'What changed today?', { cwd: process.cwd() });
 * ```
 */
export async function askCommand(io: CliIO, text: string, options: AskOptions): Promise<number> {
  if (text.trim() === '') throw new AgentdError('E_USAGE', 'ask needs a question');
  const timeoutMs = parseTimeout(options.timeout);
  const deadline = Date.now() + timeoutMs;
  let api: HostApi;
  try {
    api = await connectToHost(options);
  } catch (error) {
    if (!(error instanceof AgentdError) || error.code !== 'E_NO_API') throw error;
    printError(io, error, false);
    return ASK_EXIT.noHost;
  }
  try {
    const created = await api.request<{ task: Task }>('POST', '/api/v1/tasks', {
      body: {
        input: text,
        type: 'ask',
        ...(options.agent !== undefined && { agent: options.agent }),
        ...(options.session !== undefined && { sessionKey: options.session }),
      },
    });
    if (created.status !== 201 && created.status !== 200) {
      io.err(
        `agentd: the host refused the question: ${apiErrorMessage(created.body, created.status)}`,
      );
      return ASK_EXIT.refused;
    }
    const task = await waitUntil(api, created.body.task.id, deadline);
    if (options.json) io.out(JSON.stringify(task, null, 2));
    switch (task.status) {
      case 'completed':
        if (!options.json) io.out(answerOf(task));
        return ASK_EXIT.completed;
      case 'failed':
        io.err(`agentd: ${failureReply(task)}`);
        return ASK_EXIT.failed;
      case 'cancelled':
        io.err(`agentd: task ${task.id} was cancelled`);
        return ASK_EXIT.failed;
      default:
        io.err(
          `agentd: no answer within ${options.timeout ?? '10m'}; task ${task.id} is still ${task.status} (agentd tasks shows it)`,
        );
        return ASK_EXIT.timeout;
    }
  } catch (error) {
    if (!(error instanceof AgentdError) || error.code !== 'E_NO_API') throw error;
    printError(io, error, false);
    return ASK_EXIT.noHost;
  }
}
