import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as util from 'node:util';
import { ConfigError } from '../kernel/errors.js';
import { errorMessage } from '../kernel/timeout.js';

/** The env file the CLI read: where, and which variables it set (names only, never values). */
export interface EnvFileUse {
  path: string;
  /** Variables taken from the file; those already set in the environment are kept as they are. */
  applied: string[];
}

/**
 * Fills `env` from an env file before the config is loaded, so `${NAME}` placeholders and
 * `process.env.NAME` in the config see the same secrets under a shell, systemd or launchd. The
 * file is `explicit` (relative to `cwd`; it must exist) or else `.env` beside the config (used
 * when present). Variables already in the environment win over the file, as with Node's
 * `--env-file`. Parsed by Node's own `util.parseEnv` (`NAME=value` lines, `#` comments, quotes,
 * `export NAME=`).
 *
 * @example
 * ```ts
 * loadEnvFile({ cwd, configPath: '/srv/bot/agentd.config.json' }); // reads /srv/bot/.env if present
 * ```
 */
export function loadEnvFile(options: {
  cwd: string;
  configPath: string;
  explicit?: string;
  env?: NodeJS.ProcessEnv;
}): EnvFileUse | undefined {
  const env = options.env ?? process.env;
  const path = options.explicit
    ? resolve(options.cwd, options.explicit)
    : join(dirname(options.configPath), '.env');
  if (!existsSync(path)) {
    if (options.explicit) throw new ConfigError(`env file not found: ${path} (--env-file)`);
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read env file ${path}: ${errorMessage(error)}`);
  }
  const parseEnv = (util as { parseEnv?: (content: string) => Record<string, string> }).parseEnv;
  if (!parseEnv) {
    throw new ConfigError(
      `reading ${path} needs Node.js 20.12 or newer (this is ${process.version}); upgrade Node or set the variables in the environment`,
    );
  }
  const applied: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    applied.push(name);
  }
  return { path, applied };
}
