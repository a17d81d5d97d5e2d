import { describe, expect, it } from 'vitest';
import type { Task, TaskPageQuery } from '../../contracts/task.js';
import { enqueueManyInto } from '../../store-kit/fast-paths.js';
import { pageTasksIn, taskMatchesText } from '../../store-kit/task-page.js';
import { T0, type TaskHelpers, type TaskSubject } from './shared.js';

/**
 * Task pages (`pageTasks`, or core's fallback when a store has none): every filter gives what
 * `list` plus the same filter in memory gives, newest first, each task once across pages, and
 * bad queries are refused with `E_INVALID_QUERY`. Declared by {@link describeTaskStoreContract}.
 */
export function describePageContract(store: TaskSubject, { claim }: TaskHelpers): void {
  describe('pages', () => {
    const walk = async (query: TaskPageQuery): Promise<string[]> => {
      const seen: string[] = [];
      let after: string | undefined;
      for (let i = 0; i < 100; i++) {
        const page = await pageTasksIn(store.tasks, { ...query, ...(after ? { after } : {}) });
        expect(page.tasks.length).toBeLessThanOrEqual(query.limit ?? 50);
        seen.push(...page.tasks.map((t) => t.id));
        if (page.next === null) return seen;
        after = page.next;
      }
      throw new Error('the pages did not end');
    };

    it('pages every filter as list() and the same filter in memory would, newest first', async () => {
      await enqueueManyInto(
        store.tasks,
        Array.from({ length: 23 }, (_, i) => ({
          input: i,
          description: i % 5 === 0 ? `Invoice 100%_${i}` : `chore ${i}`,
          agent: i % 2 === 0 ? 'writer' : 'triage',
          type: i % 3 === 0 ? 'webhook' : 'message',
        })),
        T0,
      );
      await claim(T0, 4);
      const all = await store.tasks.list({ limit: 1000 });
      const expected = (keep: (t: Task) => boolean) => all.filter(keep).map((t) => t.id);
      expect(await walk({ limit: 5 })).toEqual(expected(() => true));
      expect(await walk({ status: 'running', limit: 3 })).toEqual(
        expected((t) => t.status === 'running'),
      );
      expect(await walk({ status: ['pending', 'running'], agent: 'writer', limit: 4 })).toEqual(
        expected((t) => t.agent === 'writer'),
      );
      expect(await walk({ type: 'webhook', text: 'INVOICE', limit: 2 })).toEqual(
        expected((t) => t.type === 'webhook' && taskMatchesText(t, 'invoice')),
      );
      expect(await walk({ text: '100%_' })).toEqual(
        expected((t) => t.description.includes('100%_')),
      );
      expect(await walk({ text: "%' or 1=1 --" })).toEqual([]);
      expect(await walk({ text: all[3]!.id })).toContain(all[3]!.id);
      expect(await walk({ status: [] })).toEqual([]);
    });

    it('refuses bad limits, statuses, long texts and cursors it never gave', async () => {
      await enqueueManyInto(store.tasks, [{ input: 'a' }], T0);
      for (const query of [
        { limit: 0 },
        { limit: 501 },
        { limit: 1.5 },
        { status: 'done' as never },
        { text: 'x'.repeat(201) },
        { after: 'not-a-cursor' },
      ]) {
        await expect(pageTasksIn(store.tasks, query)).rejects.toMatchObject({
          code: 'E_INVALID_QUERY',
        });
      }
    });
  });
}
