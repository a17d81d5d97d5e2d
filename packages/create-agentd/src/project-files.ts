import { randomBytes } from 'node:crypto';
import type { Choices } from './choices.js';
import { configFile, pluginStub } from './config-template.js';

/**
 * Every file of the new project, by relative path. `.env` holds a freshly generated API token
 * (and nothing else secret), so `npm start` and `npx agentd ask` work at once.
 *
 * @example
 * ```ts
 * const files = projectFiles({ name: 'my-host', channels: ['http'], agent: 'echo', baseUrl: '', model: '', agentdRange: '^0.1.0' });
 * Object.keys(files); // ['package.json', 'agentd.config.ts', ...]
 * ```
 */
export function projectFiles(c: Choices): Record<string, string> {
  const has = (ch: Choices['channels'][number]) => c.channels.includes(ch);
  const dependencies: Record<string, string> = {
    '@agentd/core': c.agentdRange,
    ...(has('dashboard') && { '@agentd/plugin-dashboard': c.agentdRange }),
    '@agentd/plugin-monitor': c.agentdRange,
    ...(has('telegram') && { '@agentd/plugin-telegram': c.agentdRange }),
    ...(has('http') && { '@agentd/plugin-webhook': c.agentdRange }),
    '@agentd/store-sqlite': c.agentdRange,
  };
  const pkg = {
    name: c.name,
    private: true,
    version: '0.0.0',
    type: 'module',
    engines: { node: '>=20.12' },
    scripts: { start: 'agentd start', check: 'agentd check' },
    dependencies,
  };
  return {
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    'agentd.config.ts': configFile(c),
    'plugins/hello.ts': pluginStub(),
    '.env.example': envFile(c, false),
    '.env': envFile(c, true),
    '.gitignore': 'node_modules/\n.agentd/\n.env\n*.db\n*.db-wal\n*.db-shm\n',
    'README.md': readme(c),
  };
}

function envFile(c: Choices, filled: boolean): string {
  const has = (ch: Choices['channels'][number]) => c.channels.includes(ch);
  const lines = [
    filled
      ? '# Your settings (not committed: .gitignore lists .env). .env.example documents each one.'
      : '# Copy to .env and fill in what you have. Nothing is required: without keys the echo agent answers.',
  ];
  if (c.agent === 'openai') {
    lines.push(
      '',
      '# The LLM: any OpenAI-compatible API by base URL (OpenAI, OpenRouter, Groq, Ollama at http://127.0.0.1:11434/v1 ...).',
      '# A key turns it on; a local server takes any key (LLM_API_KEY=ollama).',
      'LLM_API_KEY=',
      `LLM_BASE_URL=${c.baseUrl}`,
      `LLM_MODEL=${c.model}`,
      '',
      '# A second provider the host fails over to on rate limits and outages; its key turns it on.',
      'LLM_FALLBACK_API_KEY=',
      'LLM_FALLBACK_BASE_URL=https://openrouter.ai/api/v1',
      'LLM_FALLBACK_MODEL=openai/gpt-4o-mini',
    );
  }
  if (has('telegram')) {
    lines.push(
      '',
      '# Telegram: a bot token from @BotFather, and your numeric user id(s), comma-separated.',
      'TELEGRAM_BOT_TOKEN=',
      'TELEGRAM_ALLOWED_USERS=',
    );
  }
  if (has('http')) {
    lines.push(
      '',
      '# The HTTP API (and /health, /metrics, the dashboard) on 127.0.0.1:AGENTD_PORT.',
      'AGENTD_PORT=8787',
      '# The API token agentd ask/chat and the dashboard use: at least 16 characters (openssl rand -hex 32).',
      `AGENTD_API_TOKEN=${filled ? randomBytes(24).toString('hex') : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function readme(c: Choices): string {
  const has = (ch: Choices['channels'][number]) => c.channels.includes(ch);
  const steps = [
    '```sh\nnpm install\nnpm start\n```',
    c.agent === 'openai'
      ? 'Until `LLM_API_KEY` is set in `.env`, an echo agent answers. Fill in the key (and `LLM_BASE_URL`, `LLM_MODEL` for another provider), restart, and `assistant` is an LLM; with `LLM_FALLBACK_*` it fails over to a second provider.'
      : 'The `assistant` agent echoes what it is sent: replace it in `agentd.config.ts` with your own (`agent(name, fn)`, or `llmAgent` for an OpenAI-compatible API).',
    has('http') &&
      'In another terminal:\n\n```sh\nnpx agentd ask "hello"   # one question, prints the answer\nnpx agentd chat          # a terminal chat with the host\n```',
    has('dashboard') && 'The dashboard: <http://127.0.0.1:8787/dashboard>.',
    has('telegram') &&
      'For Telegram, create a bot with @BotFather and set `TELEGRAM_BOT_TOKEN` and `TELEGRAM_ALLOWED_USERS` (your numeric user id) in `.env`.',
  ].filter(Boolean);
  return `# ${c.name}

An [agentd](https://www.npmjs.com/package/@agentd/core) host: channels ${c.channels.length > 0 ? c.channels.join(', ') : '(none yet)'}, agent ${c.agent === 'openai' ? 'an OpenAI-compatible LLM (echo until a key is set)' : 'echo'}.

## Next steps

${steps.join('\n\n')}

## Files

- \`agentd.config.ts\`: agents, plugins, schedules. \`npm run check\` validates it.
- \`plugins/hello.ts\`: a plugin of your own to grow (it adds the \`hello\` agent).
- \`.env\`: your settings and secrets (not committed); \`.env.example\` lists every variable.
- \`.agentd/\`: the embedded SQLite store.
`;
}
