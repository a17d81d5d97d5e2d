import type { Agent, AgentRegistry } from '../contracts/agent.js';
import type {
  Address,
  Channel,
  ChannelRegistry,
  OutboundMessage,
  SendOptions,
  SentMessage,
} from '../contracts/channel.js';
import type {
  HealthCheck,
  HealthRegistry,
  HealthReport,
  HealthResult,
} from '../contracts/health.js';
import { AgentdError } from './errors.js';
import { errorMessage, withTimeout } from './timeout.js';

/** A name-keyed registry that refuses duplicates with a clear error. */
class NamedRegistry<T extends { readonly name: string }> {
  protected readonly items = new Map<string, T>();
  constructor(private readonly kind: string) {}

  add(item: T): void {
    if (!item?.name) throw new AgentdError('E_INVALID', `a ${this.kind} needs a non-empty name`);
    if (this.items.has(item.name)) {
      throw new AgentdError(
        'E_DUPLICATE',
        `a ${this.kind} named "${item.name}" is already registered`,
      );
    }
    this.items.set(item.name, item);
  }
  get(name: string): T | undefined {
    return this.items.get(name);
  }
  list(): T[] {
    return [...this.items.values()];
  }
}

/** The kernel's {@link ChannelRegistry}. */
export class DefaultChannelRegistry extends NamedRegistry<Channel> implements ChannelRegistry {
  constructor() {
    super('channel');
  }
  send(to: Address, message: OutboundMessage, options?: SendOptions): Promise<SentMessage> {
    const channel = this.items.get(to.channel);
    if (!channel) {
      return Promise.reject(
        new AgentdError('E_NO_CHANNEL', `no channel named "${to.channel}" to send to`),
      );
    }
    return channel.send(to, message, options);
  }
}

/** The kernel's {@link AgentRegistry}; the first agent added is the default until one is set. */
export class DefaultAgentRegistry extends NamedRegistry<Agent> implements AgentRegistry {
  #default: string | undefined;
  constructor() {
    super('agent');
  }
  override add(agent: Agent): void {
    super.add(agent);
    this.#default ??= agent.name;
  }
  get defaultAgent(): string | undefined {
    return this.#default;
  }
  setDefault(name: string): void {
    if (!this.items.has(name)) throw new AgentdError('E_NO_AGENT', `no agent named "${name}"`);
    this.#default = name;
  }
}

const RANK: Record<HealthResult['status'], number> = { pass: 0, warn: 1, fail: 2 };

/** The kernel's {@link HealthRegistry}. A check that throws or times out reports `fail`. */
export class DefaultHealthRegistry implements HealthRegistry {
  readonly #checks = new Map<string, HealthCheck>();

  add(check: HealthCheck): () => void {
    if (this.#checks.has(check.name)) {
      throw new AgentdError(
        'E_DUPLICATE',
        `a health check named "${check.name}" is already registered`,
      );
    }
    this.#checks.set(check.name, check);
    return () => this.#checks.delete(check.name);
  }

  async run(options: { timeoutMs?: number } = {}): Promise<HealthReport> {
    const timeoutMs = options.timeoutMs ?? 1000;
    const entries = await Promise.all(
      [...this.#checks.values()].map(async (c): Promise<[string, HealthResult]> => {
        const controller = new AbortController();
        try {
          return [c.name, await withTimeout(() => c.check(controller.signal), timeoutMs, c.name)];
        } catch (error) {
          controller.abort();
          return [c.name, { status: 'fail', output: errorMessage(error) }];
        }
      }),
    );
    let status: HealthResult['status'] = 'pass';
    for (const [, r] of entries) if (RANK[r.status] > RANK[status]) status = r.status;
    return { status, checks: Object.fromEntries(entries) };
  }
}
