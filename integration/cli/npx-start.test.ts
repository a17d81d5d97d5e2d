// `npx agentd start`, as docs/getting-started.md runs it, then SIGTERM to npx's own process: npm
// runs the bin under `sh -c` and does not pass the signal on, so the host must notice that it
// was left behind and stop by itself.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { CORE_DIR, tempProject } from '../support/temp-project.js';

let project: ReturnType<typeof tempProject> | undefined;
let hostPid: number | undefined;
afterEach(() => {
  if (hostPid !== undefined && alive(hostPid)) process.kill(hostPid, 'SIGKILL');
  hostPid = undefined;
  project?.cleanup();
  project = undefined;
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('SIGTERM to `npx agentd start` stops the host gracefully within seconds', async () => {
  project = tempProject({
    // The host writes its own pid: npx's pid is another process (npm), two levels up.
    'agentd.config.mjs': `
import { writeFileSync } from 'node:fs';
export default {
  name: 'npx-host',
  plugins: [{ name: 'pidfile', start: () => writeFileSync('host.pid', String(process.pid)) }],
};
`,
  });
  // What npm install leaves for the bin, so npx finds it locally (no registry involved).
  mkdirSync(join(project.dir, 'node_modules/.bin'));
  symlinkSync(
    join(CORE_DIR, 'bin/agentd.js'),
    join(project.dir, 'node_modules/.bin/agentd'),
    'file',
  );
  const npx = spawn('npx', ['agentd', 'start'], {
    cwd: project.dir,
    env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  npx.stdout.on('data', (d) => {
    out += d;
  });
  npx.stderr.on('data', (d) => {
    out += d;
  });
  const pidFile = join(project.dir, 'host.pid');
  await until(() => existsSync(pidFile) && out.includes('is ready'), 20_000, `host ready\n${out}`);
  hostPid = Number(readFileSync(pidFile, 'utf8'));
  expect(hostPid).not.toBe(npx.pid);

  process.kill(npx.pid!, 'SIGTERM');
  await until(() => !alive(hostPid!), 10_000, `host ${hostPid} gone\n${out}`);
  // It stopped the documented way (drain, plugins stopped), not by being killed.
  await until(() => out.includes('host \\"npx-host\\" stopped'), 2_000, `stop logged\n${out}`);
  expect(out).toContain('received SIGTERM: stopping gracefully');
});
