import { Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../duration.js';
import { type MetricSelector, parseSelector, readSeries } from './metric-selector.js';
import { RuleEngine, render } from './rule-engine.js';
import { type AlertRule, completeRule } from './rule-schema.js';
import type { RuleSeries } from './signals.js';

const rule = (fields: Partial<AlertRule>): AlertRule => ({
  name: 'r',
  signal: 'queue_depth',
  aggregate: 'each',
  comparison: '>',
  threshold: 10,
  forMs: 0,
  severity: 'warning',
  message: '{rule} at {value} ({threshold})',
  recoveryMessage: '{rule} back to {value}',
  recovery: true,
  ...fields,
});
const one = (value: number, key = ''): RuleSeries[] => [
  { key, labels: key ? { agent: key } : {}, value },
];

describe('durations', () => {
  it('reads the forms a config uses, and writes them back', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration(90)).toBe(90_000);
    expect(parseDuration('5 minutes')).toBeUndefined();
    expect(parseDuration('m5')).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(600_000)).toBe('10m');
  });
});

describe('metric selectors', () => {
  it('parses a family with PromQL-style matchers, or says what is wrong', () => {
    expect(parseSelector('agentd_tasks')).toEqual({ family: 'agentd_tasks', matchers: [] });
    expect(
      parseSelector('agentd_tasks_failed_total{agent="echo", type!="cron:x", type=~"a|b"}'),
    ).toEqual({
      family: 'agentd_tasks_failed_total',
      matchers: [
        { label: 'agent', op: '=', value: 'echo' },
        { label: 'type', op: '!=', value: 'cron:x' },
        { label: 'type', op: '=~', value: 'a|b' },
      ],
    });
    expect(parseSelector('x{a="say \\"hi\\""}')).toEqual({
      family: 'x',
      matchers: [{ label: 'a', op: '=', value: 'say "hi"' }],
    });
    expect(parseSelector('agentd-tasks')).toBe(
      '"agentd-tasks" is not a metric family name (letters, digits, "_" and ":")',
    );
    expect(parseSelector('x{a="1"')).toBe('the matchers of "x{a="1"" do not end with "}"');
    expect(parseSelector('x{a=~"("}')).toBe('"(" is not a valid regular expression');
  });

  it('reads the matching series of a real prom-client registry, histograms by their samples', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'g', help: 'g', labelNames: ['agent'], registers: [registry] });
    gauge.set({ agent: 'a' }, 3);
    gauge.set({ agent: 'b' }, 5);
    const h = new Histogram({ name: 'h_seconds', help: 'h', buckets: [1], registers: [registry] });
    h.observe(0.5);
    h.observe(2);
    const read = (s: string) => readSeries(registry, parseSelector(s) as MetricSelector);
    expect(await read('g{agent!="a"}')).toEqual([{ labels: { agent: 'b' }, value: 5 }]);
    expect(await read('h_seconds_count')).toEqual([{ labels: {}, value: 2 }]);
    expect(await read('h_seconds_bucket{le="1"}')).toEqual([{ labels: { le: '1' }, value: 1 }]);
    expect(await read('missing')).toBeUndefined();
  });
});

describe('rule engine', () => {
  it('drops a pending series silently when its condition ends before `for`', () => {
    const engine = new RuleEngine();
    const r = rule({ forMs: 120_000 });
    expect(engine.evaluate(r, one(20), 'count', 0)).toEqual([]);
    expect(engine.instances()).toMatchObject([{ state: 'pending', since: 0 }]);
    expect(engine.evaluate(r, one(5), 'count', 60_000)).toEqual([]);
    expect(engine.instances()).toEqual([]);
    expect(engine.evaluate(r, one(20), 'count', 120_000)).toEqual([]);
    expect(engine.evaluate(r, one(20), 'count', 240_000).map((a) => a.title)).toEqual([
      'r at 20 (10)',
    ]);
  });

  it('works below a threshold too, with hysteresis, and per series', () => {
    const engine = new RuleEngine();
    const r = rule({ comparison: '<', threshold: 10, recoverAt: 15 });
    const titles = (values: [string, number][], now: number) =>
      engine
        .evaluate(
          r,
          values.map(([k, v]) => one(v, k)[0]!),
          'count',
          now,
        )
        .map((a) => `${a.severity} ${a.title}`);
    expect(
      titles(
        [
          ['a', 8],
          ['b', 12],
        ],
        0,
      ),
    ).toEqual(['warning r at 8 (10)']);
    expect(
      titles(
        [
          ['a', 12],
          ['b', 9],
        ],
        1,
      ),
    ).toEqual(['warning r at 9 (10)']); // a: in the band
    expect(
      titles(
        [
          ['a', 16],
          ['b', 9],
        ],
        2,
      ),
    ).toEqual(['info r back to 16']);
    expect(engine.instances().map((i) => i.series)).toEqual(['b']);
  });

  it('resolves a series that disappears, and honours recovery: false and repeatEvery: false', () => {
    const engine = new RuleEngine();
    const r = rule({ recoveryMessage: '{rule} {agent} resolved ({value})' });
    expect(engine.evaluate(r, one(11, 'w'), 'count', 0)).toHaveLength(1);
    expect(engine.evaluate(r, [], 'count', 1).map((a) => a.title)).toEqual([
      'r w resolved (no data)',
    ]);
    const quiet = rule({ name: 'q', recovery: false });
    expect(engine.evaluate(quiet, one(11), 'count', 0)).toHaveLength(1);
    expect(engine.evaluate(quiet, one(1), 'count', 1)).toEqual([]);
    // An unreadable source (undefined) changes nothing.
    expect(engine.evaluate(r, one(11), 'count', 2)).toHaveLength(1);
    expect(engine.evaluate(r, undefined, 'count', 3)).toEqual([]);
    expect(engine.instances()).toHaveLength(1);
    // Without repeatEveryMs a firing rule is said once per episode.
    expect(engine.evaluate(r, one(11), 'count', 10 * 86_400_000)).toEqual([]);
  });

  it('fills placeholders, leaving unknown ones as written', () => {
    expect(render('{a} and {b} and {c d}', { a: '1', b: '2' })).toBe('1 and 2 and {c d}');
  });

  it('completes an override over its default, moving the hysteresis with the threshold', () => {
    const base = rule({ name: 'disk', threshold: 90, recoverAt: 85, repeatEveryMs: 1_800_000 });
    const done = completeRule({ name: 'disk', threshold: 95 }, base, 60_000);
    expect(done).toMatchObject({ threshold: 95, recoverAt: 90, repeatEveryMs: 1_800_000 });
    expect(completeRule({ name: 'disk', repeatEvery: false }, base, 60_000)).not.toHaveProperty(
      'repeatEveryMs',
    );
  });
});
