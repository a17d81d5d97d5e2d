/** The channels a new host can have. `http` is the webhook plugin's HTTP API (and /health). */
export const CHANNELS = ['telegram', 'http', 'dashboard'] as const;
export type Channel = (typeof CHANNELS)[number];

/** `echo` answers with what it was sent; `openai` is any OpenAI-compatible API by base URL. */
export const AGENTS = ['echo', 'openai'] as const;
export type AgentKind = (typeof AGENTS)[number];

/** What the new host is made of. */
export interface Choices {
  /** The host's (and package's) name. */
  name: string;
  channels: Channel[];
  agent: AgentKind;
  /** For `openai`: the provider's base URL and model, written to `.env.example` and `.env`. */
  baseUrl: string;
  model: string;
  /** The version range of the @agentd packages (`^` + create-agentd's own version). */
  agentdRange: string;
}

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
export const DEFAULT_MODEL = 'gpt-4o-mini';

/** Thrown for bad flags or a folder that cannot be used; the CLI prints the message, exit 1. */
export class CreateError extends Error {
  override name = 'CreateError';
}

/**
 * Parses `--channels telegram,http`: known names only; the dashboard needs the HTTP server, so it
 * brings `http` along.
 *
 * @example
 * ```ts
 * parseChannels('dashboard'); // ['http', 'dashboard']
 * ```
 */
export function parseChannels(text: string): Channel[] {
  const names = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
    .map((s) => (s === 'webhook' || s === 'api' ? 'http' : s));
  const unknown = names.filter((n) => !(CHANNELS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new CreateError(
      `unknown channel ${unknown.map((u) => `"${u}"`).join(', ')}: choose from ${CHANNELS.join(', ')}`,
    );
  }
  return withDependencies(names as Channel[]);
}

/** Adds `http` when the dashboard is chosen, and keeps the canonical order. */
export function withDependencies(channels: readonly Channel[]): Channel[] {
  const set = new Set(channels);
  if (set.has('dashboard')) set.add('http');
  return CHANNELS.filter((c) => set.has(c));
}

/**
 * Parses `--agent echo|openai` (`llm` is read as `openai`).
 *
 * @example
 * ```ts
 * parseAgent('llm'); // 'openai'
 * ```
 */
export function parseAgent(text: string): AgentKind {
  const name = text.trim().toLowerCase();
  const kind = name === 'llm' || name === 'openai-compatible' ? 'openai' : name;
  if (!(AGENTS as readonly string[]).includes(kind)) {
    throw new CreateError(
      `unknown agent "${text}": choose echo or openai (any OpenAI-compatible API)`,
    );
  }
  return kind as AgentKind;
}

/** A folder name made into an npm package name (`My Host` -> `my-host`). */
export function packageName(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|[-]+$/g, '');
  return name || 'agentd-host';
}
