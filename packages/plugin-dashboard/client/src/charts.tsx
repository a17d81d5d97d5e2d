import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useData } from './data';
import { ErrorNote } from './ui';

type Values = (number | null)[];

interface Charts {
  enabled: boolean;
  range?: string;
  step?: number;
  t?: number[];
  series?: Record<string, Values>;
}

interface Line {
  label: string;
  values: Values;
  color: string;
}

const RANGES = ['1h', '6h', '24h', '7d'] as const;

/** The CSS colour of a custom property, so charts follow the light or dark theme. */
const cssColor = (name: string) =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

/** One uPlot line chart, redrawn when its data changes and resized with its card. */
function Chart({
  title,
  t,
  lines,
  unit,
}: {
  title: string;
  t: number[];
  lines: Line[];
  unit: (v: number) => string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const text = cssColor('--muted');
    const grid = cssColor('--line');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    const plot = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: 160,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        series: [
          {},
          ...lines.map((line) => ({
            label: line.label,
            stroke: cssColor(line.color),
            width: 1.5,
            spanGaps: false,
            // Dots too: a minute between gaps is a point, not a line.
            points: { show: true, size: 4 },
            value: (_: uPlot, v: number | null) => (v === null ? '—' : unit(v)),
          })),
        ],
        axes: [axis, { ...axis, size: 56, values: (_: uPlot, ticks: number[]) => ticks.map(unit) }],
        scales: { y: { range: (_: uPlot, _min: number, max: number) => [0, max > 0 ? max : 1] } },
      },
      [t.map((ms) => ms / 1000), ...lines.map((line) => line.values)] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(200, el.clientWidth), height: 160 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [t, lines, unit]);
  return (
    <section class="card chart" data-chart={title}>
      <h2>{title}</h2>
      <div ref={box} />
    </section>
  );
}

const count = (v: number) =>
  Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(1)}k` : `${+v.toFixed(1)}`;
const seconds = (v: number) => (v >= 1 ? `${+v.toFixed(1)} s` : `${Math.round(v * 1000)} ms`);
const percent = (v: number) => `${+(v * 100).toFixed(1)} %`;
const bytes = (v: number) => `${Math.round(v / 1024 / 1024)} MB`;

/** Failed attempts over finished ones, per step (null where nothing finished). */
function errorRate(completed: Values, failed: Values): Values {
  return completed.map((c, i) => {
    const f = failed[i] ?? 0;
    const done = (c ?? 0) + f;
    return done > 0 ? f / done : null;
  });
}

/**
 * The overview's charts of the metrics history (plugin-monitor's `metrics({ history: true })`):
 * throughput, wait and run latency, error rate, CPU, memory and disk; without a history, a note
 * that says how to keep one.
 */
export function HistoryCharts() {
  const [range, setRange] = useState<(typeof RANGES)[number]>('1h');
  const { data, error } = useData<Charts>(`/charts?range=${range}`);
  if (error) return <ErrorNote error={error} />;
  if (!data) return null;
  if (!data.enabled || !data.t || !data.series) {
    return (
      <section class="card history-off">
        <h2>Charts</h2>
        <p class="muted">
          Enable metrics history to see throughput, latency, error rate, CPU, memory and disk over
          time: add <code>metrics()</code> from <code>@agentd/plugin-monitor</code> to the host (it
          keeps the history in the host's store unless <code>{'{ history: false }'}</code>).
        </p>
      </section>
    );
  }
  const s = data.series;
  const v = (name: string): Values => s[name] ?? [];
  const t = data.t;
  return (
    <>
      <fieldset class="row chart-ranges" aria-label="chart range">
        {RANGES.map((r) => (
          <button
            key={r}
            type="button"
            class={r === range ? 'primary' : ''}
            onClick={() => setRange(r)}
          >
            {r}
          </button>
        ))}
      </fieldset>
      <div class="grid charts">
        <Chart
          title="Throughput"
          t={t}
          unit={count}
          lines={[
            { label: 'enqueued', values: v('tasks_enqueued'), color: '--info' },
            { label: 'completed', values: v('tasks_completed'), color: '--ok' },
            { label: 'failed', values: v('tasks_failed'), color: '--bad' },
          ]}
        />
        <Chart
          title="Latency"
          t={t}
          unit={seconds}
          lines={[
            { label: 'wait p50', values: v('task_wait_seconds_p50'), color: '--muted' },
            { label: 'wait p95', values: v('task_wait_seconds_p95'), color: '--warn' },
            { label: 'run p50', values: v('task_run_seconds_p50'), color: '--info' },
            { label: 'run p95', values: v('task_run_seconds_p95'), color: '--accent' },
          ]}
        />
        <Chart
          title="Error rate"
          t={t}
          unit={percent}
          lines={[
            {
              label: 'failed / finished',
              values: errorRate(v('tasks_completed'), v('tasks_failed')),
              color: '--bad',
            },
          ]}
        />
        <Chart
          title="CPU, memory, disk"
          t={t}
          unit={percent}
          lines={[
            { label: 'CPU', values: v('system_cpu_usage_ratio'), color: '--info' },
            { label: 'memory', values: v('system_memory_usage_ratio'), color: '--warn' },
            { label: 'disk', values: v('system_disk_usage_ratio'), color: '--ok' },
          ]}
        />
        <Chart
          title="Host process memory"
          t={t}
          unit={bytes}
          lines={[
            { label: 'resident', values: v('process_resident_memory_bytes'), color: '--accent' },
          ]}
        />
      </div>
    </>
  );
}
