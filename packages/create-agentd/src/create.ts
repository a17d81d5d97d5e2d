import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Choices, CreateError } from './choices.js';
import { projectFiles } from './project-files.js';

/**
 * Writes a new agentd project into `folder` (created if missing). Refuses a folder that exists
 * and is not empty, before writing anything.
 *
 * @example
 * ```ts
 * createProject('my-host', { name: 'my-host', channels: ['http'], agent: 'echo', baseUrl: '', model: '', agentdRange: '^0.1.0' });
 * ```
 */
export function createProject(folder: string, choices: Choices): string[] {
  const dir = resolve(folder);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) {
      throw new CreateError(`${folder} exists and is not a folder: choose another name`);
    }
    const entries = readdirSync(dir);
    if (entries.length > 0) {
      throw new CreateError(
        `${folder} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}): choose a new or empty folder, nothing was written`,
      );
    }
  }
  const files = projectFiles(choices);
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content, path === '.env' ? { mode: 0o600 } : {});
  }
  return Object.keys(files);
}
