// Shared helpers for the "what users feel" sub-benches (telegram, sessions, schedules, startup):
// medians over alternating runs, percentiles, machine info, and one line per figure with its
// same-run reference and ratio.
import { mkdtempSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const percentile = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
export const log = (m) => process.stderr.write(`${m}\n`);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const fmt = (n, digits = 0) =>
  Number(n).toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function machine() {
  return {
    node: process.version,
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

export function printMachine(title) {
  const m = machine();
  console.log(
    `${title}\nmachine: ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, load ${m.load} (provisional on a shared machine: compare ratios, not absolute figures)`,
  );
  return m;
}

/**
 * Runs each contender RUNS times, alternating (a, b, a, b, ...) so drift on a busy machine falls on
 * both; returns for each the list of results.
 */
export async function alternate(runs, contenders) {
  const results = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, fn] of Object.entries(contenders)) {
      const r = await fn();
      results[name].push(r);
      log(`  ${name} run ${i + 1}/${runs}: ${JSON.stringify(r)}`);
    }
  }
  return results;
}

/** The median of one field over runs. */
export const med = (runs, field) => median(runs.map((r) => r[field]));

/** One printed line: a figure, its reference and the ratio (higher is better unless `lowerIsBetter`). */
export function line(
  label,
  value,
  unit,
  ref,
  refLabel,
  { lowerIsBetter = false, digits = 0 } = {},
) {
  let text = `${label.padEnd(44)} ${fmt(value, digits).padStart(10)} ${unit}`;
  if (ref !== undefined) {
    const ratio = lowerIsBetter ? ref / value : value / ref;
    text += `   ${refLabel}: ${fmt(ref, digits)} ${unit}   ratio ${ratio.toFixed(2)}x`;
  }
  console.log(text);
}
