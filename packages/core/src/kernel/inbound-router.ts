import type {
  CommandInfo,
  DispatchReceipt,
  InboundContext,
  InboundMessage,
  InboundMiddleware,
  InboundPhase,
  InboundRouter,
  UseOptions,
} from '../contracts/channel.js';
import type { TaskQueue } from '../contracts/task.js';
import { AgentdError } from './errors.js';
import type { EventBus } from './events.js';
import { isForBot, parseCommand, passesOn } from './inbound-command.js';
import type { IntakeGate } from './intake.js';

/**
 * Key under which a user's messages run one at a time, in order.
 *
 * @example
 * ```ts
 * userKeyOf(message); // 'telegram:42'
 * ```
 */
export function userKeyOf(message: InboundMessage): string {
  return `${message.from.channel}:${message.from.id}`;
}

const PHASES: readonly InboundPhase[] = ['commands', 'admission', 'routing'];

interface Link {
  middleware: InboundMiddleware;
  phase: InboundPhase;
}

/**
 * The kernel's {@link InboundRouter}: waits at the readiness barrier, runs the message through
 * one chain of middleware (phase by phase, each in registration order), and at the chain's end
 * persists the task, whose idempotency key is the channel's message id, so a re-delivered
 * message is recognised and not run twice. A command addressed to another bot
 * (`/cmd@otherbot`) is ignored before the chain.
 */
export class DefaultInboundRouter implements InboundRouter {
  readonly #links: Link[] = [];
  /** The links in chain order; rebuilt after `use` or a removal, not per message. */
  #chain: readonly InboundMiddleware[] | undefined;

  constructor(
    private readonly gate: IntakeGate,
    private readonly events: EventBus,
    private readonly queue: () => TaskQueue | undefined,
  ) {}

  use(middleware: InboundMiddleware, options: UseOptions = {}): () => void {
    const phase = options.phase ?? ('command' in middleware ? 'commands' : 'routing');
    if (!PHASES.includes(phase)) {
      throw new AgentdError(
        'E_INBOUND_PHASE',
        `unknown inbound phase "${String(phase)}": use one of ${PHASES.join(', ')}`,
      );
    }
    const link: Link = { middleware, phase };
    this.#links.push(link);
    this.#chain = undefined;
    return () => {
      const i = this.#links.indexOf(link);
      if (i >= 0) this.#links.splice(i, 1);
      this.#chain = undefined;
    };
  }

  commands(): CommandInfo[] {
    const out: CommandInfo[] = [];
    for (const middleware of this.#ordered()) {
      const info = (middleware as { command?: CommandInfo }).command;
      if (info) out.push({ name: info.name, description: info.description });
    }
    return out;
  }

  dispatch(message: InboundMessage): Promise<DispatchReceipt> {
    return this.gate.run(async () => {
      const parsed = parseCommand(message.text);
      // `/cmd@otherbot` in a group is another bot's: not ours to answer or to run.
      if (parsed && !isForBot(parsed, message.botName)) return { outcome: 'ignored' };
      this.events.emit('message.received', { message });
      const ctx: InboundContext = {
        message,
        command: parsed,
        task: {
          // Only a mention is removed: any other text is kept exactly as sent.
          input: parsed?.addressedTo !== undefined ? parsed.text : message.text,
          type: 'message',
          idempotencyKey: `${message.from.channel}:msg:${message.id}`,
          sessionKey: userKeyOf(message),
          replyTo: message.from,
          metadata: { sender: message.sender.id, ...(message.metadata ?? {}) },
        },
      };
      const chain = this.#ordered();
      let called = -1;
      const run = async (from: number): Promise<DispatchReceipt> => {
        if (from <= called) {
          throw new AgentdError(
            'E_INBOUND_NEXT_TWICE',
            'an inbound middleware called next() twice; call it once and return its receipt',
          );
        }
        // Commands other than this message's would only pass it on. Read from the context now,
        // as each of them would: an earlier middleware may have rewritten the command.
        const commandName = ctx.command?.name;
        let i = from;
        while (i < chain.length && passesOn(chain[i] as InboundMiddleware, commandName)) i++;
        called = i;
        const middleware = chain[i];
        return middleware ? middleware(ctx, () => run(i + 1)) : this.#enqueue(ctx);
      };
      return run(0);
    });
  }

  async #enqueue(ctx: InboundContext): Promise<DispatchReceipt> {
    const queue = this.queue();
    if (!queue) {
      return {
        outcome: 'refused',
        reply: 'This host has no task store configured, so it cannot take work.',
      };
    }
    const { task, created } = await queue.enqueue(ctx.task);
    return { outcome: created ? 'accepted' : 'duplicate', taskId: task.id };
  }

  #ordered(): readonly InboundMiddleware[] {
    this.#chain ??= PHASES.flatMap((phase) =>
      this.#links.filter((l) => l.phase === phase).map((l) => l.middleware),
    );
    return this.#chain;
  }
}
