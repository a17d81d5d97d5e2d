#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as prompts from '@clack/prompts';
import {
  type AgentKind,
  type Channel,
  type Choices,
  CreateError,
  DEFAULT_BASE_URL,
  DEFAULT_MODEL,
  packageName,
  parseAgent,
  parseChannels,
  withDependencies,
} from './choices.js';
import { createProject } from './create.js';

const USAGE = `Usage: npm create agentd@latest [folder] -- [options]
       create-agentd [folder] [options]

Options:
  --channels LIST   telegram,http,dashboard (comma-separated; dashboard brings http)
  --agent KIND      echo, or openai (any OpenAI-compatible API, echo until a key is set)
  --base-url URL    the LLM's base URL (default ${DEFAULT_BASE_URL})
  --model NAME      the LLM's model (default ${DEFAULT_MODEL})
  --yes, -y         no questions: defaults for what no flag says (http,dashboard and openai)
  --help, -h        this help`;

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      channels: { type: 'string' },
      agent: { type: 'string' },
      'base-url': { type: 'string' },
      model: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length > 1)
    throw new CreateError(`one folder, please (got ${positionals.join(' ')})`);
  const ask = !values.yes && process.stdin.isTTY === true;
  if (ask) prompts.intro(`create-agentd ${version}`);

  let folder: string = positionals[0] ?? '';
  if (!folder) {
    if (!ask) throw new CreateError(`name the folder: create-agentd my-host\n\n${USAGE}`);
    folder = answer(
      await prompts.text({
        message: 'Folder for the new host',
        placeholder: 'my-host',
        defaultValue: 'my-host',
      }),
    );
  }
  let channels: Channel[];
  if (values.channels !== undefined) channels = parseChannels(values.channels);
  else if (ask) {
    channels = withDependencies(
      answer(
        await prompts.multiselect<Channel>({
          message: 'Channels (space to toggle)',
          options: [
            { value: 'http', label: 'HTTP API', hint: 'agentd ask/chat, webhooks, /health' },
            { value: 'dashboard', label: 'Dashboard', hint: 'web UI on 127.0.0.1' },
            { value: 'telegram', label: 'Telegram', hint: 'a bot, once TELEGRAM_BOT_TOKEN is set' },
          ],
          initialValues: ['http', 'dashboard', 'telegram'],
          required: false,
        }),
      ),
    );
  } else channels = ['http', 'dashboard'];

  let agent: AgentKind;
  if (values.agent !== undefined) agent = parseAgent(values.agent);
  else if (ask) {
    agent = answer(
      await prompts.select<AgentKind>({
        message: 'Agent',
        options: [
          {
            value: 'openai',
            label: 'An LLM',
            hint: 'any OpenAI-compatible API; echo until a key is set',
          },
          { value: 'echo', label: 'Echo', hint: 'answers with what it is sent' },
        ],
      }),
    );
  } else agent = 'openai';

  let baseUrl = values['base-url'] ?? DEFAULT_BASE_URL;
  let model = values.model ?? DEFAULT_MODEL;
  if (agent === 'openai' && ask && values['base-url'] === undefined) {
    baseUrl = answer(
      await prompts.text({
        message: 'Base URL of the OpenAI-compatible API',
        placeholder: DEFAULT_BASE_URL,
        defaultValue: DEFAULT_BASE_URL,
        validate: (v) => (!v || /^https?:\/\/\S+$/.test(v) ? undefined : 'an http(s) URL'),
      }),
    );
    if (values.model === undefined) {
      model = answer(
        await prompts.text({
          message: 'Model',
          placeholder: DEFAULT_MODEL,
          defaultValue: DEFAULT_MODEL,
        }),
      );
    }
  }
  if (!/^https?:\/\/\S+$/.test(baseUrl))
    throw new CreateError(`--base-url must be an http(s) URL, not "${baseUrl}"`);
  if (/['`\\\s]/.test(model) || model === '')
    throw new CreateError(`--model "${model}" is not a model name`);

  const choices: Choices = {
    name: packageName(basename(resolve(folder))),
    channels,
    agent,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    model,
    agentdRange: `^${version}`,
  };
  const files = createProject(folder, choices);
  const next = [`cd ${folder}`, 'npm install', 'npm start'];
  if (ask) {
    prompts.note(next.join('\n'), 'Next steps');
    prompts.outro(`Wrote ${files.length} files. See README.md in ${folder}.`);
  } else {
    console.log(`Created ${folder}: ${files.join(', ')}\n\nNext steps:\n  ${next.join('\n  ')}`);
  }
  return 0;
}

/** The value of a prompt, or exit quietly when the user cancelled (Ctrl-C). */
function answer<T>(value: T): Exclude<T, symbol> {
  if (prompts.isCancel(value)) {
    prompts.cancel('Cancelled: nothing was written.');
    process.exit(130);
  }
  return value as Exclude<T, symbol>;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const known =
      err instanceof CreateError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(
      `create-agentd: ${known ? (err as Error).message : String((err as Error).stack ?? err)}`,
    );
    process.exit(1);
  },
);
