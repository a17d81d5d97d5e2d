import type { HealthResult } from '@agentd/core';
import type { PollerState } from './update-poller.js';

/** The channel's health in webhook mode: whether Telegram has our URL. */
export function webhookHealth(
  state: { set: boolean; lastError?: string },
  url: string,
): HealthResult {
  return state.set
    ? { status: 'pass', output: `webhook set: ${url}` }
    : {
        status: 'warn',
        output: `webhook not set yet${state.lastError ? `: ${state.lastError}` : ' (Telegram not reached)'}`,
      };
}

/** The channel's health while polling: failures in a row, or the time since the last poll. */
export function pollerHealth(
  state: PollerState | undefined,
  now: number,
  pollTimeoutSeconds: number,
): HealthResult {
  if (!state || (state.lastPollAt === 0 && state.failures === 0)) {
    return { status: 'pass', output: 'starting' };
  }
  if (state.unauthorized) {
    return { status: 'fail', output: 'Telegram refuses the bot token (401 Unauthorized)' };
  }
  if (state.failures > 0) {
    return {
      status: state.failures >= 3 || state.lastPollAt === 0 ? 'warn' : 'pass',
      output: `${state.failures} failed poll(s) in a row: ${state.lastError}`,
    };
  }
  const sinceMs = now - state.lastPollAt;
  return {
    status: sinceMs > (pollTimeoutSeconds + 60) * 1000 ? 'warn' : 'pass',
    observedValue: Math.round(sinceMs / 1000),
    observedUnit: 's since the last poll',
  };
}
