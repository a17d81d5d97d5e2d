import { describe, expect, it } from 'vitest';
import { nextTurn } from './event-loop-turn.js';

describe('nextTurn', () => {
  it('resumes every caller waiting for the same turn in one callback, side by side', async () => {
    const order: string[] = [];
    const a = nextTurn();
    const b = nextTurn();
    expect(b).toBe(a);
    // Each waiter goes on for two promise jobs: in one callback, their jobs interleave.
    const chain = (name: string, turn: Promise<void>) =>
      turn.then(() => order.push(`${name}1`)).then(() => order.push(`${name}2`));
    await Promise.all([chain('a', a), chain('b', b)]);
    expect(order).toEqual(['a1', 'b1', 'a2', 'b2']);
    // The next turn is another promise.
    const c = nextTurn();
    expect(c).not.toBe(a);
    await c;
  });
});
