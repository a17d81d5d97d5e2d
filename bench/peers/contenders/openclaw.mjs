// OpenClaw (Node 24: it needs >= 24.16): its Gateway (`openclaw gateway run`, the same process
// its users run) with the OpenAI-compatible Chat Completions endpoint enabled
// (gateway.http.endpoints.chatCompletions), token auth, and one custom provider (`models.providers`,
// api openai-completions) whose base URL is the fake LLM; the default agent's model is that one.
// Each message: POST /v1/chat/completions { model: 'openclaw', user } (the `user` keeps a session
// per user). This launcher writes the config into a scratch state directory, starts the Gateway
// as its child and reports ready once /health answers; bench.mjs measures the whole process tree.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childOptions, freePort, serveParent } from './child.mjs';

const TOKEN = 'bench-peers-api-token-0123456789';
const { llmUrl, dir } = childOptions();
const home = join(dir, 'home');
const state = join(home, '.openclaw');
mkdirSync(state, { recursive: true });
const port = await freePort();
const config = {
  gateway: {
    mode: 'local',
    port,
    bind: 'loopback',
    auth: { mode: 'token', token: TOKEN },
    http: { endpoints: { chatCompletions: { enabled: true } } },
  },
  // Errors only on the console, as for the other contenders; its log file stays in the scratch dir.
  logging: { file: join(dir, 'openclaw.log'), consoleLevel: 'error' },
  agents: { defaults: { workspace: join(state, 'workspace'), model: { primary: 'fake/fake' } } },
  models: {
    mode: 'replace',
    providers: {
      fake: {
        baseUrl: llmUrl,
        apiKey: 'sk-fake',
        api: 'openai-completions',
        models: [
          {
            id: 'fake',
            name: 'Fake',
            reasoning: false,
            input: ['text'],
            cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
            contextWindow: 128000,
            maxTokens: 4096,
          },
        ],
      },
    },
  },
};
const configPath = join(state, 'openclaw.json');
writeFileSync(configPath, JSON.stringify(config, null, 2));
const cli = fileURLToPath(
  new URL('../openclaw/node_modules/openclaw/openclaw.mjs', import.meta.url),
);
const gateway = spawn(process.execPath, [cli, 'gateway', 'run'], {
  cwd: dir,
  env: {
    ...process.env,
    HOME: home,
    OPENCLAW_STATE_DIR: state,
    OPENCLAW_CONFIG_PATH: configPath,
    OPENCLAW_DISABLE_BONJOUR: '1',
    OPENCLAW_NO_AUTO_UPDATE: '1',
    OPENCLAW_NO_RESPAWN: '1',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
gateway.once('exit', (code, signal) => {
  process.stderr.write(`openclaw gateway exited (${code ?? signal})\n`);
  process.exit(1);
});
const url = `http://127.0.0.1:${port}`;
for (;;) {
  try {
    const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    if (r.ok) break;
  } catch {}
  await new Promise((r) => setTimeout(r, 200));
}
serveParent({
  url,
  info: { token: TOKEN },
  close: () =>
    new Promise((resolve) => {
      gateway.removeAllListeners('exit');
      gateway.once('exit', resolve);
      gateway.kill('SIGTERM');
      setTimeout(() => gateway.kill('SIGKILL'), 10_000).unref();
    }),
});
