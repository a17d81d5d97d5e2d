import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandAgent } from '../agents/command-agent.js';
import { llmAgent } from '../agents/llm-agent.js';
import { ChannelRegistryToken } from '../contracts/channel.js';
import { type Task, TaskQueueToken, TaskStoreToken } from '../contracts/task.js';
import type { Host } from '../kernel/host.js';
import { SecretMaskerToken } from '../logging/secret-masker.js';
import { createHost, type HostConfig } from '../preset/host.js';
import { completion, type FakeOpenAI, startFakeOpenAI } from '../testing/fake-openai.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { memoryStore } from '../testing/memory-store.js';
import { useTestHosts } from '../testing/test-hosts.js';

const { hosts } = useTestHosts();

// The key the config takes from ${OPENAI_API_KEY}, and secrets the config never saw, in the
// shapes provider error bodies, URLs and stderr tails carry them.
const API_KEY = 'sk-proj-CONFIGKEY0123456789abcdef';
const FOREIGN = {
  openai: 'sk-proj-OTHERKEY9876543210zyxwvu',
  groq: 'gsk_GROQKEY0123456789abcdefghij',
  urlPassword: 'hunter2-db-pass',
  queryKey: 'QUERYKEY123456',
  header: 'HEADERVALUE98765',
};
const ALL_SECRETS = [API_KEY, ...Object.values(FOREIGN)];

let fake: FakeOpenAI;
beforeEach(async () => {
  fake = await startFakeOpenAI({ apiKey: API_KEY });
});
afterEach(() => fake.close());

interface Harness {
  host: Host;
  replies: string[];
  logText: () => string;
  run: (input: string, agent: string, maxAttempts?: number) => Promise<Task>;
}

