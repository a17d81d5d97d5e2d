import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { NewTask } from '../../contracts/task.js';
import { AgentdError } from '../../kernel/errors.js';
import { errorMessage } from '../../kernel/timeout.js';
import { enqueueManyInto } from '../../store-kit/fast-paths.js';
import { oneLine } from '../format.js';
import { loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { withStore } from '../store-access.js';
import { parseTaskFile } from '../task-import.js';

/** `agentd import tasks.json`: enqueues the unfinished tasks of a flat JSON task file, once. */
export async function importCommand(
  io: CliIO,
  file: string,
  options: { config?: string; cwd: string; envFile?: string },
): Promise<number> {
  const path = resolve(options.cwd, file);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new AgentdError('E_IMPORT', `cannot read ${file}: ${errorMessage(error)}`);
  }
  let parsed: ReturnType<typeof parseTaskFile>;
  try {
    parsed = parseTaskFile(data);
  } catch (error) {
    throw new AgentdError('E_IMPORT', `${file}: ${errorMessage(error)}`);
  }
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  const known = checked.agentNames ?? [];
  const defaultAgent = checked.resolved.defaultAgent ?? known[0];
  // As `agentd enqueue`: a task for an agent the config lacks would only fail later.
  const tasks: NewTask[] = [];
  const unknown: string[] = [];
  for (const t of parsed.tasks) {
    const agent = t.agent || defaultAgent;
    if (agent !== undefined && known.includes(agent)) tasks.push({ ...t, agent });
    else
      unknown.push(
        `  skipped "${oneLine(t.description ?? JSON.stringify(t.input) ?? '', 60)}": ${agent === undefined ? 'no agent (add one under "agents")' : `unknown agent "${agent}" (known: ${known.join(', ') || 'none'})`}`,
      );
  }
  return withStore(checked, async (store) => {
    const results = await enqueueManyInto(store.tasks, tasks, Date.now());
    const created = results.filter((r) => r.created).length;
    io.out(
      `imported ${created} task(s) from ${file}; ${results.length - created} already imported, ${parsed.skipped.length + unknown.length} skipped`,
    );
    for (const s of parsed.skipped) io.out(`  skipped entry ${s.index}: ${s.reason}`);
    for (const line of unknown) io.out(line);
    return 0;
  });
}
