import { describe, expect, it } from 'vitest';
import { failureSummary } from './failure-summary.js';

describe('failureSummary: what a chat user is told about a failed task', () => {
  it.each([
    [
      {
        name: 'FailoverExhausted',
        message:
          'gave up (auth): gpt: HTTP 401: Incorrect API key provided: sk-proj-[redacted]\n1. gpt: auth (gpt: HTTP 401: ...)',
      },
      'The model provider refused the API key (401).',
    ],
    [
      {
        name: 'FailoverExhausted',
        message:
          'every agent is rate limited or unavailable (attempt 3 of 3, no retries left)\n1. gpt: rate_limit (gpt: HTTP 429: slow down, org org-abc)',
      },
      'The model provider is rate limiting (429); try again later.',
    ],
    [
      {
        name: 'FailoverExhausted',
        message:
          'every agent failed (2 attempt(s))\n1. a: api_error (a: HTTP 502: <html>bad gateway</html>)\n2. b: empty_result (agent "b" returned an empty result)',
      },
      'The agent returned an empty answer.',
    ],
    [
      {
        name: 'FailoverExhausted',
        message:
          'every agent is rate limited or unavailable (attempt 1 of 1, no retries left)\n1. gpt: api_error (skipped: circuit open until 2026-01-01T00:00:00.000Z; last error: api_error: gpt: HTTP 503: overloaded)',
      },
      'The model provider had an error (503).',
    ],
    [
      { name: 'TimeoutError', message: 'the agent did not finish within 60000 ms' },
      'The agent timed out after 60 s.',
    ],
    [
      { name: 'timeout', message: 'gpt did not answer within 120000 ms' },
      'The agent timed out after 2 min.',
    ],
    [
      { name: 'empty_result', message: 'gpt returned an empty answer' },
      'The agent returned an empty answer.',
    ],
    [
      {
        name: 'AgentError',
        message: 'command "aider" exited with code 2: Traceback ... api_key=[redacted]',
      },
      "The agent's command failed (exit code 2).",
    ],
    [
      { name: 'AgentError', message: 'gpt: HTTP 500: {"error":"boom"}' },
      'The model provider had an error (500).',
    ],
    [
      { name: 'AgentError', message: 'request to http://10.0.0.5:8000/v1 failed: fetch failed' },
      'The model provider could not be reached or had an error.',
    ],
    [
      { name: 'content_filter', message: 'gpt refused: I cannot help with that' },
      "The model provider's content filter refused this request.",
    ],
    [
      { name: 'UnknownAgent', message: 'no agent named "extra" on this host' },
      'No agent named "extra" on this host.',
    ],
    [
      {
        name: 'SessionError',
        message:
          'Could not resume session "main": command "claude" exited with code 1: no conversation\nfound. It stays suspended; archive it or start a new one.',
      },
      'Could not resume session "main". It stays suspended; archive it or start a new one.',
    ],
    [
      { name: 'Error', message: 'something odd: {"raw":"body"}' },
      'The agent failed; the operator can see the details in the task record.',
    ],
  ])('%j', (error, text) => {
    expect(failureSummary(error)).toBe(text);
  });
});
