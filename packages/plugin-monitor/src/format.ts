import type { SystemSample } from './sample.js';

/**
 * Bytes for people: `12.3 GB`.
 *
 * @example
 * ```ts
 * formatBytes(83_624_226_816); // '83.6 GB'
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * The `/system` answer: one line per reading.
 *
 * @example
 * ```ts
 * systemText(sample, 'home-bot');
 * // 'home-bot: CPU 5%\nMemory 32% used (16.2 GB available of 25.3 GB)\nDisk /srv/agentd 23% used (83.6 GB free of 270.6 GB)'
 * ```
 */
export function systemText(sample: SystemSample, host: string): string {
  return `${host}: ${systemLines(sample)}`;
}

/**
 * The figures of a sample, one reading a line, as `/status` shows them under `System`.
 *
 * @example
 * ```ts
 * systemLines(sample);
 * // 'CPU 5%\nMemory 32% used (16.2 GB available of 25.3 GB)\nDisk / 23% used (83.6 GB free of 270.6 GB)'
 * ```
 */
export function systemLines(sample: SystemSample): string {
  const lines = [
    `CPU ${sample.cpuPercent}%`,
    `Memory ${sample.memory.usedPercent}% used (${formatBytes(sample.memory.availableBytes)} available of ${formatBytes(sample.memory.totalBytes)})`,
    ...sample.disks.map(
      (d) =>
        `Disk ${d.path} ${d.usedPercent}% used (${formatBytes(d.availableBytes)} free of ${formatBytes(d.sizeBytes)})`,
    ),
  ];
  return lines.join('\n');
}
