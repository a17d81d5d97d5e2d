import type {
  DispatchReceipt,
  EnqueueHook,
  InboundHandler,
  InboundMessage,
  InboundRouter,
} from '../contracts/channel.js';
import type { NewTask, TaskQueue } from '../contracts/task.js';
import type { EventBus } from '../kernel/events.js';
import type { IntakeGate } from '../kernel/intake.js';

/** Key under which a user's messages run one at a time, in order. */
export function userKeyOf(message: InboundMessage): string {
  return `${message.from.channel}:${message.from.id}`;
}

/**
 * The kernel's {@link InboundRouter}: waits at the readiness barrier, offers the message to
 * registered handlers (commands), and otherwise persists it as a task whose idempotency key is
 * the channel's message id, so a re-delivered message is recognised and not run twice.
 */
export class DefaultInboundRouter implements InboundRouter {
  readonly #handlers: InboundHandler[] = [];
  readonly #hooks: EnqueueHook[] = [];

  constructor(
    private readonly gate: IntakeGate,
    private readonly events: EventBus,
    private readonly queue: () => TaskQueue | undefined,
  ) {}

  use(handler: InboundHandler): () => void {
    this.#handlers.push(handler);
    return () => {
      const i = this.#handlers.indexOf(handler);
      if (i >= 0) this.#handlers.splice(i, 1);
    };
  }

  beforeEnqueue(hook: EnqueueHook): () => void {
    this.#hooks.push(hook);
    return () => {
      const i = this.#hooks.indexOf(hook);
      if (i >= 0) this.#hooks.splice(i, 1);
    };
  }

  dispatch(message: InboundMessage): Promise<DispatchReceipt> {
    return this.gate.run(async () => {
      this.events.emit('message.received', { message });
      for (const handler of this.#handlers) {
        const receipt = await handler(message);
        if (receipt) return receipt;
      }
      const queue = this.queue();
      if (!queue) {
        return {
          outcome: 'refused',
          reply: 'This host has no task store configured, so it cannot take work.',
        };
      }
      let next: NewTask = {
        input: message.text,
        type: 'message',
        idempotencyKey: `${message.from.channel}:msg:${message.id}`,
        sessionKey: userKeyOf(message),
        replyTo: message.from,
        metadata: { sender: message.sender.id, ...(message.metadata ?? {}) },
      };
      for (const hook of this.#hooks) {
        const shaped = await hook(message, next);
        if ('outcome' in shaped) return shaped;
        next = shaped;
      }
      const { task, created } = await queue.enqueue(next);
      return { outcome: created ? 'accepted' : 'duplicate', taskId: task.id };
    });
  }
}
