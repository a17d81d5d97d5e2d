import type { Choices } from './choices.js';

const PLACEHOLDER_NOTE =
  '// biome-ignore lint/suspicious/noTemplateCurlyInString: agentd fills the placeholder in from the environment and masks it in logs';

/**
 * The config fields of a host whose agent calls an LLM: the failover chain once both providers
 * have keys, and a runner that runs 16 chats at once, so one waiting on the provider never holds
 * up the others (the runner's default of 3 suits agents that start processes).
 */
const LLM_CONFIG_FIELDS = `  ...(hasPrimary && hasFallback && { failover: { chains: ['assistant -> assistant-fallback'] } }),
  // Up to 16 runs at once, so one chat waiting on the LLM never holds up the others (the
  // default of 3 suits agents that start processes, such as coding CLIs).
  runner: { concurrency: 16 },
`;

/**
 * The new host's `agentd.config.ts`: the echo agent, or an OpenAI-compatible agent chain from
 * environment variables that falls back to the echo agent while no key is set; the chosen
 * channels; the embedded store, the monitor with metrics, and the plugin stub.
 *
 * @example
 * ```ts
 * configFile({ name: 'my-host', channels: ['http'], agent: 'echo', baseUrl: '', model: '', agentdRange: '^0.1.0' });
 * ```
 */
export function configFile(c: Choices): string {
  const has = (ch: Choices['channels'][number]) => c.channels.includes(ch);
  const llm = c.agent === 'openai';
  const imports = [
    `import { agent, defineConfig${llm ? ', llmAgent' : ''} } from '@agentd/core';`,
    has('dashboard') && `import { dashboard } from '@agentd/plugin-dashboard';`,
    `import { metrics, monitor } from '@agentd/plugin-monitor';`,
    has('telegram') && `import { telegram } from '@agentd/plugin-telegram';`,
    has('http') && `import { webhook } from '@agentd/plugin-webhook';`,
    `import { sqlite } from '@agentd/store-sqlite';`,
    `import { hello } from './plugins/hello.js';`,
  ].filter(Boolean);

  const agents = llm
    ? `
// A key turns a provider on; without one the echo agent answers, so \`npm start\` works at once.
// A local server such as Ollama takes any key (LLM_API_KEY=ollama).
const hasPrimary = Boolean(env.LLM_API_KEY);
const hasFallback = Boolean(env.LLM_FALLBACK_API_KEY);
const SYSTEM = 'You are a helpful assistant. Answer briefly.';

const agents = hasPrimary
  ? [
      llmAgent({
        name: 'assistant',
        baseUrl: env.LLM_BASE_URL || '${c.baseUrl}',
        model: env.LLM_MODEL || '${c.model}',
        ${PLACEHOLDER_NOTE}
        apiKey: '\${LLM_API_KEY}',
        system: SYSTEM,
      }),
      ...(hasFallback
        ? [
            llmAgent({
              name: 'assistant-fallback',
              baseUrl: env.LLM_FALLBACK_BASE_URL || 'https://openrouter.ai/api/v1',
              model: env.LLM_FALLBACK_MODEL || 'openai/gpt-4o-mini',
              ${PLACEHOLDER_NOTE}
              apiKey: '\${LLM_FALLBACK_API_KEY}',
              system: SYSTEM,
            }),
          ]
        : []),
    ]
  : [echo];
`
    : `
const agents = [echo];
`;

  const plugins = [
    `sqlite(), // .agentd/agentd.db`,
    has('http') &&
      `webhook({
      port: Number(env.AGENTD_PORT || 8787), // on 127.0.0.1 only
      ${PLACEHOLDER_NOTE}
      api: { token: '\${AGENTD_API_TOKEN}' },
    }),`,
    has('dashboard') && `dashboard(), // http://127.0.0.1:8787/dashboard`,
    `monitor(), // CPU, memory and disk alerts`,
    `metrics(), // Prometheus figures${has('http') ? ' at /metrics' : ''}, with history`,
    `hello(), // your own plugin: plugins/hello.ts`,
    has('telegram') &&
      `env.TELEGRAM_BOT_TOKEN &&
      telegram({
        ${PLACEHOLDER_NOTE}
        token: '\${TELEGRAM_BOT_TOKEN}',
        allowedUsers: telegramUsers,
        ...(telegramUsers.length > 0 && { alerts: { chats: telegramUsers } }),
      }),`,
  ].filter(Boolean);

  return `${imports.join('\n')}

/**
 * ${c.name}: an agentd host. \`npm start\` runs it; \`npx agentd check\` validates this file.
 * The CLI reads \`.env\` beside this file (see .env.example for every variable).
 */
const env = process.env;

const echo = agent('assistant', (input) => \`echo: \${String(input)}\`);
${agents}${has('telegram') ? "const telegramUsers = (env.TELEGRAM_ALLOWED_USERS ?? '').split(',').filter(Boolean);\n" : ''}
export default defineConfig({
  name: '${c.name}',
  agents,
  defaultAgent: 'assistant',
${llm ? LLM_CONFIG_FIELDS : ''}  plugins: [
    ${plugins.join('\n    ')}
  ],
});
`;
}

/** `plugins/hello.ts`: a custom plugin stub with an agent, a health check and start/stop. */
export function pluginStub(): string {
  return `import { AgentRegistryToken, HealthRegistryToken, type Plugin } from '@agentd/core';

/**
 * Your own plugin: a plain object from a factory. It adds an agent named \`hello\` and a health
 * check; start and stop are where timers, connections and servers go. Try it while the host runs:
 *   npx agentd enqueue "Ada" --agent hello
 * agentd's docs (docs/extending.md) show services, validated options and more.
 */
export function hello(options: { greeting?: string } = {}): Plugin {
  const greeting = options.greeting ?? 'Hello';
  return {
    name: 'hello',
    register(ctx) {
      ctx.resolve(AgentRegistryToken).add({
        name: 'hello',
        run: async (input) => ({ output: \`\${greeting}, \${String(input)}!\` }),
      });
      ctx.resolve(HealthRegistryToken).add({ name: 'hello', check: () => ({ status: 'pass' }) });
    },
    start(ctx) {
      ctx.logger.info('hello plugin started');
    },
    stop() {},
  };
}
`;
}
