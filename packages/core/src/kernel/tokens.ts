import type { EventBus } from './events.js';
import type { IntakeGate } from './intake.js';
import { createToken } from './token.js';

/** The host's event bus (also `ctx.events`). */
export const EventBusToken = createToken<EventBus>('agentd.events');

/**
 * The readiness barrier: `whenOpen()` resolves when every plugin has started, `run(work)` waits
 * for it and counts work in flight for the drain. Channels use the InboundRouter instead.
 */
export const IntakeGateToken = createToken<IntakeGate>('agentd.intake');
