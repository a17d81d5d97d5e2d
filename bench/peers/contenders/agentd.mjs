// agentd (Node 20, this repository's build): the webhook plugin's OpenAI-compatible endpoint
// (POST /v1/chat/completions) in front of an llmAgent that calls the fake LLM; SQLite store. Each
// message is a durable task through the inbound router, in the conversation named by `user`.
import { join } from 'node:path';
import { createHost, HttpServerToken, llmAgent } from '@agentd/core';
import { silentLogger } from '@agentd/core/host';
import { webhook } from '@agentd/plugin-webhook';
import { sqlite } from '@agentd/store-sqlite';
import { childOptions, serveParent } from './child.mjs';

const TOKEN = 'bench-peers-api-token-0123456789';
const { llmUrl, dir } = childOptions();
const host = createHost({
  logger: silentLogger(),
  // The default per-user rate limit (30 messages a minute) is a guard for real chats; a bench
  // whose users send a message whenever their reply has come would only measure the refusals.
  budgets: { rateLimits: false },
  agents: [llmAgent({ name: 'assistant', baseUrl: llmUrl, model: 'fake', apiKey: 'sk-fake' })],
  plugins: [
    sqlite({ path: join(dir, 'agentd.db') }),
    webhook({ port: 0, api: { token: TOKEN }, openai: true }),
  ],
});
await host.start();
serveParent({
  url: host.resolve(HttpServerToken).address.url,
  info: { token: TOKEN },
  close: () => host.stop('bench'),
});
