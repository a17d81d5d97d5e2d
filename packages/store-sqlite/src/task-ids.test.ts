import { describe, expect, it } from 'vitest';
import { newTaskIdPrefix, TaskIds } from './task-ids.js';

describe('TaskIds', () => {
  const ids = new TaskIds('qkzvt');

  it('round-trips seqs', () => {
    for (const seq of [1, 35, 36, 46, 1_000_000, Number.MAX_SAFE_INTEGER]) {
      expect(ids.parse(ids.format(seq))).toBe(seq);
    }
    expect(ids.format(46)).toBe('qkzvt1a');
  });

  it('rejects ids of other databases and malformed ones', () => {
    for (const id of [
      '',
      'qkzvt',
      'abcde1a',
      'qkzvt01a',
      'qkzvt1A',
      'qkzvt1a!',
      'qkzvt0',
      'qkzvt-1',
      `qkzvt${'z'.repeat(20)}`,
    ]) {
      expect(ids.parse(id)).toBeUndefined();
    }
  });

  it('makes five-letter prefixes', () => {
    const prefixes = new Set(Array.from({ length: 50 }, newTaskIdPrefix));
    for (const p of prefixes) expect(p).toMatch(/^[a-z]{5}$/);
    expect(prefixes.size).toBeGreaterThan(45);
  });
});
