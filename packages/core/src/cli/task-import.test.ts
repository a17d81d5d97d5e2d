import { describe, expect, it } from 'vitest';
import { parseTaskFile } from './task-import.js';

describe('parseTaskFile', () => {
  it("maps the seeds' flat task fields and skips finished tasks", () => {
    const parsed = parseTaskFile({
      tasks: [
        {
          id: 't1',
          description: 'Write the report',
          priority: 1,
          task_type: 'manual',
          target_agent: 'writer',
          status: 'pending',
          max_retries: 5,
          run_at: '2026-12-01T08:00:00Z',
        },
        { id: 't2', description: 'old', status: 'completed' },
        {
          id: 't3',
          task: 'check disk',
          priority: 'low',
          status: 'in_progress',
          metadata: { from: 'cron' },
        },
        'plain text task',
        { id: 't4', description: 'bad', priority: 9 },
        { id: 't5', description: 'bad time', run_at: 'next tuesday' },
        42,
      ],
    });
    expect(parsed.tasks).toEqual([
      {
        input: 'Write the report',
        description: 'Write the report',
        type: 'manual',
        priority: 1,
        agent: 'writer',
        runAt: Date.parse('2026-12-01T08:00:00Z'),
        maxAttempts: 5,
        idempotencyKey: 'import:t1',
      },
      {
        input: 'check disk',
        description: 'check disk',
        type: 'import',
        priority: 3,
        idempotencyKey: 'import:t3',
        metadata: { from: 'cron' },
      },
      { input: 'plain text task', type: 'import' },
    ]);
    expect(parsed.skipped).toEqual([
      { index: 1, reason: 'already completed' },
      { index: 4, reason: 'unknown priority 9' },
      { index: 5, reason: 'run_at is not a date' },
      { index: 6, reason: 'not an object' },
    ]);
  });

  it('rejects a file that is not a task list', () => {
    expect(() => parseTaskFile({ jobs: [] })).toThrow('expected a JSON array of tasks');
  });
});
