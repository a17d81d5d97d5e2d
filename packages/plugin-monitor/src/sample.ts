import { stat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** The file system holding one watched path. */
export interface DiskSample {
  /** The watched path, as configured. */
  path: string;
  /** Percent of the space available to users that is in use (what `df` shows). */
  usedPercent: number;
  sizeBytes: number;
  availableBytes: number;
}

/**
 * One reading of the machine.
 *
 * @example
 * ```ts
 * const sample = await sampleSystem(['/var/lib/agentd']);
 * sample.disks[0]?.usedPercent; // 61.2
 * ```
 */
export interface SystemSample {
  /** Epoch milliseconds. */
  at: number;
  /** CPU load in percent, all cores, since the previous reading. */
  cpuPercent: number;
  memory: { usedPercent: number; totalBytes: number; availableBytes: number };
  disks: DiskSample[];
}

/** The nearest existing directory at or above `path` (a data directory may not exist yet). */
async function existing(path: string): Promise<string> {
  let at = resolve(path);
  for (;;) {
    try {
      await stat(at);
      return at;
    } catch {
      const up = dirname(at);
      if (up === at) return at;
      at = up;
    }
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * The file system of each path, once per file system (two paths on one device are one disk,
 * reported under the first). Read with `statfs` on the path itself, so a tmpfs, a container's
 * volume or macOS's data volume is the one measured, as `df <path>` would.
 *
 * @example
 * ```ts
 * const [disk] = await sampleDisks(['/var/lib/agentd']);
 * ```
 */
export async function sampleDisks(paths: readonly string[]): Promise<DiskSample[]> {
  const disks: DiskSample[] = [];
  const devices = new Set<number>();
  for (const path of paths) {
    const at = await existing(path);
    const { dev } = await stat(at);
    if (devices.has(dev)) continue;
    devices.add(dev);
    const fs = await statfs(at);
    const used = (fs.blocks - fs.bfree) * fs.bsize;
    const available = fs.bavail * fs.bsize;
    disks.push({
      path,
      usedPercent: used + available === 0 ? 0 : round((used / (used + available)) * 100),
      sizeBytes: fs.blocks * fs.bsize,
      availableBytes: available,
    });
  }
  return disks;
}

/**
 * Reads CPU load and memory with systeminformation, and the file systems of `paths`. Memory in
 * use is what is not available (page cache the kernel can drop counts as free). CPU and memory
 * are the whole machine's, not a container's cgroup limits.
 *
 * @example
 * ```ts
 * const { cpuPercent, memory } = await sampleSystem(['/']);
 * ```
 */
export async function sampleSystem(
  paths: readonly string[],
  now = Date.now(),
): Promise<SystemSample> {
  // Imported at the first sample, not with the plugin: a CLI command that loads the config
  // never samples, and a host's start need not wait for its files.
  const { default: si } = await import('systeminformation');
  const [load, mem, disks] = await Promise.all([si.currentLoad(), si.mem(), sampleDisks(paths)]);
  return {
    at: now,
    cpuPercent: round(load.currentLoad),
    memory: {
      usedPercent: round(((mem.total - mem.available) / mem.total) * 100),
      totalBytes: mem.total,
      availableBytes: mem.available,
    },
    disks,
  };
}
