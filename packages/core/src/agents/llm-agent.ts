import { hasPlaceholder } from '../config/interpolate.js';
import type { Agent, AgentResult, AgentRunContext } from '../contracts/agent.js';
import type { JsonValue } from '../contracts/json.js';
import { parseRetryAfter } from '../failover/classifier.js';
import { AgentError } from '../failover/errors.js';
import { ConfigError } from '../kernel/errors.js';

/** Options of {@link llmAgent}. */
export interface LlmAgentOptions {
  name: string;
  /**
   * Base URL of an OpenAI-compatible API, e.g. `https://api.openai.com/v1`,
   * `http://127.0.0.1:11434/v1`, or a placeholder such as `'${OPENAI_BASE_URL}'`.
   */
  baseUrl: string;
  /**
   * Sent as `Authorization: Bearer ...` when given (Ollama and LM Studio need none). Write
   * `'${OPENAI_API_KEY}'` to take it from the environment: the host fills it in at start and
   * masks it in logs, task records and replies.
   */
  apiKey?: string;
  model: string;
  /** The system prompt; a session's persona is appended to it. */
  system?: string;
  temperature?: number;
  maxTokens?: number;
  /** Abort a request after this long (default 120 s). */
  timeoutMs?: number;
  /** Past turns of the session sent with each request (default 20). */
  historyTurns?: number;
  /** US dollars per million tokens, to report a cost with the usage. */
  price?: { inputPerMTokUsd: number; outputPerMTokUsd: number };
  /** Extra headers (OpenRouter's `HTTP-Referer`, for example). */
  headers?: Readonly<Record<string, string>>;
}