async function startHost(config: HostConfig): Promise<Harness> {
  const replies: string[] = [];
  const log = memoryLogger('debug');
  const host = createHost(
    {
      logger: log.logger,
      runner: { retry: { initialDelayMs: 10, maxDelayMs: 20 } },
      ...config,
      agents: [
        llmAgent({
          name: 'gpt',
          baseUrl: '${LLM_BASE_URL}',
          apiKey: '${OPENAI_API_KEY}',
          model: 'gpt-test',
          timeoutMs: 5_000,
        }),
        ...(config.agents ?? []),
      ],
      plugins: [
        memoryStore(),
        {
          name: 'chat',
          register: (ctx) =>
            ctx.resolve(ChannelRegistryToken).add({
              name: 'chat',
              send: async (_to, m) => {
                replies.push(m.text);
                return { ids: [] };
              },
            }),
        },
      ],
    },
    { env: { OPENAI_API_KEY: API_KEY, LLM_BASE_URL: fake.baseUrl } },
  );
  hosts.push(host);
  await host.start();
  const run = async (input: string, agent: string, maxAttempts = 1): Promise<Task> => {
    const { task } = await host.resolve(TaskQueueToken).enqueue({
      input,
      agent,
      maxAttempts,
      replyTo: { channel: 'chat', id: 'u1' },
    });
    const replied = replies.length;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const now = await host.resolve(TaskStoreToken).get(task.id);
      // Finished, and its reply (if one is owed) delivered.
      if (now && (now.status === 'completed' || now.status === 'failed')) {
        if (replies.length > replied || (now.status === 'completed' && now.result === '')) {
          return now;
        }
      }
      if (Date.now() > deadline) throw new Error(`task ${task.id} did not finish: ${now?.status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { host, replies, logText: log.text, run };
}

function expectNoSecret(where: string, text: string): void {
  for (const secret of ALL_SECRETS) {
    expect(text, `${where} holds ${secret}`).not.toContain(secret);
  }
}

describe('secrets never leave the host', () => {
  it('sends an API key given as ${OPENAI_API_KEY} to the provider as the Authorization header', async () => {
    const { run } = await startHost({});
    const task = await run('hello', 'gpt');
    expect(task).toMatchObject({ status: 'completed', result: 'echo: hello' });
    expect(fake.requests[0]?.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('masks provider error bodies echoing keys, URL credentials and query keys in task.error, the reply and the log', async () => {
    const h = await startHost({});
    fake.respond(() => ({
      status: 500,
      body: {
        error: {
          message: `upstream failed for key ${API_KEY} (also tried ${FOREIGN.openai}, ${FOREIGN.groq}) at https://admin:${FOREIGN.urlPassword}@db.internal/q?key=${FOREIGN.queryKey}&x=1`,
        },
      },
    }));
    const task = await h.run('hi', 'gpt', 2);
    expect(task.status).toBe('failed');
    expect(task.attempts).toBe(2);
    // The operator keeps the useful part of the detail.
    expect(task.error?.message).toContain('HTTP 500');
    expect(task.error?.message).toContain(
      'https://admin:[redacted]@db.internal/q?key=[redacted]&x=1',
    );
    expectNoSecret('task.error', JSON.stringify(task.error));
    // The chat user gets a short summary, never the provider's body.
    expect(h.replies).toEqual([
      'Sorry, this task failed after 2 attempt(s): The model provider had an error (500).',
    ]);
    const log = h.logText();
    expect(log).toContain('task attempt failed; will retry');
    expectNoSecret('the host log', log);
  });

  it('masks secrets an agent puts in its result, in the store and in the reply', async () => {
    const h = await startHost({});
    fake.respond(() => completion(`your key is ${API_KEY}; groq ${FOREIGN.groq}`));
    const task = await h.run('what is my key?', 'gpt');
    expect(task.status).toBe('completed');
    expect(task.result).toBe('your key is [redacted]; groq gsk_[redacted]');
    expect(h.replies).toEqual(['your key is [redacted]; groq gsk_[redacted]']);
  });

  it("masks a command's stderr tail (x-api-key: ...) and tells the user only that the command failed", async () => {
    const h = await startHost({
      agents: [
        commandAgent({
          name: 'curl',
          command: process.execPath,
          args: [
            '-e',
            `process.stderr.write('> POST /v1/x\\n> x-api-key: ${FOREIGN.header}\\n> Authorization: Bearer ${FOREIGN.openai}\\n< HTTP/1.1 403\\n'); process.exit(3)`,
          ],
        }),
      ],
    });
    const task = await h.run('go', 'curl');
    expect(task.status).toBe('failed');
    expect(task.error?.message).toContain('x-api-key: [redacted]');
    expectNoSecret('task.error', JSON.stringify(task.error));
    expect(h.replies[0]).toMatch(/^Sorry, this task failed after 1 attempt\(s\): The /);
    expectNoSecret('the reply', h.replies.join('\n'));
    expectNoSecret('the host log', h.logText());
  });

  it('tells the user the provider refused the key (401), the answer was empty, or the agent timed out', async () => {
    const h = await startHost({ runner: { taskTimeoutMs: 400 } });
    fake.respond(() => ({
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${API_KEY}` } },
    }));
    let task = await h.run('a', 'gpt');
    // Failover gives up at once on an auth error: no point in retrying a refused key.
    expect(task.error?.message).toMatch(
      /^gave up \(auth\): gpt-test: HTTP 401: Incorrect API key provided: \[redacted\]/,
    );
    expect(h.replies.at(-1)).toBe(
      'Sorry, this task failed after 1 attempt(s): The model provider refused the API key (401).',
    );
    fake.respond(() => completion('   '));
    task = await h.run('b', 'gpt');
    expect(task.error?.name).toBe('empty_result');
    expect(h.replies.at(-1)).toBe(
      'Sorry, this task failed after 1 attempt(s): The agent returned an empty answer.',
    );
    fake.respond(() => ({ ...completion('late'), delayMs: 2_000 }));
    task = await h.run('c', 'gpt');
    expect(h.replies.at(-1)).toBe(
      'Sorry, this task failed after 1 attempt(s): The agent timed out after 400 ms.',
    );
    expectNoSecret('the replies', h.replies.join('\n'));
  });

  it('masks config secrets by value in what plugins write with the host masker', async () => {
    const { host } = await startHost({});
    const masker = host.resolve(SecretMaskerToken);
    expect(masker.mask(`k=${API_KEY} url=${encodeURIComponent(API_KEY)}`)).toBe(
      'k=[redacted] url=[redacted]',
    );
  });
});
