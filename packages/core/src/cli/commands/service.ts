import { existsSync, realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { AgentdError } from '../../kernel/errors.js';
import { type CheckedConfig, loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';

/** Service managers `agentd service print` writes definitions for. */
export type ServiceKind = 'systemd' | 'launchd';

/** Options of {@link serviceCommand}. */
export interface ServiceOptions {
  config?: string;
  cwd: string;
  /** `--env-file`: the file the service reads its secrets from (default `.env` beside the config). */
  envFile?: string;
  /** A system-wide service (systemd system unit, launchd daemon) instead of a per-user one. */
  system?: boolean;
  /** Node executable (default: the one running this command). */
  node?: string;
  /** The agentd bin script (default: the project's node_modules/@agentd/core/bin/agentd.js). */
  bin?: string;
  /** Environment variables at print time (default `process.env`): PATH, USER. */
  env?: NodeJS.ProcessEnv;
}

/** What both definitions are built from. */
interface ServiceFacts {
  name: string;
  /** `agentd-<host name>`, safe as a unit file name. */
  id: string;
  workingDir: string;
  dataDir: string;
  args: string[];
  path: string;
  user: string;
  /** Seconds to wait for a graceful stop before killing: drain plus every plugin's stop. */
  stopTimeoutSec: number;
  /** The env file holding the secrets: `--env-file`, else `.env` beside the config. */
  envFile: string;
  /** Whether it existed when printed (a default `.env` may be created later). */
  envFileExists: boolean;
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9_.-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'host'
  );
}

function findBin(checked: CheckedConfig, options: ServiceOptions): string {
  if (options.bin) return options.bin;
  const local = join(checked.baseDir, 'node_modules', '@agentd', 'core', 'bin', 'agentd.js');
  if (existsSync(local)) return realpathSync(local);
  const running = process.argv[1];
  if (running && /agentd(\.js)?$/.test(basename(running)) && existsSync(running)) {
    return realpathSync(running);
  }
  throw new AgentdError(
    'E_USAGE',
    `cannot find the agentd bin for ${checked.path}: install @agentd/core in that project, or pass --bin <path>`,
  );
}

function facts(checked: CheckedConfig, options: ServiceOptions): ServiceFacts {
  const env = options.env ?? process.env;
  const node = options.node ?? process.execPath;
  // The secrets stay in the env file, never in the service definition. agentd reads the `.env`
  // beside the config by itself; a file named with --env-file is passed on to `agentd start`.
  const envFile = checked.envFile?.path ?? join(checked.baseDir, '.env');
  const envArgs = options.envFile ? ['--env-file', envFile] : [];
  const { timeouts } = checked.resolved;
  const stopTimeoutSec =
    Math.ceil((timeouts.drainMs + timeouts.stopMs * Math.max(1, checked.order.length)) / 1000) + 5;
  return {
    name: checked.resolved.name,
    id: `agentd-${slug(checked.resolved.name)}`,
    workingDir: checked.baseDir,
    dataDir: checked.resolved.dataDir,
    args: [node, findBin(checked, options), 'start', '--config', checked.path, ...envArgs],
    path: env.PATH || `${dirname(node)}:/usr/local/bin:/usr/bin:/bin`,
    user: env.USER || userInfo().username,
    stopTimeoutSec,
    envFile,
    envFileExists: existsSync(envFile),
  };
}

/** Quotes one ExecStart word: `%` and `$` would otherwise be expanded by systemd. */
function systemdWord(arg: string): string {
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * A systemd unit for the host: restarts always (5 s apart), stops with SIGTERM to agentd alone
 * (`KillMode=mixed`, so agentd drains and stops its own children) within the config's drain and
 * stop limits, and logs to the journal.
 *
 * @example
 * ```ts
 * systemdUnit(checked, { cwd, system: false }); // '[Unit]\nDescription=agentd host "home-bot"…'
 * ```
 */
export function systemdUnit(checked: CheckedConfig, options: ServiceOptions): string {
  const f = facts(checked, options);
  const file = options.system
    ? `/etc/systemd/system/${f.id}.service`
    : `~/.config/systemd/user/${f.id}.service`;
  const ctl = options.system ? 'sudo systemctl' : 'systemctl --user';
  return [
    `# agentd host "${f.name}" as a systemd ${options.system ? 'system' : 'user'} service.`,
    `# Save as ${file}, then:`,
    `#   ${ctl} daemon-reload && ${ctl} enable --now ${f.id}`,
    ...(options.system
      ? []
      : ['#   loginctl enable-linger "$USER"   # start at boot and keep running after logout']),
    `# Logs: journalctl ${options.system ? '' : '--user '}-u ${f.id} -f`,
    `# Status: ${ctl} status ${f.id}   (or: agentd status)`,
    `# Secrets: ${f.envFile}${f.envFileExists ? '' : ' (create it, mode 600)'}, never this file.`,
    '',
    '[Unit]',
    `Description=agentd host "${f.name}"`,
    'After=network-online.target',
    'Wants=network-online.target',
    // Give up only on a crash loop: 10 starts in 5 minutes.
    'StartLimitIntervalSec=300',
    'StartLimitBurst=10',
    '',
    '[Service]',
    'Type=simple',
    ...(options.system ? [`User=${f.user}`] : []),
    // A path setting, not a command line: taken literally (spaces too), only specifiers expand.
    `WorkingDirectory=${f.workingDir.replace(/%/g, '%%')}`,
    // Secrets from the env file (systemd reads it too, so plain NAME=value lines); `-`: a
    // default .env that does not exist yet is no error.
    `EnvironmentFile=${options.envFile ? '' : '-'}${f.envFile.replace(/%/g, '%%')}`,
    `ExecStart=${f.args.map(systemdWord).join(' ')}`,
    'Environment=NODE_ENV=production',
    `Environment=${systemdWord(`PATH=${f.path}`)}`,
    'Restart=always',
    'RestartSec=5',
    'KillSignal=SIGTERM',
    'KillMode=mixed',
    `TimeoutStopSec=${f.stopTimeoutSec}`,
    `SyslogIdentifier=${f.id}`,
    'NoNewPrivileges=true',
    '',
    '[Install]',
    `WantedBy=${options.system ? 'multi-user.target' : 'default.target'}`,
    '',
  ].join('\n');
}

function xml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * A launchd property list for the host: started at load, kept alive (restarted whenever it
 * exits, at most every 10 s), given the config's drain and stop limits to exit on SIGTERM.
 *
 * @example
 * ```ts
 * launchdPlist(checked, { cwd, system: false }); // '<?xml version="1.0"…'
 * ```
 */
export function launchdPlist(checked: CheckedConfig, options: ServiceOptions): string {
  const f = facts(checked, options);
  const label = `dev.agentd.${slug(f.name)}`;
  const file = options.system
    ? `/Library/LaunchDaemons/${label}.plist`
    : `~/Library/LaunchAgents/${label}.plist`;
  const domain = options.system ? 'system' : 'gui/$(id -u)';
  const sudo = options.system ? 'sudo ' : '';
  const log = join(f.dataDir, 'agentd.log');
  const s = (v: string) => `<string>${xml(v)}</string>`;
  // `--` may not appear inside an XML comment.
  const comment = (v: string) => v.replace(/--/g, '- -');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<!--',
    comment(
      `  agentd host "${f.name}" as a launchd ${options.system ? 'daemon (runs without a login)' : 'agent (runs while you are logged in)'}.`,
    ),
    comment(`  Save as ${file}${options.system ? ' (owned by root, mode 644)' : ''}, then:`),
    comment(`    mkdir -p "${f.dataDir}"`),
    comment(`    ${sudo}launchctl bootstrap ${domain} ${file}`),
    comment(`  Stop and remove: ${sudo}launchctl bootout ${domain} ${file}`),
    comment(`  Logs: ${log}`),
    comment(
      `  Secrets: agentd start reads ${f.envFile}${f.envFileExists ? '' : ' (when it exists)'}; keep them out of this file.`,
    ),
    '-->',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key>${s(label)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...f.args.map((a) => `    ${s(a)}`),
    '  </array>',
    `  <key>WorkingDirectory</key>${s(f.workingDir)}`,
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    `    <key>NODE_ENV</key>${s('production')}`,
    `    <key>PATH</key>${s(f.path)}`,
    '  </dict>',
    ...(options.system ? [`  <key>UserName</key>${s(f.user)}`] : []),
    '  <key>RunAtLoad</key><true/>',
    '  <key>KeepAlive</key><true/>',
    '  <key>ThrottleInterval</key><integer>10</integer>',
    `  <key>ExitTimeOut</key><integer>${f.stopTimeoutSec}</integer>`,
    '  <key>ProcessType</key><string>Background</string>',
    `  <key>StandardOutPath</key>${s(log)}`,
    `  <key>StandardErrorPath</key>${s(log)}`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

/**
 * `agentd service print systemd|launchd [--system]`: prints a service definition that runs the
 * config's host 24/7 (started at boot or login, restarted when it exits, stopped gracefully),
 * with install steps as comments. Nothing is installed: redirect the output to the file named
 * in its first lines.
 *
 * @example
 * ```ts
 * await serviceCommand(processIO, 'systemd', { cwd: process.cwd() });
 * ```
 */
export async function serviceCommand(
  io: CliIO,
  kind: string,
  options: ServiceOptions,
): Promise<number> {
  if (kind !== 'systemd' && kind !== 'launchd') {
    throw new AgentdError('E_USAGE', `unknown service manager "${kind}" (use systemd or launchd)`);
  }
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
  });
  const text = kind === 'systemd' ? systemdUnit(checked, options) : launchdPlist(checked, options);
  io.out(text.trimEnd());
  return 0;
}
