import { ExponentialBackoff, noJitterGenerator } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { retryDelay } from './retry-delay.js';

describe('retryDelay', () => {
  it('replays the backoff to the given retry, up to its cap', () => {
    const backoff = new ExponentialBackoff({
      initialDelay: 1000,
      maxDelay: 60_000,
      generator: noJitterGenerator,
    });
    expect([1, 2, 3, 6, 7, 20].map((retry) => retryDelay(backoff, retry))).toEqual([
      1000, 2000, 4000, 32_000, 60_000, 60_000,
    ]);
  });

  it('draws fresh jitter each time, within the cap', () => {
    const backoff = new ExponentialBackoff({ initialDelay: 1000, maxDelay: 60_000 });
    const delays = Array.from({ length: 50 }, () => retryDelay(backoff, 3));
    for (const delay of delays) expect(delay).toBeGreaterThan(0);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(60_000);
    expect(new Set(delays).size).toBeGreaterThan(1);
  });
});
