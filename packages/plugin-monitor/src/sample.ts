import { realpath } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import si from 'systeminformation';

/** The file system holding one watched path. */
export interface DiskSample {
  /** The watched path, as configured. */
  path: string;
  /** Where its file system is mounted. */
  mount: string;
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

/** The mount point among `mounts` that holds `path`: the longest that is a prefix of it. */
export function mountOf(path: string, mounts: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const mount of mounts) {
    const prefix = mount.endsWith(sep) ? mount : `${mount}${sep}`;
    if ((path === mount || path.startsWith(prefix)) && (!best || mount.length > best.length)) {
      best = mount;
    }
  }
  return best;
}

async function canonical(path: string): Promise<string> {
  try {
    return await realpath(resolve(path));
  } catch {
    return resolve(path); // not created yet: its parent's file system is what `mountOf` finds
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * Reads CPU load, memory and the file systems of `paths` with systeminformation. Memory in use
 * is what is not available (page cache that the kernel can drop counts as free).
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
  const [load, mem, fileSystems] = await Promise.all([si.currentLoad(), si.mem(), si.fsSize()]);
  const disks: DiskSample[] = [];
  for (const path of paths) {
    const mount = mountOf(
      await canonical(path),
      fileSystems.map((f) => f.mount),
    );
    const fs = fileSystems.find((f) => f.mount === mount);
    // Two watched paths on one file system are one disk.
    if (!fs || mount === undefined || disks.some((d) => d.mount === mount)) continue;
    disks.push({
      path,
      mount,
      usedPercent: round(fs.use),
      sizeBytes: fs.size,
      availableBytes: fs.available,
    });
  }
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
