// Mastra (Node 22: @mastra/core needs >= 22.13): an Agent whose model is an OpenAI-compatible
// config pointing at the fake LLM, with Memory on LibSQL (a file) so that each conversation's
// messages are stored, served by Mastra's own Hono server adapter (@mastra/hono) on
// @hono/node-server: POST /api/agents/assistant/generate with memory { thread, resource }.
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Agent } from '@mastra/core/agent';
import { Mastra } from '@mastra/core/mastra';
import { MastraServer } from '@mastra/hono';
import { LibSQLStore } from '@mastra/libsql';
import { Memory } from '@mastra/memory';
import { Hono } from 'hono';
import { childOptions, serveParent } from './child.mjs';

const { llmUrl, dir } = childOptions();
const storage = new LibSQLStore({ id: 'bench', url: `file:${join(dir, 'mastra.db')}` });
const assistant = new Agent({
  id: 'assistant',
  name: 'assistant',
  instructions: 'You are a helpful assistant.',
  model: { providerId: 'fake', modelId: 'fake', url: llmUrl, apiKey: 'sk-fake' },
  memory: new Memory({ storage }),
});
const mastra = new Mastra({ agents: { assistant }, storage });
const app = new Hono();
await new MastraServer({ app, mastra }).init();
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
await new Promise((resolve) => server.once('listening', resolve));
serveParent({
  url: `http://127.0.0.1:${server.address().port}`,
  close: () => new Promise((resolve) => server.close(() => resolve())),
});
