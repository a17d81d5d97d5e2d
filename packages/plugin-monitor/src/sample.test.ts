import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mountOf, sampleSystem } from './sample.js';

const dir = mkdtempSync(join(tmpdir(), 'agentd-monitor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mountOf', () => {
  it('picks the longest mount point that holds the path', () => {
    const mounts = ['/', '/var', '/var/lib/docker', '/home'];
    expect(mountOf('/var/lib/agentd/agentd.db', mounts)).toBe('/var');
    expect(mountOf('/var/lib/docker/x', mounts)).toBe('/var/lib/docker');
    expect(mountOf('/variant/x', mounts)).toBe('/');
    expect(mountOf('/home', mounts)).toBe('/home');
    expect(mountOf('/x', ['/home'])).toBeUndefined();
  });
});

describe('sampleSystem (this machine, through systeminformation)', () => {
  it('reads CPU, memory and the file system of each path, once per file system', async () => {
    const sample = await sampleSystem([dir, join(dir, 'not-created-yet', 'agentd.db')], 1234);
    expect(sample.at).toBe(1234);
    expect(sample.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(sample.cpuPercent).toBeLessThanOrEqual(100);
    expect(sample.memory.totalBytes).toBeGreaterThan(0);
    expect(sample.memory.availableBytes).toBeLessThanOrEqual(sample.memory.totalBytes);
    expect(sample.memory.usedPercent).toBeGreaterThan(0);
    expect(sample.memory.usedPercent).toBeLessThan(100);
    // Both paths are on the temp directory's file system: one disk.
    expect(sample.disks).toHaveLength(1);
    const [disk] = sample.disks;
    expect(disk?.path).toBe(dir);
    expect(dir.startsWith(disk?.mount ?? '?')).toBe(true);
    expect(disk?.usedPercent).toBeGreaterThan(0);
    expect(disk?.availableBytes).toBeLessThan(disk?.sizeBytes ?? 0);
  });
});
