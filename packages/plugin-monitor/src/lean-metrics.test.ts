import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { leanCounter, leanHistogram } from './lean-metrics.js';

describe('lean counters and histograms in a prom-client registry', () => {
  it('renders cumulative buckets (a value on a bound counts in it), +Inf, sum and count per series', async () => {
    const registry = new Registry();
    const h = leanHistogram(registry, 'x_seconds', 'Some seconds.', ['agent'], [0.1, 1, 10]);
    for (const v of [0.05, 0.1, 0.5, 1, 20]) h.observe({ agent: 'a' }, v);
    h.observe({ agent: 'b' }, 2);
    h.observe({ agent: 'b' }, Number.NaN);
    expect(await registry.metrics()).toBe(
      [
        '# HELP x_seconds Some seconds.',
        '# TYPE x_seconds histogram',
        'x_seconds_bucket{le="0.1",agent="a"} 2',
        'x_seconds_bucket{le="1",agent="a"} 4',
        'x_seconds_bucket{le="10",agent="a"} 4',
        'x_seconds_bucket{le="+Inf",agent="a"} 5',
        'x_seconds_sum{agent="a"} 21.65',
        'x_seconds_count{agent="a"} 5',
        'x_seconds_bucket{le="0.1",agent="b"} 0',
        'x_seconds_bucket{le="1",agent="b"} 0',
        'x_seconds_bucket{le="10",agent="b"} 1',
        'x_seconds_bucket{le="+Inf",agent="b"} 1',
        'x_seconds_sum{agent="b"} 2',
        'x_seconds_count{agent="b"} 1',
        '',
      ].join('\n'),
    );
  });

  it('counts per label set, keeps only the declared labels, and escapes values', async () => {
    const registry = new Registry();
    const c = leanCounter(registry, 'y_total', 'Some things.', ['agent', 'type']);
    c({ agent: 'a', type: 't' });
    c({ agent: 'a', type: 't' }, 2);
    c({ agent: 'a', type: 'say "hi"' });
    c({ agent: 'b', type: 't', id: 'never' } as { agent: string; type: string });
    expect(await registry.metrics()).toBe(
      [
        '# HELP y_total Some things.',
        '# TYPE y_total counter',
        'y_total{agent="a",type="t"} 3',
        'y_total{agent="a",type="say \\"hi\\""} 1',
        'y_total{agent="b",type="t"} 1',
        '',
      ].join('\n'),
    );
  });

  it('hands out a series to keep: adding to it is adding to its label set, rendered from then on', async () => {
    const registry = new Registry();
    const c = leanCounter(registry, 'z_total', 'Some things.', ['agent']);
    const h = leanHistogram(registry, 'z_seconds', 'Some seconds.', ['agent'], [1]);
    const a = c.series({ agent: 'a' });
    expect(c.series({ agent: 'a' })).toBe(a);
    a.value++;
    c({ agent: 'a' }, 2);
    const seconds = h.series({ agent: 'a' });
    seconds.observe(0.5);
    seconds.observe(Number.NaN);
    h.observe({ agent: 'a' }, 3);
    expect(await registry.metrics()).toBe(
      [
        '# HELP z_total Some things.',
        '# TYPE z_total counter',
        'z_total{agent="a"} 3',
        '',
        '# HELP z_seconds Some seconds.',
        '# TYPE z_seconds histogram',
        'z_seconds_bucket{le="1",agent="a"} 1',
        'z_seconds_bucket{le="+Inf",agent="a"} 2',
        'z_seconds_sum{agent="a"} 3.5',
        'z_seconds_count{agent="a"} 2',
        '',
      ].join('\n'),
    );
  });
});
