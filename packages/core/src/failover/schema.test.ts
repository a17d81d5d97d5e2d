import { describe, expect, it } from 'vitest';
import { failoverConfigSchema } from './schema.js';

describe('failover config schema', () => {
  it('takes an override for one error class, as docs/failover.md shows', () => {
    const parsed = failoverConfigSchema.safeParse({ actions: { timeout: 'failover' } });
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data?.actions).toEqual({ timeout: 'failover' });
  });

  it('refuses an unknown error class or action', () => {
    expect(failoverConfigSchema.safeParse({ actions: { slow: 'failover' } }).success).toBe(false);
    expect(failoverConfigSchema.safeParse({ actions: { timeout: 'panic' } }).success).toBe(false);
  });
});
