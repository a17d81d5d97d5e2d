import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serviceCommand } from './service.js';

/** The real `agentd` bin, so systemd-analyze finds the ExecStart program it verifies. */
const CLI = fileURLToPath(new URL('../../../bin/agentd.js', import.meta.url));

let dir: string;
beforeEach(() => {
  // A space and a % in the path: both need quoting or escaping in a unit file.
  dir = mkdtempSync(join(tmpdir(), 'agentd service 100%-'));
  writeFileSync(
    join(dir, 'agentd.config.mjs'),
    `export default { name: 'Home Bot', timeouts: { drainMs: 20000, stopMs: 5000 } };\n`,
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function print(kind: string, extra: { system?: boolean; envFile?: string } = {}) {
  const out: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
  const code = await serviceCommand(io, kind, {
    cwd: dir,
    node: '/usr/bin/node',
    bin: '/opt/agentd/bin/agentd.js',
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', USER: 'ada' },
    ...extra,
  });
  return { code, text: out.join('\n') };
}

describe('agentd service print', () => {
  it('prints a systemd user unit that restarts always and stops gracefully', async () => {
    const { code, text } = await print('systemd');
    expect(code).toBe(0);
    const config = join(dir, 'agentd.config.mjs').replace(/%/g, '%%');
    expect(text).toContain('# Save as ~/.config/systemd/user/agentd-home-bot.service, then:');
    expect(text).toContain(
      'systemctl --user daemon-reload && systemctl --user enable --now agentd-home-bot',
    );
    expect(text).toContain('loginctl enable-linger');
    expect(text).toContain('Description=agentd host "Home Bot"');
    expect(text).toContain(`WorkingDirectory=${dir.replace(/%/g, '%%')}`);
    expect(text).toContain(
      `ExecStart=/usr/bin/node /opt/agentd/bin/agentd.js start --config "${config}"`,
    );
    expect(text).toContain('Restart=always');
    expect(text).toContain('KillMode=mixed');
    // The drain (20 s), then each plugin's stop (5 s; here the built-in chat commands and
    // notifier), plus a 5 s margin.
    expect(text).toContain('TimeoutStopSec=35');
    expect(text).toContain('Environment=PATH=/usr/local/bin:/usr/bin:/bin');
    expect(text).toContain('WantedBy=default.target');
    expect(text).not.toContain('User=');
  });

  it('prints a system unit with a user, reading the secrets from the .env beside the config', async () => {
    writeFileSync(join(dir, '.env'), 'SECRET=1\n');
    const { text } = await print('systemd', { system: true });
    expect(text).toContain('# Save as /etc/systemd/system/agentd-home-bot.service, then:');
    expect(text).toContain('User=ada');
    const envFile = join(dir, '.env').replace(/%/g, '%%');
    expect(text).toContain(`EnvironmentFile=-${envFile}\n`);
    expect(text).toContain(`# Secrets: ${join(dir, '.env')}, never this file.`);
    // agentd finds the .env beside its config by itself, so the command names no file.
    expect(text).toMatch(/^ExecStart=.* start --config "[^"]+"$/m);
    expect(text).not.toContain('SECRET');
    expect(text).toContain('WantedBy=multi-user.target');
  });

  it('references an --env-file in the unit and in the command, under both managers', async () => {
    writeFileSync(join(dir, 'secrets.env'), 'SECRET=1\n');
    const envFile = join(dir, 'secrets.env');
    const systemd = await print('systemd', { envFile: 'secrets.env' });
    expect(systemd.text).toContain(`EnvironmentFile=${envFile.replace(/%/g, '%%')}\n`);
    expect(systemd.text).toMatch(
      /^ExecStart=.* start --config "[^"]+" --env-file "[^"]+secrets\.env"$/m,
    );
    const launchd = await print('launchd', { envFile: 'secrets.env' });
    expect(launchd.text).toContain('<string>--env-file</string>');
    expect(launchd.text).toContain(`<string>${envFile}</string>`);
    expect(launchd.text).toContain(`Secrets: agentd start reads ${envFile}; keep them out`);
    for (const text of [systemd.text, launchd.text]) expect(text).not.toContain('SECRET');
  });

  it('prints a launchd agent plist, escaped as XML', async () => {
    const { code, text } = await print('launchd');
    expect(code).toBe(0);
    expect(text).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    expect(text).toContain('<key>Label</key><string>dev.agentd.home-bot</string>');
    expect(text).toContain('~/Library/LaunchAgents/dev.agentd.home-bot.plist');
    expect(text).toContain('launchctl bootstrap gui/$(id -u)');
    expect(text).toContain('<string>/usr/bin/node</string>');
    expect(text).toContain('<string>start</string>');
    expect(text).toContain(`<string>${join(dir, 'agentd.config.mjs')}</string>`);
    expect(text).toContain('<key>KeepAlive</key><true/>');
    expect(text).toContain('<key>RunAtLoad</key><true/>');
    expect(text).not.toContain('UserName');
    const comment = text.slice(text.indexOf('<!--') + 4, text.indexOf('-->'));
    expect(comment).not.toContain('--');
  });

  it('prints a launchd daemon with a user name', async () => {
    const { text } = await print('launchd', { system: true });
    expect(text).toContain('/Library/LaunchDaemons/dev.agentd.home-bot.plist');
    expect(text).toContain('<key>UserName</key><string>ada</string>');
    expect(text).toContain('sudo launchctl bootstrap system');
  });

  it.skipIf(!existsSync('/usr/bin/systemd-analyze'))(
    'writes units that systemd-analyze verify accepts',
    async () => {
      for (const system of [false, true]) {
        const out: string[] = [];
        await serviceCommand({ out: (l) => out.push(l), err: () => {} }, 'systemd', {
          cwd: dir,
          bin: CLI,
          system,
        });
        const file = join(dir, `agentd-test-${system ? 'system' : 'user'}.service`);
        writeFileSync(file, out.join('\n'));
        // Throws with systemd's complaint on a bad unit.
        execFileSync('/usr/bin/systemd-analyze', ['verify', file], { stdio: 'pipe' });
      }
    },
  );

  it('refuses an unknown service manager', async () => {
    await expect(print('upstart')).rejects.toThrow(
      'unknown service manager "upstart" (use systemd or launchd)',
    );
  });
});