interface ChatResponse {
  choices?: {
    message?: { content?: string | null; refusal?: string | null };
    finish_reason?: string;
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  error?: { message?: string; code?: string; type?: string };
}

/**
 * An agent for OpenAI-compatible chat APIs (OpenAI, Ollama, vLLM, LM Studio, OpenRouter...), over
 * plain `fetch`. Sends the system prompt (plus the session's persona), the session's recent
 * history and the input; returns the answer with token usage (and cost, with `price`). Failures
 * become classified {@link AgentError}s: 429 is a rate limit (with `Retry-After`), 401/403 auth,
 * a content-filter finish or refusal is `content_filter`, 5xx an API error, a timeout `timeout`,
 * and an empty answer `empty_result`.
 *
 * `${ENV}` placeholders in any string option (`apiKey`, `baseUrl`, `model`, `headers`) are
 * filled in by the host when it starts, which reports unset variables with the agent's config
 * path. Options of the wrong type throw a {@link ConfigError} naming the agent and the option.
 *
 * @example
 * ```ts
 * llmAgent({
 *   name: 'local', baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3.1',
 *   system: 'You are a terse assistant.',
 * });
 * llmAgent({
 *   name: 'gpt', baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini',
 *   apiKey: '${OPENAI_API_KEY}',
 * });
 * ```
 */
export function llmAgent(options: LlmAgentOptions): Agent {
  const problems = optionProblems(options);
  if (problems.length > 0) {
    const name = typeof options?.name === 'string' ? options.name : '(unnamed)';
    throw new ConfigError(
      `llmAgent "${name}": ${problems.length === 1 ? problems[0] : 'invalid options'}`,
      problems.length === 1 ? [] : problems,
    );
  }
  // Placeholders are filled in by the host (`withOptions`); until then the agent cannot run.
  const unresolved = Object.values(options).some(
    (v) =>
      (typeof v === 'string' && hasPlaceholder(v)) ||
      (typeof v === 'object' &&
        v !== null &&
        Object.values(v).some((h) => typeof h === 'string' && hasPlaceholder(h))),
  );
  const url = unresolved ? '' : `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const timeoutMs = options.timeoutMs ?? 120_000;
  return {
    name: options.name,
    options,
    withOptions: (resolved) => llmAgent(resolved as LlmAgentOptions),
    async run(input: JsonValue, ctx: AgentRunContext): Promise<AgentResult> {
      if (unresolved) {
        throw new AgentError(
          `llmAgent "${options.name}" still has \${...} placeholders in its options: run it in a host (createHost fills them in from the environment)`,
          { errorClass: 'auth' },
        );
      }
      const system = [options.system, ctx.session?.persona && `Persona: ${ctx.session.persona}`]
        .filter(Boolean)
        .join('\n\n');
      const history = ctx.history ? await ctx.history((options.historyTurns ?? 20) * 2) : [];
      const messages = [
        ...(system ? [{ role: 'system', content: system }] : []),
        ...history
          .filter((h) => h.role === 'user' || h.role === 'assistant')
          .map((h) => ({ role: h.role, content: h.content })),
        { role: 'user', content: typeof input === 'string' ? input : JSON.stringify(input) },
      ];
      const controller = new AbortController();
      const timer = ctx.clock.setTimeout(() => controller.abort(), timeoutMs);
      const onAbort = () => controller.abort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      let res: Response;
      let body: ChatResponse;
      try {
        res = await fetch(url, {
          method: 'POST',
          signal: controller.signal,
          headers: {
            'content-type': 'application/json',
            ...(options.apiKey && { authorization: `Bearer ${options.apiKey}` }),
            ...options.headers,
          },
          body: JSON.stringify({
            model: options.model,
            messages,
            ...(options.temperature !== undefined && { temperature: options.temperature }),
            ...(options.maxTokens !== undefined && { max_tokens: options.maxTokens }),
          }),
        });
        const text = await res.text();
        try {
          body = text ? (JSON.parse(text) as ChatResponse) : {};
        } catch {
          body = { error: { message: text.slice(0, 500) } };
        }
      } catch (err) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        if (controller.signal.aborted) {
          throw new AgentError(`${options.model} did not answer within ${timeoutMs} ms`, {
            errorClass: 'timeout',
          });
        }
        throw new AgentError(`request to ${options.baseUrl} failed: ${(err as Error).message}`, {
          errorClass: 'api_error',
          cause: err,
        });
      } finally {
        timer.cancel();
        ctx.signal.removeEventListener('abort', onAbort);
      }
      if (!res.ok) {
        const detail = body.error?.message ?? res.statusText;
        const filtered = /content[_ ]?(filter|policy)/i.test(`${body.error?.code ?? ''} ${detail}`);
        throw new AgentError(`${options.model}: HTTP ${res.status}: ${detail}`, {
          status: res.status,
          ...(filtered && { errorClass: 'content_filter' as const }),
          ...(res.status === 429 && {
            retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), Date.now()) ?? 30_000,
          }),
        });
      }
      const choice = body.choices?.[0];
      if (choice?.finish_reason === 'content_filter' || choice?.message?.refusal) {
        throw new AgentError(
          `${options.model} refused: ${choice?.message?.refusal ?? 'content filter'}`,
          {
            errorClass: 'content_filter',
          },
        );
      }
      const content = choice?.message?.content ?? '';
      if (content.trim() === '') {
        throw new AgentError(`${options.model} returned an empty answer`, {
          errorClass: 'empty_result',
        });
      }
      const inputTokens = body.usage?.prompt_tokens;
      const outputTokens = body.usage?.completion_tokens;
      const price = options.price;
      return {
        output: content,
        usage: {
          model: options.model,
          ...(inputTokens !== undefined && { inputTokens }),
          ...(outputTokens !== undefined && { outputTokens }),
          ...(price && {
            costUsd:
              ((inputTokens ?? 0) * price.inputPerMTokUsd +
                (outputTokens ?? 0) * price.outputPerMTokUsd) /
              1_000_000,
          }),
        },
      };
    },
  };
}

/** What is wrong with the options, one `option: problem` line each. */
function optionProblems(options: LlmAgentOptions): string[] {
  if (typeof options !== 'object' || options === null) return ['expected an options object'];
  const problems: string[] = [];
  const text = (key: 'name' | 'baseUrl' | 'model' | 'apiKey' | 'system', required: boolean) => {
    const value = options[key];
    if (value === undefined && !required) return;
    if (typeof value !== 'string' || (required && value.trim() === '')) {
      problems.push(
        `${key} ${value === undefined ? 'is missing' : 'must be a non-empty string'}${
          key === 'baseUrl'
            ? // biome-ignore lint/suspicious/noTemplateCurlyInString: a config placeholder, shown as written
              " (the API's base URL, e.g. https://api.openai.com/v1, or '${OPENAI_BASE_URL}')"
            : ''
        }`,
      );
    }
  };
  text('name', true);
  text('baseUrl', true);
  text('model', true);
  text('apiKey', false);
  text('system', false);
  const { baseUrl } = options;
  if (typeof baseUrl === 'string' && baseUrl.trim() !== '' && !hasPlaceholder(baseUrl)) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(baseUrl);
    } catch {}
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      problems.push('baseUrl must be an http(s) URL, e.g. https://api.openai.com/v1');
    }
  }
  if (options.headers !== undefined) {
    const h = options.headers;
    if (typeof h !== 'object' || h === null || Object.values(h).some((v) => typeof v !== 'string'))
      problems.push('headers must map header names to strings');
  }
  return problems;
}
