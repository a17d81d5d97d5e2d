import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../contracts/json.js';
import type { StateStore } from '../../contracts/state.js';
import {
  type ContractFactory,
  type ContractSuiteOptions,
  rejection,
  sleep,
  useSubject,
} from './shared.js';

/**
 * Declares, as vitest tests, the behaviour every {@link StateStore} must have: any JSON value
 * round-trips, namespaces stay apart, TTLs expire (by the wall clock: the TTL test sleeps
 * 250 ms), `compareAndSet` compares by JSON value and lets exactly one concurrent caller win,
 * and `list` returns a namespace by key prefix, in key order. Each test gets a fresh state store
 * from `createState`: a backend that offers only a StateStore can prove itself with this alone.
 *
 * @example
 * ```ts
 * import { describeStateStoreContract, openMemoryStore } from '@agentd/core/testing';
 *
 * describeStateStoreContract('memory', () => openMemoryStore().state);
 * ```
 */
export function describeStateStoreContract(
  name: string,
  createState: ContractFactory<StateStore>,
  options: ContractSuiteOptions<StateStore> = {},
): void {
  describe(`StateStore contract: ${name}`, () => {
    const subject = useSubject(createState, options);
    const store = {
      get state() {
        return subject.current;
      },
    };
    describe('state', () => {
      it('stores and returns any JSON value', async () => {
        const values: JsonValue[] = [
          'text with \u0000 NUL and emoji 🦀',
          0,
          -1.5,
          true,
          false,
          null,
          [],
          {},
          { nested: { list: [1, 'two', null, { deep: true }] } },
        ];
        for (const [i, value] of values.entries()) {
          await store.state.set('ns', `k${i}`, value);
          expect(await store.state.get('ns', `k${i}`)).toEqual(value);
        }
        expect(await store.state.get('ns', 'missing')).toBeUndefined();
      });

      it('overwrites and deletes', async () => {
        await store.state.set('ns', 'k', 1);
        await store.state.set('ns', 'k', { v: 2 });
        expect(await store.state.get('ns', 'k')).toEqual({ v: 2 });
        expect(await store.state.delete('ns', 'k')).toBe(true);
        expect(await store.state.get('ns', 'k')).toBeUndefined();
        expect(await store.state.delete('ns', 'k')).toBe(false);
      });

      it('keeps namespaces apart', async () => {
        await store.state.set('telegram', 'offset', 10);
        await store.state.set('monitor', 'offset', 20);
        expect(await store.state.get('telegram', 'offset')).toBe(10);
        expect(await store.state.get('monitor', 'offset')).toBe(20);
        await store.state.delete('telegram', 'offset');
        expect(await store.state.get('monitor', 'offset')).toBe(20);
        expect(await store.state.list('telegram')).toEqual([]);
      });

      it('forgets a value once its TTL passes', async () => {
        await store.state.set('ns', 'short', 'soon gone', { ttlMs: 150 });
        await store.state.set('ns', 'short2', 'soon gone', { ttlMs: 150 });
        await store.state.set('ns', 'long', 'stays', { ttlMs: 60_000 });
        expect(await store.state.get('ns', 'short')).toBe('soon gone');
        await sleep(250);
        expect(await store.state.get('ns', 'short')).toBeUndefined();
        expect(await store.state.list('ns')).toEqual([{ key: 'long', value: 'stays' }]);
        // An expired value is absent to compareAndSet and delete as well.
        expect(await store.state.compareAndSet('ns', 'short', 'soon gone', 'revived')).toBe(false);
        expect(await store.state.compareAndSet('ns', 'short', undefined, 'fresh')).toBe(true);
        expect(await store.state.get('ns', 'short')).toBe('fresh');
        expect(await store.state.delete('ns', 'short2')).toBe(false);
      });

      it('compares and sets', async () => {
        expect(
          await store.state.compareAndSet('cron', 'slot', undefined, { owner: 'a', n: 1 }),
        ).toBe(true);
        expect(
          await store.state.compareAndSet('cron', 'slot', undefined, { owner: 'b', n: 1 }),
        ).toBe(false);
        expect(await store.state.compareAndSet('cron', 'slot', { owner: 'b', n: 1 }, 'x')).toBe(
          false,
        );
        expect(await store.state.get('cron', 'slot')).toEqual({ owner: 'a', n: 1 });
        // Equality is by JSON value: key order does not matter.
        expect(
          await store.state.compareAndSet(
            'cron',
            'slot',
            { n: 1, owner: 'a' },
            { owner: 'b', n: 2 },
          ),
        ).toBe(true);
        expect(await store.state.get('cron', 'slot')).toEqual({ owner: 'b', n: 2 });
        await store.state.delete('cron', 'slot');
        expect(await store.state.compareAndSet('cron', 'slot', { owner: 'b', n: 2 }, 1)).toBe(
          false,
        );
        expect(await store.state.compareAndSet('cron', 'slot', undefined, 1)).toBe(true);
        expect(await store.state.compareAndSet('cron', 'slot', 1, 2)).toBe(true);
        expect(await store.state.get('cron', 'slot')).toBe(2);
      });

      it('lets exactly one of many concurrent compareAndSet calls win', async () => {
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.state.compareAndSet('cron', 'slot', undefined, `host-${i}`),
          ),
        );
        const winners = outcomes.flatMap((won, i) => (won ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(await store.state.get('cron', 'slot')).toBe(`host-${winners[0]}`);
      });

      it('lists a namespace by key prefix, in key order', async () => {
        for (const key of ['seen:2', 'seen:1', 'seen', 'offset', 'seen:10', 'seem']) {
          await store.state.set('telegram', key, key.length);
        }
        await store.state.set('other', 'seen:3', 0);
        expect(await store.state.list('telegram', 'seen:')).toEqual([
          { key: 'seen:1', value: 6 },
          { key: 'seen:10', value: 7 },
          { key: 'seen:2', value: 6 },
        ]);
        expect((await store.state.list('telegram')).map((e) => e.key)).toEqual([
          'offset',
          'seem',
          'seen',
          'seen:1',
          'seen:10',
          'seen:2',
        ]);
        expect(await store.state.list('telegram', 'zzz')).toEqual([]);
      });

      it('rejects values that are not JSON', async () => {
        await rejection(store.state.set('ns', 'k', (() => 1) as unknown as JsonValue));
        await rejection(store.state.set('ns', 'k', { n: Number.NaN }));
        expect(await store.state.get('ns', 'k')).toBeUndefined();
      });
    });
  });
}
