// ElizaOS (Node 20): @elizaos/server's AgentServer (Express) with one character and the SQL
// (PGlite, a directory), bootstrap and OpenAI plugins; the OpenAI plugin's base URL is the fake
// LLM. A message goes in through the Sessions API with the synchronous HTTP transport
// (POST /api/messaging/sessions/:id/messages { content, transport: 'http' }), which answers with
// the agent's response; each user has a session of their own (made by the bench before timing).
import { join } from 'node:path';
import { childOptions, freePort, serveParent } from './child.mjs';

const { llmUrl, dir } = childOptions();
process.env.OPENAI_API_KEY = 'sk-fake';
process.env.OPENAI_BASE_URL = llmUrl;
process.env.OPENAI_EMBEDDING_URL = llmUrl;
process.env.LOG_LEVEL = 'error';
process.env.PGLITE_DATA_DIR = join(dir, 'pglite');
process.env.ELIZA_UI_ENABLE = 'false';
// The AI SDK warns on every call that the Responses API ignores the penalties ElizaOS sends.
globalThis.AI_SDK_LOG_WARNINGS = false;
const { AgentServer } = await import('@elizaos/server');
const sql = (await import('@elizaos/plugin-sql')).default;
const bootstrap = (await import('@elizaos/plugin-bootstrap')).default;
const openai = (await import('@elizaos/plugin-openai')).default;
const server = new AgentServer();
const port = await freePort();
await server.start({
  port,
  dataDir: join(dir, 'pglite'),
  agents: [
    {
      character: {
        name: 'Assistant',
        bio: ['A helpful assistant.'],
        system: 'You are a helpful assistant.',
      },
      plugins: [sql, bootstrap, openai],
    },
  ],
});
serveParent({
  url: `http://127.0.0.1:${port}`,
  info: { agentId: server.getAllAgents()[0].agentId },
  close: () => server.stop(),
});
