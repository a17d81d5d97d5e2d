import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { agent, defineConfig, llmAgent } from '@agentd/core';
import { dashboard } from '@agentd/plugin-dashboard';
import { metrics, monitor } from '@agentd/plugin-monitor';
import { telegram } from '@agentd/plugin-telegram';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { greeter } from 'agentd-example-custom-plugin';

/**
 * The starter host, a realistic one that runs with nothing configured:
 *
 * - `assistant`: an OpenAI-compatible LLM (OpenAI, OpenRouter, Groq, Ollama... by base URL) when
 *   LLM_API_KEY is set (LLM_BASE_URL, LLM_MODEL), failing over to a second provider when
 *   LLM_FALLBACK_API_KEY is set; without keys, an echo agent answers.
 * - Telegram when TELEGRAM_BOT_TOKEN is set (TELEGRAM_ALLOWED_USERS: comma-separated user ids,
 *   who may talk to it and get the host's alerts).
 * - The HTTP API, /health, /metrics and the dashboard on http://127.0.0.1:8787 (AGENTD_PORT).
 * - The monitor (CPU, memory, disk alerts) and Prometheus metrics with history.
 * - The `greeter` plugin from ../custom-plugin, and a daily report schedule.
 *
 * Copy `.env.example` to `.env` and fill in what you have; the CLI reads `.env` beside this file.
 */
const env = process.env;

// The API token `agentd ask` / `agentd chat` and the dashboard use: AGENTD_API_TOKEN, or one
// generated once into .agentd/api-token so a fresh checkout runs without any setup. Both the
// host and the CLI load this file, so both read the same token.
if (!env.AGENTD_API_TOKEN) {
  const file = '.agentd/api-token';
  if (!existsSync(file)) {
    mkdirSync('.agentd', { recursive: true });
    writeFileSync(file, randomBytes(24).toString('hex'), { mode: 0o600 });
  }
  env.AGENTD_API_TOKEN = readFileSync(file, 'utf8').trim();
}

const SYSTEM = 'You are the assistant of an agentd host. Answer briefly.';
// A key turns a provider on (a local server such as Ollama takes any key: LLM_API_KEY=ollama).
const hasPrimary = Boolean(env.LLM_API_KEY);
const hasFallback = Boolean(env.LLM_FALLBACK_API_KEY);

const llmAgents = [
  hasPrimary &&
    llmAgent({
      name: 'assistant',
      baseUrl: env.LLM_BASE_URL || 'https://api.openai.com/v1',
      model: env.LLM_MODEL || 'gpt-4o-mini',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: filled in by the host and masked in logs
      apiKey: '${LLM_API_KEY}',
      system: SYSTEM,
    }),
  hasFallback &&
    llmAgent({
      name: 'assistant-fallback',
      baseUrl: env.LLM_FALLBACK_BASE_URL || 'https://openrouter.ai/api/v1',
      model: env.LLM_FALLBACK_MODEL || 'openai/gpt-4o-mini',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: filled in by the host and masked in logs
      apiKey: '${LLM_FALLBACK_API_KEY}',
      system: SYSTEM,
    }),
].filter((a) => a !== false);

const echo = agent(
  'assistant',
  (input) => `echo: ${String(input)} (set LLM_API_KEY in .env for a real model)`,
);
const telegramUsers = (env.TELEGRAM_ALLOWED_USERS ?? '').split(',').filter(Boolean);

export default defineConfig({
  name: 'starter',
  agents: hasPrimary ? llmAgents : [echo],
  defaultAgent: 'assistant',
  ...(hasPrimary && hasFallback && { failover: { chains: ['assistant -> assistant-fallback'] } }),
  // Up to 16 runs at once, so one chat waiting on the LLM never holds up the others (the
  // default of 3 suits agents that start processes, such as coding CLIs: docs/tasks.md).
  runner: { concurrency: 16 },
  plugins: [
    sqlite(),
    webhook({
      port: Number(env.AGENTD_PORT || 8787), // on 127.0.0.1 only
      // biome-ignore lint/suspicious/noTemplateCurlyInString: filled in by the host and masked in logs
      api: { token: '${AGENTD_API_TOKEN}' },
    }),
    dashboard(),
    monitor(),
    metrics(),
    greeter({ greeting: 'Hello', heartbeatMs: 0 }),
    env.TELEGRAM_BOT_TOKEN &&
      telegram({
        // biome-ignore lint/suspicious/noTemplateCurlyInString: filled in by the host and masked in logs
        token: '${TELEGRAM_BOT_TOKEN}',
        allowedUsers: telegramUsers,
        ...(telegramUsers.length > 0 && { alerts: { chats: telegramUsers } }),
      }),
  ],
  schedules: [
    {
      name: 'daily-report',
      cron: '0 8 * * *',
      missed: 'skip',
      task: { agent: 'assistant', input: 'Write a one-line good-morning report for the operator.' },
    },
  ],
});
