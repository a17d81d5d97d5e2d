import type { Logger } from '@agentd/core';
import type { RoleCampaign, RoleLease } from '@agentd/core/roles';

/**
 * Options of {@link pollInTurns}.
 *
 * @example
 * ```ts
 * pollInTurns({ campaign, poll: (lease) => new UpdatePoller({ ...options, lease }).run(), stopped: () => stopped, signal, logger });
 * ```
 */
export interface PollInTurnsOptions {
  /** This host's campaign for the channel's polling role. */
  campaign: RoleCampaign;
  /** Polls while the lease holds; resolves when polling ended (lost, or stopped). */
  poll: (lease: RoleLease) => Promise<void>;
  /** Whether the channel is stopping. */
  stopped: () => boolean;
  /** Aborted when the channel stops: ends the wait for the role. */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * Polls whenever this host holds the polling role, and stands by otherwise: a bot takes updates
 * in one place only (a second poller gets 409 Conflict), so hosts sharing a store take turns. A
 * standby takes over within one lease when the holder dies, and at its next check when the
 * holder stops (it releases the role). A host alone takes the role at once: one store read and
 * one write before the first poll. Replies are sent from every host, whoever polls.
 *
 * @example
 * ```ts
 * pollInTurns({ campaign: roles.campaign('telegram:polling'), poll, stopped: () => stopped, signal, logger });
 * ```
 */
export function pollInTurns(options: PollInTurnsOptions): void {
  const { campaign, poll, stopped, signal, logger } = options;
  void (async () => {
    while (!stopped()) {
      const lease = await campaign.acquired(signal).catch(() => undefined);
      if (!lease || stopped()) return;
      await poll(lease);
      if (!stopped()) {
        logger.info(
          { role: lease.role },
          'stopped polling Telegram: another host polls now; standing by',
        );
      }
    }
  })();
  if (!campaign.held) {
    logger.info(
      { role: campaign.role },
      'Telegram polling: standing by while another host polls (it takes over if that host stops)',
    );
  }
}
