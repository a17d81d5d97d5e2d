import type { ErrorClass } from '../contracts/failover.js';
import type { Task, TaskError } from '../contracts/task.js';
import { ERROR_CLASSES, ErrorClassifier } from '../failover/classifier.js';

const classifier = new ErrorClassifier();
/** Errors agentd itself words for the user: their message is safe and useful as it is. */
const OWN_MESSAGES = new Set(['UnknownAgent', 'BudgetExceeded', 'Interrupted', 'Cancelled']);

/**
 * A short account of why a task failed, for the person it answers (a chat user): what kind of
 * failure it was, with an HTTP status, exit code or time limit when one is known, never the
 * provider's response body or a command's output (those stay in `task.error` for the operator,
 * with secrets masked).
 *
 * @example
 * ```ts
 * failureSummary({ name: 'auth', message: 'gpt-4o: HTTP 401: Incorrect API key sk-proj-...' });
 * // 'The model provider refused the API key (401).'
 * failureSummary({ name: 'TimeoutError', message: 'the agent did not finish within 60000 ms' });
 * // 'The agent timed out after 60 s.'
 * ```
 */
export function failureSummary(error: TaskError | null): string {
  if (!error) return 'The agent failed.';
  if (OWN_MESSAGES.has(error.name)) return sentence(error.message);
  if (error.name === 'SessionError') {
    // "Could not resume session "x": <the agent's error>. It stays suspended; ..." keeps what
    // the user can act on and drops the agent's own text.
    const resume = /^(Could not resume session "[^"]*"): .*\. (It stays suspended.*)$/s.exec(
      error.message,
    );
    return resume ? `${resume[1]}. ${resume[2]}` : sentence(error.message);
  }
  const { cls, detail } = rootCause(error);
  const status = /\bHTTP (\d{3})\b/.exec(detail)?.[1];
  const paren = status ? ` (${status})` : '';
  switch (cls) {
    case 'auth':
      return `The model provider refused the API key${paren}.`;
    case 'rate_limit':
      return `The model provider is rate limiting${paren || ' (429)'}; try again later.`;
    case 'timeout': {
      const ms = /within (\d+) ?ms/.exec(detail)?.[1];
      return ms
        ? `The agent timed out after ${formatSeconds(Number(ms))}.`
        : 'The agent timed out.';
    }
    case 'empty_result':
      return 'The agent returned an empty answer.';
    case 'content_filter':
      return "The model provider's content filter refused this request.";
    case 'model_error':
      return `The model is not available or cannot take this request${paren}.`;
    case 'api_error':
      return status
        ? `The model provider had an error${paren}.`
        : 'The model provider could not be reached or had an error.';
    case 'tool_failure': {
      const code = /exited with code (\d+)/.exec(detail)?.[1];
      return `The agent's command failed${code ? ` (exit code ${code})` : ''}.`;
    }
    default:
      return 'The agent failed; the operator can see the details in the task record.';
  }
}

/**
 * The text a chat user gets for a task that failed for good: the attempts and a
 * {@link failureSummary}, never the raw error.
 *
 * @example
 * ```ts
 * failureReply(task); // 'Sorry, this task failed after 3 attempt(s): The agent timed out after 60 s.'
 * ```
 */
export function failureReply(task: Task): string {
  return `Sorry, this task failed after ${task.attempts} attempt(s): ${failureSummary(task.error)}`;
}

/**
 * The class and the text of the failure that mattered: for a failover chain, the last attempt
 * that ran (not one skipped because its circuit was open), else the error itself.
 */
function rootCause(error: TaskError): { cls: ErrorClass | 'unknown'; detail: string } {
  if ((ERROR_CLASSES as readonly string[]).includes(error.name)) {
    return { cls: error.name as ErrorClass, detail: error.message };
  }
  if (error.name === 'TimeoutError') return { cls: 'timeout', detail: error.message };
  if (error.name === 'FailoverExhausted') {
    const [head = '', ...lines] = error.message.split('\n');
    const gaveUp = /^gave up \((\w+)\): (.*)$/.exec(head);
    if (gaveUp) return { cls: gaveUp[1] as ErrorClass, detail: gaveUp[2] ?? '' };
    const attempts = lines
      .map((l) => /^\d+\. [^:]+: (\w+)(?: \((.*)\))?$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null);
    const ran = attempts.filter((m) => !(m[2] ?? '').startsWith('skipped'));
    const last = ran.at(-1) ?? attempts.at(-1);
    // A skipped agent's note keeps the failure that opened its circuit: that is the cause.
    const cause = /; last error: (\w+): (.*)$/.exec(last?.[2] ?? '');
    if (cause) return { cls: cause[1] as ErrorClass, detail: cause[2] ?? '' };
    if (last) return { cls: last[1] as ErrorClass, detail: last[2] ?? '' };
    if (/rate limited/.test(head)) return { cls: 'rate_limit', detail: head };
  }
  const err = Object.assign(new Error(error.message), { name: error.name });
  return { cls: classifier.classify(err).class, detail: error.message };
}

function formatSeconds(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s >= 120 && s % 60 === 0 ? `${s / 60} min` : `${Math.round(s)} s`;
}

function sentence(text: string): string {
  const line = text.split('\n')[0]!.trim().slice(0, 300);
  const first = line.charAt(0).toUpperCase() + line.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}
